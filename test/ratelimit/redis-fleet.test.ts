/**
 * The fleet: P real child processes, each with its own RedisRateLimitStore (own connection, own
 * leases), on one Redis budget. Real time where Redis keeps it: the pacing phase runs ~2 s.
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  commandStats,
  type RedisServer,
  startRedis,
  testPrefix,
  closeClient,
} from '../helpers/redis-server.js'
import { forkFleetChild, stopFleetChildren } from '../helpers/fleet-child.js'

const P = 3
const worker = fileURLToPath(new URL('./fleet/fleet-worker.ts', import.meta.url))

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => redis.stop())

interface Worker {
  child: ChildProcess
  next(type: string): Promise<Record<string, unknown>>
}

async function startFleet(prefix: string): Promise<Worker[]> {
  return Promise.all(
    Array.from({ length: P }, async (_, i) => {
      const child = forkFleetChild(worker, { FLEET_REDIS_PORT: String(redis.port), FLEET_PREFIX: prefix })
      const inbox: Record<string, unknown>[] = []
      const waiting = new Map<string, (m: Record<string, unknown>) => void>()
      child.on('message', (m: Record<string, unknown>) => {
        const resolve = waiting.get(String(m.type))
        if (resolve) {
          waiting.delete(String(m.type))
          resolve(m)
        } else inbox.push(m)
      })
      const next = (type: string) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const at = inbox.findIndex((m) => m.type === type)
          if (at >= 0) return resolve(inbox.splice(at, 1)[0]!)
          waiting.set(type, resolve)
          child.once('exit', (code) => reject(new Error(`fleet worker ${i} exited with ${code}`)))
        })
      await next('ready')
      return { child, next }
    }),
  )
}

async function stopFleet(workers: Worker[]): Promise<void> {
  await stopFleetChildren(workers.map((w) => w.child))
}

const scripts = (s: Record<string, number>): number => (s.evalsha ?? 0) + (s.eval ?? 0)

describe('a fleet of processes on one Redis budget', () => {
  it('L2 P processes share one budget per service: together they use it exactly, at well under one Redis command per call; waiting calls are paced to the budget across the fleet', async () => {
    const workers = await startFleet(testPrefix('rl-fleet'))
    const admin = redis.client()
    try {
      // Drain: an hour-long window of 600 requests (refill during the test is far below one).
      const before = scripts(await commandStats(admin))
      workers.forEach((w) =>
        w.child.send({ cmd: 'drain', service: 'drain', requests: 600, windowMs: 3_600_000 }),
      )
      const drained = await Promise.all(workers.map((w) => w.next('drained')))
      const went = drained.reduce((sum, m) => sum + Number(m.went), 0)
      const commands = scripts(await commandStats(admin)) - before
      expect(went).toBeGreaterThanOrEqual(598)
      expect(went).toBeLessThanOrEqual(601)
      expect(commands / went).toBeLessThan(0.5)

      // Pace: 40 a second, 5 callers in each process wanting more, for 2 s.
      const RATE = 40
      const DURATION = 2_000
      workers.forEach((w) =>
        w.child.send({
          cmd: 'pace',
          service: 'pace',
          requests: RATE,
          windowMs: 1_000,
          durationMs: DURATION,
          concurrency: 5,
        }),
      )
      const paced = await Promise.all(workers.map((w) => w.next('paced')))
      const starts = paced.flatMap((m) => m.starts as number[]).sort((a, b) => a - b)
      expect(paced.flatMap((m) => m.errors as string[])).toEqual([])
      const budget = RATE + (RATE * DURATION) / 1_000 // the whole bucket, then its refill
      expect(starts.length).toBeLessThanOrEqual(budget + 2)
      expect(starts.length).toBeGreaterThanOrEqual(0.8 * budget)
      // The bucket's own law, across the fleet: between any two calls, no more ran than the
      // bucket holds plus its refill in between (and a call of slack for timer granularity).
      let worst = 0
      for (let i = 0; i < starts.length; i++) {
        for (let j = i; j < starts.length; j++) {
          worst = Math.max(worst, j - i + 1 - (RATE + (RATE * (starts[j]! - starts[i]!)) / 1_000))
        }
      }
      expect(worst).toBeLessThanOrEqual(1)
    } finally {
      await closeClient(admin)
      await stopFleet(workers)
    }
  }, 60_000)
})
