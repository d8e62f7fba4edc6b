import type { AdmissionEvidence } from '../index.js'
import type { FakeProvider } from '../testing.js'
import { percentile, zeroCounters, type Counters, type DemoStats, type Transition } from './stats.js'

/** What one process contributes to the closing summary (sent over IPC by fleet workers). */
export interface ProcessReport {
  counters: Counters
  failures: Record<string, number>
  transitions: Transition[]
  latenciesMs: number[]
  admitted: number
  refused: Record<string, number>
}

/** The closing summary: what `runDemo` resolves with and prints. */
export interface DemoSummary {
  mode: 'single' | 'fleet'
  processes: number
  sessions: number
  elapsedMs: number
  counters: Counters
  /** Requests that reached the fake provider (calls made are `counters.calls`). */
  providerRequests: number
  /** Of those, how many the provider answered with a 429 or a 5xx. */
  providerRateLimited: number
  providerServerErrors: number
  /** Of the 429s, those for a spent budget in the rate-limit act (the rest are the scripted burst). */
  providerOverBudget: number
  /** The provider's budget per API key in the rate-limit act. */
  budget: { requests: number; windowMs: number }
  /** Failed calls by `classifyError` reason. */
  failures: Record<string, number>
  /** Breaker transitions each process saw, in order. */
  transitions: Transition[][]
  latency: { count: number; p50Ms: number; p95Ms: number }
  compactionAdmission: { admitted: number; refused: Record<string, number> }
  metricsUrls: string[]
  /** Fleet mode: the breaker's key prefix in Redis, its final stored states, and Redis fallbacks. */
  shared?: { prefix: string; states: Record<string, string>; backendFallbacks: number }
}

export function processReport(stats: DemoStats, evidence: AdmissionEvidence): ProcessReport {
  const refused = Object.fromEntries(Object.entries(evidence.rejected).filter(([, n]) => n > 0))
  return {
    counters: { ...stats.counters },
    failures: { ...stats.failures },
    transitions: [...stats.transitions],
    latenciesMs: stats.latenciesMs,
    admitted: evidence.admitted,
    refused,
  }
}

type ProviderCounts =
  'providerRequests' | 'providerRateLimited' | 'providerServerErrors' | 'providerOverBudget'

/** What the fake provider saw. */
export function providerCounts(fake: FakeProvider): Pick<DemoSummary, ProviderCounts> {
  return {
    providerRequests: fake.count(),
    providerRateLimited: fake.count({ fault: 'rate_limit' }),
    providerServerErrors: fake.count({ fault: 'server_error' }),
    providerOverBudget: fake.requests.filter((r) => r.limited !== undefined).length,
  }
}

/** Requests so far and the 429s among them: what the live table reads every second. */
export function providerSoFar(fake: FakeProvider): { requests: number; rateLimited: number } {
  return { requests: fake.count(), rateLimited: fake.count({ fault: 'rate_limit' }) }
}

export function summarize(
  base: Pick<DemoSummary, 'mode' | 'sessions' | 'elapsedMs' | ProviderCounts | 'budget' | 'metricsUrls'>,
  reports: readonly ProcessReport[],
): DemoSummary {
  const counters = zeroCounters()
  const failures: Record<string, number> = {}
  const refused: Record<string, number> = {}
  for (const r of reports) {
    for (const k of Object.keys(counters) as (keyof Counters)[]) counters[k] += r.counters[k]
    for (const [k, n] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + n
    for (const [k, n] of Object.entries(r.refused)) refused[k] = (refused[k] ?? 0) + n
  }
  const latencies = reports.flatMap((r) => r.latenciesMs)
  return {
    ...base,
    processes: reports.length,
    counters,
    failures,
    transitions: reports.map((r) => r.transitions),
    latency: { count: latencies.length, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95) },
    compactionAdmission: { admitted: reports.reduce((n, r) => n + r.admitted, 0), refused },
  }
}

/** True when the service's breaker opened and, later, closed again (as the first process saw it). */
export function openedAndClosed(summary: DemoSummary, service: string): boolean {
  const seen = (summary.transitions[0] ?? []).filter((t) => t.service === service)
  const opened = seen.findIndex((t) => t.to === 'open')
  return opened >= 0 && seen.slice(opened).some((t) => t.to === 'closed')
}

const n = (x: number): string => x.toLocaleString('en-US')
const s = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
const list = (r: Record<string, number>): string =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ') || 'none'

