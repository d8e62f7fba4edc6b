/**
 * Runs a fleet of worker processes (fleet-worker.ts) against a local HTTP provider, for the fleet
 * tests and for the benchmarks that measure the same scenarios (bench/redis-faults.mjs runs this
 * module through the same TS loader). Real processes, real sockets; time is the parent's
 * `performance.now()` when a report arrives.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { TS_LOADER } from '../../helpers/fleet-child.js'
import type { CallReport, FromWorker, ToWorker } from './fleet-protocol.js'

const worker = fileURLToPath(new URL('./fleet-worker.ts', import.meta.url))
/** Node options that let a process run the TypeScript sources as they are. */

/** Anything that does not happen in this long is a failure, not a slow run. */
const UNTIL_TIMEOUT_MS = 30_000

export interface Provider {
  readonly url: string
  /** While true, every request is answered 503 and recorded in `deadHits`. */
  down: boolean
  /** Requests that reached the provider while it was down: when (parent clock) and from which path. */
  readonly deadHits: { at: number; from: string }[]
  /** Every request, by status answered. */
  readonly answered: Map<number, number>
  /**
   * The first request of each of the next `size` callers is held until all `size` have arrived,
   * then each is answered 429 with `retry-after-ms: retryAfterMs`; later requests succeed.
   */
  limitBurst(size: number, retryAfterMs: number): void
  close(): Promise<void>
}

export async function startProvider(): Promise<Provider> {
  let burst: { size: number; retryAfterMs: number; held: (() => void)[]; seen: Set<string> } | undefined
  const answered = new Map<number, number>()
  const answer = (
    res: { writeHead(s: number, h?: object): { end(b: string): void } },
    status: number,
    headers = {},
  ) => {
    answered.set(status, (answered.get(status) ?? 0) + 1)
    res.writeHead(status, headers).end(status === 200 ? 'ok' : 'no')
  }
  const provider = {
    down: false,
    deadHits: [] as { at: number; from: string }[],
    answered,
    limitBurst(size: number, retryAfterMs: number) {
      burst = { size, retryAfterMs, held: [], seen: new Set() }
    },
  } as Provider & { url: string; close(): Promise<void> }
  const server: Server = createServer((req, res) => {
    const from = req.url ?? ''
    if (provider.down) {
      provider.deadHits.push({ at: performance.now(), from })
      return answer(res, 503)
    }
    const b = burst
    if (b !== undefined && !b.seen.has(from) && b.seen.size < b.size) {
      b.seen.add(from)
      b.held.push(() => answer(res, 429, { 'retry-after-ms': String(b.retryAfterMs) }))
      if (b.seen.size === b.size) for (const release of b.held.splice(0)) release()
      return
    }
    answer(res, 200)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  provider.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  provider.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return provider
}

export interface FleetOptions {
  processes: number
  provider: Provider
  threshold: number
  recoveryMs: number
  /** A single Redis (port), a Cluster (ports), or none: per-process in-memory breakers. */
  redis?: { port: number } | { clusterPorts: readonly number[] }
  prefix: string
  scenario?: 'loop' | 'burst'
  /** Callers per process ('burst'). */
  callers?: number
  /** 'llm': calls go through llmGuard() on the breaker (its retry waits); default the bare breaker. */
  guard?: 'circuit' | 'llm'
  pauseMs?: number
  recoveryCheckMs?: number
  subscriptionCheckMs?: number
}

/** A call report with the worker it came from and when it arrived. */
export type FleetCall = CallReport & { worker: number; at: number }

export interface Fleet {
  readonly calls: FleetCall[]
  readonly logs: { worker: number; level: string; line: string; at: number }[]
  /** Sends a message to worker `i` and resolves with its next message of type `reply`. */
  ask<T extends FromWorker>(i: number, message: ToWorker, reply: T['type']): Promise<T>
  /** Sends a message to every worker and resolves with every answer. */
  askAll<T extends FromWorker>(message: ToWorker, reply: T['type']): Promise<T[]>
  /** Resolves once `predicate` holds (checked on every message and every 10 ms). */
  until(what: string, predicate: () => boolean): Promise<void>
  /** Stops every worker and waits for them to exit. */
  stop(): Promise<void>
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const children: ChildProcess[] = []
  const calls: FleetCall[] = []
  const logs: Fleet['logs'] = []
  const waiters = new Set<() => void>()
  const redisEnv: Record<string, string> =
    o.redis === undefined
      ? {}
      : 'port' in o.redis
        ? { FLEET_REDIS_PORT: String(o.redis.port) }
        : { FLEET_CLUSTER_PORTS: o.redis.clusterPorts.join(',') }
  const ready = Array.from({ length: o.processes }, (_, i) => {
    const child = fork(worker, [], {
      execArgv: TS_LOADER,
      env: {
        ...process.env,
        ...redisEnv,
        FLEET_MODE: o.redis === undefined ? 'memory' : 'redis',
        FLEET_PROVIDER_URL: `${o.provider.url}/p${i}`,
        FLEET_THRESHOLD: String(o.threshold),
        FLEET_RECOVERY_MS: String(o.recoveryMs),
        FLEET_PAUSE_MS: String(o.pauseMs ?? 5),
        FLEET_PREFIX: o.prefix,
        FLEET_SCENARIO: o.scenario ?? 'loop',
        FLEET_CALLERS: String(o.callers ?? 1),
        FLEET_GUARD: o.guard ?? 'circuit',
        FLEET_LOG: '1',
        FLEET_RECOVERY_CHECK_MS: String(o.recoveryCheckMs ?? 1_000),
        FLEET_SUBSCRIPTION_CHECK_MS: String(o.subscriptionCheckMs ?? 1_000),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    children.push(child)
    return new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`fleet worker ${i} exited early with ${code}`)))
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve()
        else if (m.type === 'call') calls.push({ ...m, worker: i, at: performance.now() })
        else if (m.type === 'log')
          logs.push({ worker: i, level: m.level, line: m.line, at: performance.now() })
        for (const wake of [...waiters]) wake()
      })
    })
  })
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.removeAllListeners('exit')
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.send('stop')
          }),
      ),
    )
  }
  try {
    await Promise.all(ready)
  } catch (error) {
    for (const child of children) child.kill('SIGKILL')
    throw error
  }
  const ask = <T extends FromWorker>(i: number, message: ToWorker, reply: T['type']): Promise<T> =>
    new Promise((resolve) => {
      const child = children[i]!
      const on = (m: FromWorker): void => {
        if (m.type !== reply) return
        child.off('message', on)
        resolve(m as T)
      }
      child.on('message', on)
      child.send(message)
    })
  return {
    calls,
    logs,
    ask,
    askAll: (message, reply) => Promise.all(children.map((_, i) => ask(i, message, reply))),
    until: (what, predicate) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + UNTIL_TIMEOUT_MS
        const check = (): void => {
          if (predicate()) finish(resolve)
          else if (Date.now() > deadline)
            finish(() => reject(new Error(`fleet: timed out waiting for ${what}`)))
        }
        const timer = setInterval(check, 10)
        const finish = (settle: () => void): void => {
          clearInterval(timer)
          waiters.delete(check)
          settle()
        }
        waiters.add(check)
        check()
      }),
    stop,
  }
}
