/**
 * One process of the rate limit fleet test: a guard on its own RedisRateLimitStore (its own
 * connection and leases), told over IPC what to do: 'drain' calls until the budget refuses one;
 * 'pace' keeps `concurrency` callers going for `durationMs`, waiting for budget, and reports when
 * each call ran (wall clock).
 * Run with: node --experimental-transform-types --import ../../helpers/register-ts.mjs fleet-worker.ts
 */
import { Redis } from 'ioredis'
import { isRateLimitError } from '../../../src/core/errors/rate-limit-error.js'
import { rateLimitGuard } from '../../../src/ratelimit/rate-limit-guard.js'
import { RedisRateLimitStore } from '../../../src/ratelimit/redis/redis-rate-limit-store.js'
import { sendToParent, serveFleetChild } from '../../helpers/fleet-child.js'

type Command =
  | { cmd: 'drain'; service: string; requests: number; windowMs: number }
  | {
      cmd: 'pace'
      service: string
      requests: number
      windowMs: number
      durationMs: number
      concurrency: number
    }
  | { cmd: 'stop' }

const quiet = (): void => {}
const port = Number(process.env.FLEET_REDIS_PORT)
const client = new Redis({ port, lazyConnect: true })
const store = new RedisRateLimitStore({
  client,
  prefix: process.env.FLEET_PREFIX!,
  logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
})

async function drain(c: Extract<Command, { cmd: 'drain' }>): Promise<void> {
  const guard = rateLimitGuard({ requests: c.requests, windowMs: c.windowMs, maxWaitMs: 0, store })
  let went = 0
  for (;;) {
    const r = await guard.execute(() => 'ok', { service: c.service }).catch((e: unknown) => e)
    if (isRateLimitError(r)) break
    if (r !== 'ok') throw r
    went++
  }
  await sendToParent({ type: 'drained', went })
}

async function pace(c: Extract<Command, { cmd: 'pace' }>): Promise<void> {
  const guard = rateLimitGuard({ requests: c.requests, windowMs: c.windowMs, maxWaitMs: 10_000, store })
  const starts: number[] = []
  const errors: string[] = []
  const until = Date.now() + c.durationMs
  const caller = async (): Promise<void> => {
    while (Date.now() < until) {
      await guard
        .execute(
          () => {
            if (Date.now() < until) starts.push(Date.now())
          },
          { service: c.service },
        )
        .catch((e: unknown) => errors.push(String(e)))
    }
  }
  await Promise.all(Array.from({ length: c.concurrency }, caller))
  await sendToParent({ type: 'paced', starts, errors })
}

serveFleetChild<Command>({
  ready: () => store.ready(),
  run: (c) => (c.cmd === 'drain' ? drain(c) : pace(c)),
  async stop() {
    await store.close()
    client.disconnect()
    process.disconnect()
  },
})
