/**
 * D5, D7 on a real Redis Cluster of 3 masters + 3 replicas (one per file, shared by its tests):
 * CLUSTER FAILOVER of the master that owns a service, a hung master replaced by its replica, a
 * failover to a replica that missed the write, and a kill -9 of the owning master while a fleet of
 * 4 processes calls a dead provider. Real time only where the servers must act (failovers, the
 * fleet's outage).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { breakerKey } from '../../src/circuit/backends/redis/redis-keys.js'
import { type CircuitGuard, circuitGuard } from '../../src/circuit/circuit-guard.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { type RedisClusterHandle, startRedisCluster, withNode } from '../helpers/redis-cluster.js'
import { closeClient, testPrefix } from '../helpers/redis-server.js'
import { type FleetCall, startFleet, startProvider } from './fleet/fleet-harness.js'
import {
  backendFactory,
  config,
  isPromise,
  linesWith,
  memoryLogger,
  nextChange,
  warm,
} from './redis-fixtures.js'

let cluster: RedisClusterHandle
const backends = backendFactory(() => cluster.client({ lazyConnect: true }))
beforeAll(async () => {
  cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: 1_500 })
}, 60_000)
afterAll(async () => cluster.stop())
afterEach(() => backends.closeAll())

const c = config({ threshold: 2, recoveryMs: 60_000, maxRecoveryMs: 60_000 })

/** Resolves once `predicate` holds, checked every 10 ms (bounded: a failover may take seconds). */
async function eventually(what: string, predicate: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** `promise`, or an error naming the step when it has not settled within 10 s (a hang says where it hung). */
function step<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting for ${what} after 10 s`)), 10_000)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** Calls through `g` every few ms until stopped; then resolves with every result ('ok' or what it threw). */
function keepCalling(g: CircuitGuard): { stop(): Promise<unknown[]> } {
  const results: unknown[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      results.push(await g.execute(() => 'ok').catch((e: unknown) => e))
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return results
    },
  }
}

/** A caller saw only successes and BrokenCircuitErrors: no Redis error, no timeout. */
const callerErrors = (results: unknown[]): unknown[] =>
  results.filter((r) => r !== 'ok' && !isBrokenCircuitError(r))

describe('Redis Cluster faults (D5, D7)', () => {
  it('D7 CLUSTER FAILOVER of the owning master: the sharded subscription Redis ended is noticed and made again; a change in one process reaches the other by message', async () => {
    const lb = memoryLogger()
    const a = backends.make()
    const b = backends.make({ logger: lb, maxCacheAgeMs: 60_000 }) // only a message can change its mind
    await Promise.all([a.ready(), b.ready()])
    const states: unknown[] = []
    b.onBackendStateChange((e) => states.push(e))
    const service = 'provider:failover'
    await warm(a, service, c)
    await warm(b, service, c)
    const calling = keepCalling(circuitGuard({ backend: a, threshold: 2, recoveryMs: 60_000, service }))
    const master = await cluster.masterOf(breakerKey(backends.prefix, service))
    await step('the failover', cluster.failover(await cluster.replicaOf(master)))
    // Redis ended the subscription (sunsubscribe) without closing the connection: noticed at once.
    await eventually('the loss to be noticed', () => linesWith(lb, 'subscriptions').length > 0)
    expect(linesWith(lb, 'subscriptions')).toEqual([expect.stringMatching(/Redis ended it/)])
    const asked = b.admit(service, c)
    expect(isPromise(asked)).toBe(true) // its cached state no longer answers
    await step('b to ask Redis', Promise.resolve(asked))
    expect(await step('b to subscribe again', warm(b, service, c))).toEqual({ kind: 'allow' }) // subscribed again
    await step('a to warm', warm(a, service, c))
    const opened = nextChange(b, service, 'open')
    await a.isolate(service, c)
    await step("b to hear a's isolate", opened)
    expect(b.admit(service, c)).toMatchObject({ kind: 'deny', state: 'open' })
    const closed = nextChange(b, service, 'closed')
    await a.reset(service, c)
    await step("b to hear a's reset", closed)
    expect(b.admit(service, c)).toEqual({ kind: 'allow' })
    const results = await calling.stop()
    expect(callerErrors(results)).toEqual([])
    expect(results.filter((r) => r === 'ok').length).toBeGreaterThan(0)
    expect(linesWith(lb, 'subscriptions')).toHaveLength(1) // one line for the one loss
    expect(states).toEqual([]) // no fallback: the failover never reached the callers
    await cluster.settled()
  }, 30_000)

  it('D7 a hung owning master replaced by its replica: the periodic check drops the subscription Redis never ended; it is made again on the new master', async () => {
    const lb = memoryLogger()
    const a = backends.make()
    const b = backends.make({ logger: lb, maxCacheAgeMs: 60_000, subscriptionCheckMs: 100 })
    await Promise.all([a.ready(), b.ready()])
    const service = 'provider:hung'
    const key = breakerKey(backends.prefix, service)
    await warm(a, service, c)
    await warm(b, service, c)
    const calling = keepCalling(circuitGuard({ backend: a, threshold: 2, recoveryMs: 60_000, service }))
    const master = await cluster.masterOf(key)
    const replica = await cluster.replicaOf(master)
    master.pause() // the connection stays open and silent: no sunsubscribe, no close
    try {
      await cluster.failover(replica, 'TAKEOVER')
      await eventually('the check to notice', () => linesWith(lb, 'no longer serves the slot').length > 0)
      expect(isPromise(b.admit(service, c))).toBe(true)
    } finally {
      master.resume() // it comes back as a replica of the new master
    }
    await cluster.settled(key)
    await warm(b, service, c)
    await warm(a, service, c)
    const opened = nextChange(b, service, 'open')
    await a.isolate(service, c)
    await opened
    expect(b.admit(service, c)).toMatchObject({ kind: 'deny', state: 'open' })
    await a.reset(service, c)
    await eventually('both back on Redis', () => a.backendState === 'redis' && b.backendState === 'redis')
    expect(callerErrors(await calling.stop())).toEqual([])
    expect(linesWith(lb, 'no longer serves the slot')).toHaveLength(1)
  }, 30_000)

  it("D7 a failover to a replica that missed the write: the open state is re-asserted from the processes' own breakers, so no call reaches the provider", async () => {
    const la = memoryLogger()
    const lb = memoryLogger()
    const a = backends.make({ logger: la, recoveryCheckMs: 50 })
    const b = backends.make({ logger: lb, recoveryCheckMs: 50 })
    await Promise.all([a.ready(), b.ready()])
    const service = 'provider:missed'
    const key = breakerKey(backends.prefix, service)
    const options = { threshold: 2, recoveryMs: 60_000, maxRecoveryMs: 60_000, service }
    const ga = circuitGuard({ backend: a, ...options })
    const gb = circuitGuard({ backend: b, ...options })
    await warm(b, service, gb.config)
    const master = await cluster.masterOf(key)
    const replica = await cluster.replicaOf(master)
    // The replica is cut off (paused, its replication link dropped): it misses what the master writes now.
    replica.pause()
    const onMaster = master.client()
    await onMaster.client('KILL', 'TYPE', 'replica')
    await closeClient(onMaster)
    const results: unknown[] = []
    const failing = (): Promise<never> =>
      Promise.reject(Object.assign(new Error('upstream down'), { status: 503 }))
    let reached = 0
    try {
      const opened = nextChange(b, service, 'open')
      for (let i = 0; i < 2; i++) results.push(await ga.execute(failing).catch((e: unknown) => e))
      await opened // b knows it only from the message
      await master.kill() // the open state dies with the master
    } finally {
      replica.resume()
    }
    await cluster.failover(replica, 'TAKEOVER')
    await cluster.settled(key)
    const stored = async (): Promise<string | null> =>
      withNode((await cluster.masterOf(key)).port, (node) => node.hget(key, 'st')).catch(() => null)
    // Callers keep being refused throughout: from the cache, the fallback, or the re-asserted state.
    await eventually('the open state back in Redis', async () => {
      for (const g of [ga, gb]) {
        results.push(
          await g
            .execute(() => {
              reached++
              return 'reached'
            })
            .catch((e: unknown) => e),
        )
      }
      return (await stored()) === 'open'
    })
    await Promise.all([a.whenIdle(), b.whenIdle()])
    expect(reached).toBe(0)
    expect(results.slice(0, 2).every((r) => (r as Error).message === 'upstream down')).toBe(true)
    expect(results.slice(2).every((r) => isBrokenCircuitError(r))).toBe(true)
    expect(await ga.state()).toBe('open')
    expect(await gb.state()).toBe('open')
    expect([...linesWith(la, 're-asserted'), ...linesWith(lb, 're-asserted')]).toHaveLength(1)
    for (const logger of [la, lb]) {
      // Each process fell back at most once and came back once: one line per transition.
      expect(linesWith(logger, 'unusable').length).toBe(linesWith(logger, 'reachable again').length)
      expect(linesWith(logger, 'unusable').length).toBeLessThanOrEqual(1)
    }
    await master.restart() // it rejoins as a replica of the new master
    await cluster.settled(key)
  }, 40_000)

  it('D5 D7 a fleet of 4 processes calling a dead provider while the owning master is killed: at most threshold + P + 1 requests reach it per window, no caller error, every process back on Redis', async () => {
    const P = 4
    const THRESHOLD = 3
    const RECOVERY_MS = 200
    const provider = await startProvider()
    const prefix = testPrefix('cluster-fleet')
    const fleet = await startFleet({
      processes: P,
      provider,
      threshold: THRESHOLD,
      recoveryMs: RECOVERY_MS,
      redis: { clusterPorts: cluster.startupNodes.map((n) => n.port) },
      prefix,
      recoveryCheckMs: 100,
      subscriptionCheckMs: 200,
    })
    const okAfter = (t: number, worker: number): boolean =>
      fleet.calls.some((x) => x.worker === worker && x.at > t && x.outcome === 'ok')
    const everyWorker = (predicate: (worker: number) => boolean) => () =>
      Array.from({ length: P }, (_, i) => i).every(predicate)
    let killed: Awaited<ReturnType<RedisClusterHandle['masterOf']>> | undefined
    try {
      await fleet.until(
        'a healthy fleet',
        everyWorker((i) => okAfter(0, i)),
      )
      provider.down = true
      const downAt = performance.now()
      const refused = (i: number) =>
        fleet.calls.some((x) => x.worker === i && x.at > downAt && x.outcome === 'rejected')
      await fleet.until('every process refusing', everyWorker(refused))
      killed = await cluster.masterOf(breakerKey(prefix, 'provider'))
      await killed.kill()
      await cluster.settled(breakerKey(prefix, 'provider'), killed) // its replica took over
      const status = () =>
        fleet.askAll<{ type: 'status'; backend: string; state: string }>({ type: 'status' }, 'status')
      await eventually('every process back on Redis', async () =>
        (await status()).every((x) => x.backend === 'redis'),
      )
      // The outage goes on for a few recovery windows on the new master (real time on purpose).
      await new Promise((resolve) => setTimeout(resolve, 3 * RECOVERY_MS))
      const upAt = performance.now()
      provider.down = false
      await fleet.until(
        'recovery in every process',
        everyWorker((i) => okAfter(upAt, i)),
      )
      const statuses = await fleet.askAll<{ type: 'status'; backend: string; state: string }>(
        { type: 'status' },
        'status',
      )
      expect(statuses.map((s) => s.backend)).toEqual(new Array(P).fill('redis'))
      expect(statuses.map((s) => s.state)).toEqual(new Array(P).fill('closed'))
    } finally {
      await fleet.stop()
      await provider.close()
      await killed?.restart()
    }
    const calls: FleetCall[] = fleet.calls
    expect(calls.filter((x) => x.outcome === 'error')).toEqual([])
    // Requests that reached the dead provider in any window of RECOVERY_MS.
    const hits = provider.deadHits.map((h) => h.at)
    const most = Math.max(...hits.map((t) => hits.filter((u) => u >= t && u < t + RECOVERY_MS).length))
    expect(most).toBeLessThanOrEqual(THRESHOLD + P + 1)
    for (let i = 0; i < P; i++) {
      const lines = fleet.logs.filter((l) => l.worker === i).map((l) => l.line)
      const fallbacks = lines.filter((l) => l.includes('unusable')).length
      expect(fallbacks).toBeLessThanOrEqual(1) // no flapping: one line per transition
      expect(lines.filter((l) => l.includes('reachable again'))).toHaveLength(fallbacks)
    }
    await cluster.settled()
  }, 60_000)
})
