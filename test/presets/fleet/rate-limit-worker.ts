/**
 * One process of the rate-limit fleet test: the real `openai` SDK wrapped with
 * `wrapOpenAI(client, llmGuard({ rateLimit: { requests, store: RedisRateLimitStore } }))`, told over
 * IPC to keep `concurrency` callers going against the fake provider for `durationMs` and to report
 * how many calls succeeded and every error a caller saw.
 * Run with: node --experimental-transform-types --import ../../helpers/register-ts.mjs rate-limit-worker.ts
 */
import { Redis } from 'ioredis'
import OpenAI from 'openai'
import { llmGuard } from '../../../src/presets/llm-guard.js'
import { wrapOpenAI } from '../../../src/providers/wrap-openai.js'
import { RedisRateLimitStore } from '../../../src/ratelimit/redis/redis-rate-limit-store.js'
import { sendToParent, serveFleetChild } from '../../helpers/fleet-child.js'

export type Command =
  | {
      cmd: 'run'
      baseURL: string
      /** The provider's budgets are per API key. */
      apiKey: string
      /** The service is `openai:<model>`: a new model is a new budget in Redis. */
      model: string
      /** The budget the guard is configured with (the provider's, or a wrong one to be corrected). */
      requests: number
      windowMs: number
      durationMs: number
      concurrency: number
    }
  | { cmd: 'stop' }

export interface RunReport {
  type: 'ran'
  ok: number
  errors: string[]
}

const client = new Redis({ port: Number(process.env.FLEET_REDIS_PORT), lazyConnect: true })
const store = new RedisRateLimitStore({
  client,
  prefix: process.env.FLEET_PREFIX!,
  logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
})

async function run(c: Extract<Command, { cmd: 'run' }>): Promise<void> {
  const guard = llmGuard({
    rateLimit: { requests: c.requests, windowMs: c.windowMs, maxWaitMs: 10_000, store },
    // Every caller has one call out at a time: the default limits never shed them.
  })
  const openai = wrapOpenAI(new OpenAI({ apiKey: c.apiKey, baseURL: c.baseURL }), guard)
  let ok = 0
  const errors: string[] = []
  const until = Date.now() + c.durationMs
  const caller = async (n: number): Promise<void> => {
    for (let i = 0; Date.now() < until; i++) {
      try {
        await openai.chat.completions.create({
          model: c.model,
          messages: [{ role: 'user', content: `caller ${n} call ${i}` }],
          max_tokens: 8,
        })
        ok++
      } catch (error) {
        errors.push(String(error))
      }
    }
  }
  await Promise.all(Array.from({ length: c.concurrency }, (_, n) => caller(n)))
  await sendToParent({ type: 'ran', ok, errors } satisfies RunReport)
}

serveFleetChild<Command>({
  ready: () => store.ready(),
  run,
  async stop() {
    await store.close()
    client.disconnect()
    process.disconnect()
  },
})
