/**
 * One process of the fleet tests and benchmarks: calls a local HTTP "provider" through a circuit
 * guard — on a shared Redis breaker (FLEET_MODE=redis, a single server or a Cluster) or on its own
 * in-memory one (FLEET_MODE=memory) — and tells the parent about every call over IPC.
 * Run with: node --experimental-transform-types --import ../../helpers/register-ts.mjs fleet-worker.ts
 *
 * Scenarios (FLEET_SCENARIO): 'loop' (default) one call at a time until told to stop; 'burst'
 * FLEET_CALLERS callers at once on {type:'go'}, each calling until it succeeds, waiting out every
 * Retry-After and cooldown it meets (what the retry layer does), then {type:'burst-done'}.
 * 'burst' requests go to FLEET_PROVIDER_URL/c<caller>, so the provider can tell callers apart.
 * FLEET_GUARD=llm runs every call through llmGuard() on the same breaker: one call per caller,
 * whose retry layer does the waiting.
 * The parent may also send {type:'admit', count} (backend admissions, answered {type:'admitted',
 * kinds}), {type:'isolate'} / {type:'reset'} (answered {type:'done'}), {type:'status'} (answered
 * {type:'status', backend, state}), and 'stop'. With FLEET_LOG=1 the backend's log lines are
 * forwarded as {type:'log', level, line}.
 */
import { Cluster, Redis } from 'ioredis'
import { RedisCircuitBackend } from '../../../src/circuit/backends/redis/index.js'
import { circuitGuard } from '../../../src/circuit/circuit-guard.js'
import { isBrokenCircuitError } from '../../../src/core/errors/broken-circuit-error.js'
import type { LogFields, Logger } from '../../../src/core/logger.js'
import { llmGuard } from '../../../src/presets/llm-guard.js'
import type { ToWorker } from './fleet-protocol.js'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`fleet-worker: ${name} is not set`)
  return value
}

const mode = env('FLEET_MODE')
const providerUrl = env('FLEET_PROVIDER_URL')
const threshold = Number(env('FLEET_THRESHOLD'))
const recoveryMs = Number(env('FLEET_RECOVERY_MS'))
const pauseMs = Number(process.env.FLEET_PAUSE_MS ?? '5')
const scenario = process.env.FLEET_SCENARIO ?? 'loop'
const callers = Number(process.env.FLEET_CALLERS ?? '1')

const send = (message: unknown): Promise<void> =>
  new Promise((resolve) => process.send!(message, () => resolve()))

function redisClient(): Redis | Cluster | undefined {
  if (mode !== 'redis') return undefined
  const cluster = process.env.FLEET_CLUSTER_PORTS
  if (cluster === undefined) return new Redis({ port: Number(env('FLEET_REDIS_PORT')), lazyConnect: true })
  const nodes = cluster.split(',').map((port) => ({ host: '127.0.0.1', port: Number(port) }))
  return new Cluster(nodes, { lazyConnect: true })
}

const forward =
  (level: string) =>
  (message: string, fields?: LogFields): void =>
    void send({ type: 'log', level, line: `${message}${fields ? ` ${JSON.stringify(fields)}` : ''}` })
