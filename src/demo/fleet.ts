import { Redis } from 'ioredis'
import { fileURLToPath } from 'node:url'
import { startFakeProvider } from '../testing.js'
import type { DemoArgs } from './cli-args.js'
import { demoReply } from './fake-replies.js'
import { startLiveTable } from './live-table.js'
import type { RunDemoOptions } from './run-demo.js'
import { phaseBudget, scenario, scheduleBudget, scheduleFaults, SERVICES } from './scenario.js'
import { formatSummary, providerCounts, providerSoFar, summarize, type DemoSummary } from './summary.js'
import { WorkerProcess, type WorkerEntry } from './worker-process.js'

export interface RunFleetOptions extends RunDemoOptions, Pick<DemoArgs, 'workers'> {
  redis: string
  /** Prefix of the shared breaker's keys. Default: one of its own per run (deleted at the end). */
  prefix?: string
  /** Which file the workers run. Default: `worker-main.js` next to this module (the built demo). */
  workerEntry?: WorkerEntry
}

const READY_TIMEOUT_MS = 30_000

/**
 * `--redis <url> --workers N`: the scenario in N worker processes whose breakers share one state in
 * Redis, against one fake provider that this process runs (so the whole fleet sees one outage).
 * This process prints the combined table and summary; each worker serves its own /metrics.
 */
export async function runFleet(o: RunFleetOptions): Promise<DemoSummary> {
  const out = o.out ?? ((line: string) => console.log(line))
  const s = scenario(o.durationS)
  const prefix = o.prefix ?? `breakwater-demo-${process.pid}-${Date.now().toString(36)}`
  const redis = new Redis(o.redis, {
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  // connect() rejects with "Connection is closed"; the reason (ECONNREFUSED…) comes as an event.
  let connectError: Error | undefined
  redis.on('error', (error: Error) => (connectError ??= error))
  try {
    await redis.connect()
  } catch (error) {
    // An ended client has no socket left; disconnect() would start a 2 s timer waiting for one.
    if (redis.status !== 'end') redis.disconnect()
    const reason = (connectError ?? (error as Error)).message
    throw new Error(`cannot connect to Redis at ${o.redis}: ${reason}`, { cause: error })
  }
  const fake = await startFakeProvider({ reply: demoReply }).catch((error: unknown) => {
    redis.disconnect()
    throw error
  })
  const entry = o.workerEntry ?? { path: fileURLToPath(new URL('./worker-main.js', import.meta.url)) }
  const workers = Array.from({ length: o.workers }, (_, index) => {
    const sessions = Math.floor(o.sessions / o.workers) + (index < o.sessions % o.workers ? 1 : 0)
    const firstSession =
      1 + index * Math.floor(o.sessions / o.workers) + Math.min(index, o.sessions % o.workers)
    const config = {
      index,
      providerUrl: fake.url,
      redis: o.redis,
      prefix,
      sessions,
      firstSession,
      seed: o.seed,
    }
    return new WorkerProcess({ ...config, durationS: o.durationS, metricsPort: o.metricsPort }, entry)
  })
  let readyTimer: NodeJS.Timeout | undefined
  let cancelBudget = (): void => {}
  try {
    const metricsUrls = await Promise.race([
      Promise.all(workers.map((w) => w.ready)),
      new Promise<never>((_, reject) => {
        readyTimer = setTimeout(
          () => reject(new Error('the workers did not start within 30 s')),
          READY_TIMEOUT_MS,
        )
      }),
    ])
    clearTimeout(readyTimer)
    out(
      `breakwater demo: ${o.sessions} agent sessions in ${o.workers} worker processes for ${o.durationS}s, ` +
        `one llmGuard each, one breaker and one rate limit shared through Redis (${o.redis}, prefix ${prefix}), ` +
        `seed ${o.seed}`,
    )
    out(`  provider  ${fake.url} (fake OpenAI + Anthropic APIs, called with the real SDK clients)`)
    metricsUrls.forEach((url, i) => out(`  metrics   worker ${i + 1}: ${url}`))
    o.onStart?.({ metricsUrls, providerUrl: fake.url })

    const startMs = Date.now()
    scheduleFaults(fake, s, startMs)
    const budget = phaseBudget(o.sessions)
    cancelBudget = scheduleBudget(fake, s, startMs, budget)
    for (const w of workers) w.send({ type: 'start', startMs })
    const table = startLiveTable({
      services: SERVICES,
      scenario: s,
      startMs,
      out,
      snapshots: () => workers.map((w) => w.latest),
      upstream: () => providerSoFar(fake),
      ...(o.onRow && { onRow: o.onRow }),
    })
    // Ctrl-C: the workers end their scenario early and still report what they did.
    const interrupted = (): void => workers.forEach((w) => w.send({ type: 'stop' }))
    o.signal?.addEventListener('abort', interrupted, { once: true })
    if (o.signal?.aborted) interrupted()
    let results
    try {
      results = await Promise.all(workers.map((w) => w.done))
    } finally {
      o.signal?.removeEventListener('abort', interrupted)
      table.stop()
    }
    const summary = summarize(
      {
        mode: 'fleet',
        sessions: o.sessions,
        elapsedMs: Date.now() - startMs,
        ...providerCounts(fake),
        budget,
        metricsUrls,
      },
      results.map((r) => r.report),
    )
    summary.shared = {
      prefix,
      states: results[0]!.sharedStates,
      backendFallbacks: results.reduce((n, r) => n + r.backendFallbacks, 0),
    }
    out('')
    for (const line of formatSummary(summary, SERVICES)) out(line)
    return summary
  } finally {
    clearTimeout(readyTimer)
    cancelBudget()
    await Promise.all(workers.map((w) => w.stop()))
    if (o.prefix === undefined) await deleteKeys(redis, prefix).catch(() => {})
    await redis.quit().catch(() => redis.disconnect())
    await fake.close()
  }
}

/** Removes this run's keys (the breakers and the backend's readiness check key): a demo leaves nothing behind. */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 100)
    if (keys.length > 0) await redis.del(...keys)
    cursor = next
  } while (cursor !== '0')
}
