import { Registry } from 'prom-client'
import { instrument, type Instrumentation, serveMetrics } from '../prometheus.js'
import { startFakeProvider } from '../testing.js'
import type { DemoArgs } from './cli-args.js'
import { demoStack } from './demo-stack.js'
import { demoReply } from './fake-replies.js'
import { startLiveTable } from './live-table.js'
import { phaseBudget, scenario, scheduleBudget, scheduleFaults, SERVICES } from './scenario.js'
import {
  formatSummary,
  processReport,
  providerCounts,
  providerSoFar,
  summarize,
  type DemoSummary,
} from './summary.js'
import type { TableRow } from './table.js'

export interface RunDemoOptions extends Pick<DemoArgs, 'durationS' | 'sessions' | 'seed' | 'metricsPort'> {
  /** Where the table and the summary go, a line at a time. Default `console.log`. */
  out?: (line: string) => void
  /** Called once everything listens, before the scenario starts. */
  onStart?: (info: { metricsUrls: string[]; providerUrl: string }) => void
  /** Called with every row of the live table. */
  onRow?: (row: TableRow) => void
  /** Ends the scenario early (Ctrl-C); the summary of what ran is still printed and returned. */
  signal?: AbortSignal
}

/**
 * The demo in one process: the fake provider, one `llmGuard` (in-memory breaker) shared by every
 * agent session and the compaction worker, the real OpenAI and Anthropic SDK clients wrapped with
 * it, /metrics served while it runs. Resolves with the summary once everything is closed.
 */
export async function runDemo(o: RunDemoOptions): Promise<DemoSummary> {
  const out = o.out ?? ((line: string) => console.log(line))
  const s = scenario(o.durationS)
  const fake = await startFakeProvider({ reply: demoReply })
  const metricsHandle: { current?: Instrumentation } = {}
  const stack = demoStack({
    // The metrics are made after the stack they watch: answers reach them once they exist.
    onResponse: (r) => metricsHandle.current?.onResponse(r),
    providerUrl: fake.url,
    sessions: o.sessions,
    firstSession: 1,
    seed: o.seed,
    scenario: s,
  })
  const registry = new Registry()
  const instrumentation = instrument(registry, stack.guard, stack.worker, { services: [...SERVICES] })
  metricsHandle.current = instrumentation
  const closers: (() => Promise<void> | void)[] = [() => fake.close(), () => instrumentation.dispose()]
  const end = new AbortController()
  let endTimer: NodeJS.Timeout | undefined
  let cancelBudget = (): void => {}
  try {
    const metrics = await serveMetrics(registry, { port: o.metricsPort })
    closers.unshift(() => metrics.close())
    out(
      `breakwater demo: ${o.sessions} agent sessions for ${o.durationS}s through one llmGuard ` +
        `(in-memory breaker), seed ${o.seed}`,
    )
    out(`  provider  ${fake.url} (fake OpenAI + Anthropic APIs, called with the real SDK clients)`)
    out(`  metrics   ${metrics.url}`)
    o.onStart?.({ metricsUrls: [metrics.url], providerUrl: fake.url })

    const startMs = Date.now()
    stack.stats.startMs = startMs
    scheduleFaults(fake, s, startMs)
    const budget = phaseBudget(o.sessions)
    cancelBudget = scheduleBudget(fake, s, startMs, budget)
    const table = startLiveTable({
      services: SERVICES,
      scenario: s,
      startMs,
      out,
      snapshots: () => [stack.stats.snapshot(stack.guard)],
      upstream: () => providerSoFar(fake),
      ...(o.onRow && { onRow: o.onRow }),
    })
    endTimer = setTimeout(() => end.abort(new Error('the demo ended')), s.durationMs)
    const interrupted = (): void => end.abort(new Error('the demo was interrupted'))
    o.signal?.addEventListener('abort', interrupted, { once: true })
    if (o.signal?.aborted) interrupted()
    try {
      await stack.run(end.signal)
    } finally {
      o.signal?.removeEventListener('abort', interrupted)
      table.stop()
    }
    const elapsedMs = Date.now() - startMs
    await stack.dispose() // waits for compactions in flight, so they are counted
    const summary = summarize(
      {
        mode: 'single',
        sessions: o.sessions,
        elapsedMs,
        ...providerCounts(fake),
        budget,
        metricsUrls: [metrics.url],
      },
      [processReport(stack.stats, stack.worker.evidence())],
    )
    out('')
    for (const line of formatSummary(summary, SERVICES)) out(line)
    return summary
  } finally {
    clearTimeout(endTimer)
    cancelBudget()
    end.abort()
    await stack.dispose()
    for (const close of closers) await close()
  }
}