/** "opened 9.1s → probes failed 10.1s, 11.3s → closed 14.8s": the transitions, told briefly. */
function breakerStory(seen: readonly Transition[]): string {
  if (seen.length === 0) return 'stayed closed'
  const parts: string[] = []
  let failedProbes: string[] = []
  const flush = (): void => {
    if (failedProbes.length > 0) parts.push(`probe failed ${failedProbes.join(', ')}`)
    failedProbes = []
  }
  for (const t of seen) {
    if (t.from === 'half-open' && t.to === 'open') failedProbes.push(s(t.atMs))
    else if (t.to === 'open') {
      flush()
      parts.push(`opened ${s(t.atMs)}`)
    } else if (t.to === 'closed') {
      flush()
      parts.push(`closed ${s(t.atMs)}`)
    }
  }
  flush()
  return parts.join(' → ')
}

export function formatSummary(x: DemoSummary, services: readonly string[]): string[] {
  const c = x.counters
  const where =
    x.mode === 'fleet'
      ? `${x.processes} worker processes sharing one Redis breaker and rate limit`
      : 'one process'
  const lines = [
    `Summary: ${s(x.elapsedMs)}, ${x.sessions} agent sessions, ${where}`,
    `  calls          ${n(c.calls)} made by the agents: ${n(c.ok)} ok, ${n(c.failed)} failed, ${n(c.aborted)} aborted at the end`,
    `  provider       ${n(x.providerRequests)} requests reached the provider for ${n(c.calls)} calls ` +
      `(${n(x.providerRateLimited)} answered 429, ${n(x.providerServerErrors)} answered 5xx): dedupe joins, ` +
      'shedding and open breakers kept calls away, retries added some',
    `  retries        ${n(c.retries)} (and ${n(c.cooldownWaits)} waits for a provider's cooldown, no request sent)`,
    `  429 burst      ${n(c.burstCalls)} foreground calls started during it: ` +
      (c.burstFailed === 0 ? 'every one answered' : `${n(c.burstFailed)} failed`),
    `  rate limit     ${n(c.waits)} calls waited for the provider's budget (${x.budget.requests} requests per ` +
      `${s(x.budget.windowMs)} per API key in its act; mean wait ${c.waits === 0 ? 0 : Math.round(c.waitedMs / c.waits)} ms); ` +
      `${n(x.providerOverBudget)} requests over it answered 429`,
    `                 ${n(c.budgetCalls)} foreground calls started in the act: ` +
      (c.budgetFailed === 0 ? 'every one answered' : `${n(c.budgetFailed)} failed`) +
      `, ${n(c.budgetShedForeground)} shed; 429s that reached a caller: ${n(c.budget429s)}`,
    `  shed           ${n(c.shed)} (${n(c.shedBackground)} background, ${n(c.shed - c.shedBackground)} foreground)`,
    `  dedupe joins   ${n(c.joins)}`,
  ]
  services.forEach((service, i) => {
    const story = breakerStory((x.transitions[0] ?? []).filter((t) => t.service === service))
    lines.push(`  ${i === 0 ? 'breaker' : '       '}        ${service}: ${story}`)
  })
  if (x.shared !== undefined) {
    const counts = x.transitions.map((t) => t.length).join(', ')
    const states = Object.entries(x.shared.states).map(([k, v]) => `${k} ${v}`)
    lines.push(
      `                 (as worker 1 saw it; transitions each worker saw: ${counts})`,
      `  redis          ${x.shared.prefix}:cb:{…} now ${states.join(', ')}; ` +
        `fallbacks to per-process breakers: ${x.shared.backendFallbacks}`,
    )
  }
  lines.push(
    `  compactions    ${n(c.compactions)} completed (${n(c.compactionsLlm)} by the model, ` +
      `${n(c.compactionsExtractive)} by the extractive fallback), ${n(c.compactionsFailed)} failed`,
    `  admission      ${n(x.compactionAdmission.admitted)} admitted; refused: ${list(x.compactionAdmission.refused)}`,
    `  failures       ${list(x.failures)}`,
    `  latency        p50 ${Math.round(x.latency.p50Ms)} ms, p95 ${Math.round(x.latency.p95Ms)} ms (${n(x.latency.count)} successful calls)`,
    `  metrics        ${x.metricsUrls.join(', ')} (closed now)`,
  )
  return lines
}