const quiet = (): void => {}
const logger: Logger =
  process.env.FLEET_LOG === '1'
    ? { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') }
    : { debug: quiet, info: quiet, warn: quiet, error: quiet }
const client = redisClient()
client?.on('error', () => {})
const backend =
  client === undefined
    ? undefined
    : new RedisCircuitBackend({
        client,
        prefix: env('FLEET_PREFIX'),
        logger,
        recoveryCheckMs: Number(process.env.FLEET_RECOVERY_CHECK_MS ?? '1000'),
        subscriptionCheckMs: Number(process.env.FLEET_SUBSCRIPTION_CHECK_MS ?? '1000'),
      })
const breakerOptions = {
  service: 'provider',
  threshold,
  recoveryMs,
  maxRecoveryMs: recoveryMs,
  ...(backend ? { backend } : {}),
}
// FLEET_GUARD=llm: each call goes through the whole preset (its retry layer waits out 429s and
// cooldowns by itself); otherwise through the bare breaker, with the waiting done here.
const preset = process.env.FLEET_GUARD === 'llm'
const llm = preset
  ? llmGuard({ circuit: breakerOptions, backpressure: { hardLimit: 10_000, maxQueue: 0 } })
  : undefined
const guard = llm?.circuit ?? circuitGuard(breakerOptions)
const calls = llm ?? guard

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** One call to the provider through the guard, reported to the parent; resolves with what happened. */
async function call(caller: number): Promise<{ outcome: string; waitMs: number }> {
  const result = await calls
    .execute(async ({ signal }) => {
      // 'burst' callers are told apart by path; 'loop' keeps the URL as given (bench/fleet.mjs reads it).
      const url = scenario === 'burst' ? `${providerUrl}/c${caller}` : providerUrl
      const response = await fetch(url, { signal })
      await response.arrayBuffer()
      if (!response.ok) {
        const headers: Record<string, string> = {}
        response.headers.forEach((value, name) => (headers[name] = value))
        throw Object.assign(new Error(`provider ${response.status}`), { status: response.status, headers })
      }
      return { outcome: 'ok', waitMs: 0 }
    })
    .catch((error: unknown) => {
      if (isBrokenCircuitError(error))
        return { outcome: 'rejected', reason: error.reason, waitMs: error.retryAfterMs }
      const e = error as { status?: number; headers?: Record<string, string> }
      if (typeof e.status === 'number') {
        return { outcome: 'failed', status: e.status, waitMs: Number(e.headers?.['retry-after-ms'] ?? 0) }
      }
      return { outcome: 'error', error: String(error), waitMs: 0 }
    })
  await send({ type: 'call', caller, ...result })
  return result
}

let stopping = false

async function loop(): Promise<void> {
  while (!stopping) {
    await call(0)
    await sleep(pauseMs)
  }
}

async function burst(): Promise<void> {
  const one = async (caller: number): Promise<void> => {
    for (;;) {
      const { outcome, waitMs } = await call(caller)
      if (outcome === 'ok' || stopping || preset) return
      // A retry layer waits out what it was told (never earlier); a refusal of another kind
      // (a probe gate, an outage) is counted by the parent and tried again shortly.
      await sleep(Math.max(1, Number.isFinite(waitMs) ? waitMs : pauseMs))
    }
  }
  await Promise.all(Array.from({ length: callers }, (_, i) => one(i)))
  await send({ type: 'burst-done' })
}

let finished: () => void = () => {}
const done = new Promise<void>((resolve) => (finished = resolve))

process.on('message', (message: ToWorker) => {
  if (message === 'stop') {
    stopping = true
    if (scenario !== 'loop') finished()
    return
  }
  void answer(message)
})

async function answer(m: Exclude<ToWorker, 'stop'>): Promise<void> {
  if (m.type === 'go') return burst()
  if (m.type === 'admit') {
    const admit = () => (backend ?? guard.backend).admit('provider', guard.config)
    // What a waiting caller does first: a cooldown this process still sees is waited out, as told.
    let waited = 0
    for (
      let a = await admit();
      m.afterCooldown === true && a.kind === 'deny' && a.cooldown === true;
      a = await admit()
    ) {
      waited++
      await sleep(Math.max(1, a.retryAfterMs))
    }
    const kinds: string[] = []
    for (let i = 0; i < m.count; i++) {
      const a = await admit()
      kinds.push(a.kind === 'deny' ? `deny:${a.state}${a.cooldown === true ? ':cooldown' : ''}` : a.kind)
    }
    return send({ type: 'admitted', kinds, waited })
  }
  if (m.type === 'isolate') await guard.isolate()
  if (m.type === 'reset') await guard.reset()
  if (m.type === 'status') {
    return send({ type: 'status', backend: backend?.backendState ?? 'memory', state: await guard.state() })
  }
  await send({ type: 'done' })
}

/** ready(), again while the first connection is still coming up (four processes start at once). */
async function ready(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await backend?.ready()
    } catch (error) {
      if (attempt >= 100 || !/unreachable/.test(String(error))) throw error
      await sleep(100)
    }
  }
}

async function main(): Promise<void> {
  await ready()
  await send({ type: 'ready' })
  if (scenario === 'loop') await loop()
  else await done
  await backend?.close()
  client?.disconnect()
  process.disconnect()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
