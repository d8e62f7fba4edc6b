/**
 * The fleet: P real child processes, one call at a time each, against a local HTTP provider that
 * goes down. With one shared Redis breaker the dead provider sees at most threshold + P requests
 * before the first probe, then exactly one request per half-open episode; with per-process
 * in-memory breakers it sees P × threshold, then about P per episode.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TS_LOADER } from '../helpers/fleet-child.js'
import { type RedisServer, startRedis, testPrefix } from '../helpers/redis-server.js'
import { type FleetCall, startFleet, startProvider as startScriptedProvider } from './fleet/fleet-harness.js'

const P = 4
const THRESHOLD = 3
const RECOVERY_MS = 200
const DOWN_MS = 1_100
const worker = fileURLToPath(new URL('./fleet/fleet-worker.ts', import.meta.url))

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => redis.stop())

interface Provider {
  url: string
  down: boolean
  /** Arrival time of every request that reached the provider while it was down. */
  deadHits: number[]
  close(): Promise<void>
}

async function startProvider(): Promise<Provider> {
  const provider = { down: false, deadHits: [] as number[] } as Provider
  const server: Server = createServer((_req, res) => {
    if (provider.down) {
      provider.deadHits.push(performance.now())
      res.writeHead(503).end('down')
    } else res.writeHead(200).end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  provider.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`
  provider.close = () => new Promise((resolve) => server.close(() => resolve()))
  return provider
}

/** Runs the fleet through an outage; returns the provider's dead hits grouped by half-open episode. */
async function outage(mode: 'redis' | 'memory'): Promise<number[][]> {
  const provider = await startProvider()
  const prefix = testPrefix('fleet') // one breaker for the whole fleet
  const children: ChildProcess[] = []
  const okAfter = new Array<number>(P).fill(0)
  let upAgain = false
  const everyone = (predicate: (i: number) => boolean) =>
    new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (okAfter.every((_, i) => predicate(i))) {
          clearInterval(check)
          resolve()
        }
      }, 10)
    })
  try {
    const readyAll = Promise.all(
      Array.from({ length: P }, (_, i) => {
        const child = fork(worker, [], {
          execArgv: TS_LOADER,
          env: {
            ...process.env,
            FLEET_MODE: mode,
            FLEET_PROVIDER_URL: provider.url,
            FLEET_THRESHOLD: String(THRESHOLD),
            FLEET_RECOVERY_MS: String(RECOVERY_MS),
            FLEET_REDIS_PORT: String(redis.port),
            FLEET_PREFIX: prefix,
          },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
        children.push(child)
        return new Promise<void>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`fleet worker ${i} exited early with ${code}`)))
          child.on('message', (m: { type: string; outcome?: string }) => {
            if (m.type === 'ready') resolve()
            if (m.type === 'call' && m.outcome === 'ok' && (upAgain || !provider.down)) okAfter[i]!++
          })
        })
      }),
    )
    await readyAll
    await everyone((i) => okAfter[i]! >= 3) // the whole fleet is calling a healthy provider
    provider.down = true
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS)) // the outage: real time on purpose
    okAfter.fill(0)
    upAgain = true
    provider.down = false
    await everyone((i) => okAfter[i]! >= 1) // recovery reached every process
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.removeAllListeners('exit')
            if (child.exitCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.send('stop')
          }),
      ),
    )
    await provider.close()
  }
  // Nothing reaches a dead provider for RECOVERY_MS between episodes: a gap of half that splits them.
  const episodes: number[][] = []
  let last = Number.NEGATIVE_INFINITY
  for (const t of provider.deadHits) {
    if (t - last > RECOVERY_MS / 2) episodes.push([])
    episodes.at(-1)!.push(t)
    last = t
  }
  return episodes
}

describe('fleet of processes sharing one breaker', () => {
  it('D3 P processes on one Redis breaker: at most threshold + P requests reach a dead provider before the first probe, then one per half-open episode; per-process breakers leak P × threshold', async () => {
    const shared = await outage('redis')
    const separate = await outage('memory')
    const sizes = (e: number[][]) => e.map((x) => x.length)
    const total = (e: number[][]) => sizes(e).reduce((a, b) => a + b, 0)

    expect(shared[0]!.length).toBeGreaterThanOrEqual(THRESHOLD)
    expect(shared[0]!.length).toBeLessThanOrEqual(THRESHOLD + P)
    expect(shared.length).toBeGreaterThanOrEqual(3) // several half-open episodes during the outage
    expect(sizes(shared.slice(1))).toEqual(new Array(shared.length - 1).fill(1))

    // Each process needs its own `threshold` failures (a slow one may land in the next episode).
    expect(total(separate)).toBeGreaterThanOrEqual(P * THRESHOLD)
    expect(separate[0]!.length).toBeGreaterThan(THRESHOLD + P)
    expect(Math.max(...sizes(separate.slice(1)))).toBeGreaterThan(1) // every process probes on its own
    expect(total(separate)).toBeGreaterThan(2 * total(shared))
  }, 60_000)
})

describe('fleet of processes meeting a provider cooldown', () => {
  it('D6 a fleet of 4 processes, 8 callers each, every caller meeting one 429 with Retry-After: all succeed, no refusal but the cooldown, and once it ended every admission is allowed', async () => {
    const CALLERS = 8
    const RETRY_AFTER_MS = 300
    const provider = await startScriptedProvider()
    // Every caller's first request is held until all P × CALLERS have arrived, then all get the 429.
    provider.limitBurst(P * CALLERS, RETRY_AFTER_MS)
    const fleet = await startFleet({
      processes: P,
      provider,
      threshold: THRESHOLD,
      recoveryMs: 5_000, // an outage would take long to recover: any half-open gate would show
      redis: { port: redis.port },
      prefix: testPrefix('fleet-cooldown'),
      scenario: 'burst',
      callers: CALLERS,
    })
    try {
      await Promise.all(Array.from({ length: P }, (_, i) => fleet.ask(i, { type: 'go' }, 'burst-done')))
      const calls: FleetCall[] = fleet.calls
      const refusedOtherwise = calls.filter((c) => c.outcome === 'rejected' && c.reason !== 'cooldown')
      expect(refusedOtherwise).toEqual([])
      expect(calls.filter((c) => c.outcome === 'error')).toEqual([])
      // Each caller met exactly its one 429, then succeeded: nothing else reached the provider.
      expect(provider.answered.get(429)).toBe(P * CALLERS)
      expect(provider.answered.get(200)).toBe(P * CALLERS)
      expect(calls.filter((c) => c.outcome === 'ok')).toHaveLength(P * CALLERS)
      // Once the cooldown is over (a late 429 may have extended it, as seen by each process), every
      // process admits every call: no probe gate, no extra denial.
      const answers = await fleet.askAll<{ type: 'admitted'; kinds: string[]; waited: number }>(
        { type: 'admit', count: 20, afterCooldown: true },
        'admitted',
      )
      expect(answers.map((a) => a.kinds)).toEqual(answers.map(() => new Array(20).fill('allow')))
      const states = await fleet.askAll<{ type: 'status'; backend: string; state: string }>(
        { type: 'status' },
        'status',
      )
      expect(states).toEqual(states.map(() => ({ type: 'status', backend: 'redis', state: 'closed' })))
    } finally {
      await fleet.stop()
      await provider.close()
    }
  }, 60_000)

  it('D6 R7 1 000 callers through llmGuard across 4 processes, each meeting one 429 with Retry-After: every caller succeeds', async () => {
    const CALLERS = 250
    const provider = await startScriptedProvider()
    provider.limitBurst(P * CALLERS, 100)
    const fleet = await startFleet({
      processes: P,
      provider,
      threshold: THRESHOLD,
      recoveryMs: 30_000, // the preset's default: a half-open gate would strand callers for good
      redis: { port: redis.port },
      prefix: testPrefix('fleet-llm-burst'),
      scenario: 'burst',
      callers: CALLERS,
      guard: 'llm',
    })
    try {
      await Promise.all(Array.from({ length: P }, (_, i) => fleet.ask(i, { type: 'go' }, 'burst-done')))
      const calls: FleetCall[] = fleet.calls
      expect(calls.filter((c) => c.outcome !== 'ok')).toEqual([])
      expect(calls).toHaveLength(P * CALLERS)
      expect(provider.answered.get(429)).toBe(P * CALLERS)
      expect(provider.answered.get(200)).toBe(P * CALLERS)
    } finally {
      await fleet.stop()
      await provider.close()
    }
  }, 60_000)
})
