import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { instrument, type Instrumentation, serveMetrics } from '../prometheus.js'
import { RedisCircuitBackend, RedisRateLimitStore } from '../redis.js'
import { demoStack } from './demo-stack.js'
import type { FromWorker, WorkerConfig } from './fleet-protocol.js'
import { scenario, SERVICES } from './scenario.js'
import { processReport } from './summary.js'

const SNAPSHOT_EVERY_MS = 250

export interface WorkerLink {
  send(message: FromWorker): Promise<void>
  /** Resolves with the scenario's start time (Date.now() in the parent). */
  start: Promise<number>
  /** Aborted when the parent asks the worker to stop early, or goes away. */
  stop: AbortSignal
}

/**
 * One worker process of `--redis` mode: the same stack as the single-process demo, except that the
 * breaker and the rate limit's budgets live in Redis, shared with the other workers. Reports snapshots while it runs and its
 * totals at the end; closes every connection before resolving.
 */
export async function runFleetWorker(c: WorkerConfig, link: WorkerLink): Promise<void> {
  const s = scenario(c.durationS)
  // The backend duplicates this connection (commands, subscriber) and never closes it: we do.
  const redis = new Redis(c.redis, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  const backend = new RedisCircuitBackend({ client: redis, prefix: c.prefix })
  // One budget per service for the whole fleet, under the same prefix (the parent deletes it).
  const rateLimitStore = new RedisRateLimitStore({ client: redis, prefix: c.prefix })
  const closers: (() => Promise<void> | void)[] = [
    () => redis.disconnect(),
    () => backend.close(),
    () => rateLimitStore.close(),
  ]
  const end = new AbortController()
  const timers: NodeJS.Timeout[] = []
  try {
    await backend.ready()
    await rateLimitStore.ready()
    let backendFallbacks = 0
    const onBackend = backend.onBackendStateChange((e) => {
      if (e.to === 'fallback') backendFallbacks++
    })
    closers.unshift(() => onBackend.dispose())
    const metricsHandle: { current?: Instrumentation } = {}
    const stack = demoStack({
      // The metrics are made after the stack they watch: answers reach them once they exist.
      onResponse: (r) => metricsHandle.current?.onResponse(r),
      providerUrl: c.providerUrl,
      sessions: c.sessions,
      firstSession: c.firstSession,
      seed: c.seed,
      scenario: s,
      backend,
      rateLimitStore,
    })
    closers.unshift(() => stack.dispose())
    const registry = new Registry()
    const instrumentation = instrument(registry, stack.guard, stack.worker, backend, {
      services: [...SERVICES],
    })
    metricsHandle.current = instrumentation
    closers.unshift(() => instrumentation.dispose())
    const metrics = await serveMetrics(registry, { port: c.metricsPort === 0 ? 0 : c.metricsPort + c.index })
    closers.unshift(() => metrics.close())
    await link.send({ type: 'ready', metricsUrl: metrics.url })

    const startMs = await Promise.race([
      link.start,
      new Promise<never>((_, reject) => {
        link.stop.addEventListener('abort', () => reject(new Error('stopped before the start')), {
          once: true,
        })
      }),
    ])
    stack.stats.startMs = startMs
    const stopEarly = (): void => end.abort(new Error('stopped by the parent'))
    link.stop.addEventListener('abort', stopEarly, { once: true })
    timers.push(setTimeout(() => end.abort(new Error('the demo ended')), startMs + s.durationMs - Date.now()))
    timers.push(
      setInterval(
        () => void link.send({ type: 'snapshot', snapshot: stack.stats.snapshot(stack.guard) }),
        SNAPSHOT_EVERY_MS,
      ),
    )
    await stack.run(end.signal)
    timers.forEach((t) => clearInterval(t))
    link.stop.removeEventListener('abort', stopEarly)
    // Read through the backend: the raw hash keeps a finished cooldown's 'open' until its next write.
    const sharedStates: Record<string, string> = {}
    for (const service of SERVICES) sharedStates[service] = await stack.guard.circuit!.state(service)
    await stack.dispose()
    await link.send({
      type: 'done',
      report: processReport(stack.stats, stack.worker.evidence()),
      snapshot: stack.stats.snapshot(stack.guard),
      backendFallbacks,
      sharedStates,
    })
  } finally {
    timers.forEach((t) => clearInterval(t))
    end.abort()
    for (const close of closers) await close()
  }
}
