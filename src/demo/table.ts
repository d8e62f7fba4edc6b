import { PHASES } from './scenario.js'
import type { BreakerState, Counters, StatsSnapshot } from './stats.js'

/**
 * One line of the live table: what happened during one second. The call columns add up:
 * `calls = ok + failed + shed`, all counting calls that ended in the second (`started` counts the
 * ones that began in it, which may end in a later second).
 */
export interface TableRow {
  t: number
  phase: string
  /** Agent calls that ended this second (answered, failed or shed): `ok + failed + shed`. */
  calls: number
  ok: number
  /** Calls that ended with an error the caller sees (shed work not included). */
  failed: number
  /** Calls backpressure shed on purpose (background work under load): not a failure. */
  shed: number
  /** Agent calls that began this second. */
  started: number
  retries: number
  /** Calls that waited for the provider's budget (the rate limit), then went, this second. */
  paced: number
  joins: number
  compactions: number
  inFlight: number
  /** Requests that reached the provider this second. */
  upstream: number
  /** Of those, how many the provider answered 429 (its budget spent, or a scripted burst). */
  rateLimited: number
  /** Per service: the states the breaker went through this second (just the state when none). */
  breakers: Record<string, BreakerState[]>
}

const COLUMNS: [keyof TableRow, string, number][] = [
  ['t', 't', 4],
  ['phase', 'phase', 11],
  ['calls', 'calls', 6],
  ['ok', 'ok', 5],
  ['failed', 'fail', 5],
  ['shed', 'shed', 5],
  ['started', 'started', 8],
  ['retries', 'retry', 6],
  ['paced', 'paced', 6],
  ['joins', 'joins', 6],
  ['compactions', 'compact', 8],
  ['inFlight', 'inflight', 9],
  ['upstream', 'upstream', 9],
  ['rateLimited', '429', 5],
]
const BREAKER_WIDTH = 24
const SHORT: Record<BreakerState, string> = { closed: 'closed', open: 'OPEN', 'half-open': 'half-open' }

/** Column title of a service's breaker: its provider ('openai:gpt-4o-mini' → 'openai'). */
export const breakerTitle = (service: string): string => `${service.split(':')[0]} breaker`

export function tableHeader(services: readonly string[]): string {
  const cells = COLUMNS.map(([, title, width]) =>
    title === 'phase' ? ` ${title.padEnd(width - 1)}` : title.padStart(width),
  )
  return [...cells, ...services.map((s) => `  ${breakerTitle(s).padEnd(BREAKER_WIDTH)}`)].join('')
}

/** What the columns mean, printed under the header. */
export const TABLE_LEGEND: readonly string[] = Object.freeze([
  'legend: per second; calls = ok + fail + shed (agent calls that ended); fail = errors callers saw;',
  '        shed = background work refused on purpose under load (not a failure); started = calls begun;',
  "        retry = retries scheduled; paced = calls that waited for the provider's budget, then went;",
  '        joins = callers sharing an identical call in flight; compact = compactions done; inflight =',
  '        calls holding a slot at the tick; upstream = requests to the provider; 429 = of those, answered 429',
])

export function formatRow(row: TableRow, services: readonly string[]): string {
  const cells = COLUMNS.map(([key, , width]) => {
    const value = key === 't' ? `${row.t}s` : String(row[key])
    return key === 'phase' ? ` ${value.padEnd(width - 1)}` : value.padStart(width)
  })
  const breakers = services.map((s) => {
    const chain = (row.breakers[s] ?? ['closed']).map((state) => SHORT[state])
    const text = chain.length > 4 ? [...chain.slice(0, 2), '…', chain.at(-1)!].join('→') : chain.join('→')
    return `  ${text.padEnd(BREAKER_WIDTH)}`
  })
  return [...cells, ...breakers].join('')
}

/**
 * The timeline's name for a second of the run ([fromMs, toMs) since the start, of `durationMs`):
 * the act it overlaps most; a second between two acts belongs to the act before (its tail), so a
 * row is always labelled with a name the timeline printed.
 */
export function phaseDuring(fromMs: number, toMs: number, durationMs: number): string {
  let best: string | undefined
  let most = 0
  for (const p of PHASES) {
    const overlap = Math.min(toMs, p.until * durationMs) - Math.max(fromMs, p.from * durationMs)
    if (overlap > most) {
      most = overlap
      best = p.name
    }
  }
  if (best !== undefined) return best
  const before = PHASES.filter((p) => p.from * durationMs <= fromMs)
  return (before.at(-1) ?? PHASES[0]!).name
}

const delta = (cur: Counters, prev: Counters, key: keyof Counters): number =>
  (cur[key] ?? 0) - (prev[key] ?? 0)

/**
 * The row for one second from the snapshots taken at its start and end, one pair per process (a
 * single process is a fleet of one), and what the provider received in it. Counters add up; for each breaker the longest chain of states
 * any process saw is shown (processes sharing a Redis breaker all see the same one).
 */
export function rowBetween(
  t: number,
  phase: string,
  prevs: readonly StatsSnapshot[],
  curs: readonly StatsSnapshot[],
  provider: { requests: number; rateLimited: number },
  services: readonly string[],
): TableRow {
  const sum = (key: keyof Counters): number =>
    curs.reduce((total, cur, i) => total + delta(cur.counters, prevs[i]!.counters, key), 0)
  const breakers: Record<string, BreakerState[]> = {}
  for (const service of services) {
    let longest: BreakerState[] = []
    curs.forEach((cur, i) => {
      const fresh = cur.transitions.slice(prevs[i]!.transitions.length).filter((x) => x.service === service)
      const chain =
        fresh.length === 0 ? [cur.states[service] ?? 'closed'] : [fresh[0]!.from, ...fresh.map((x) => x.to)]
      if (chain.length > longest.length || (chain.length === longest.length && chain[0] !== 'closed'))
        longest = chain
    })
    breakers[service] = longest
  }
  const ok = sum('ok')
  const shed = sum('failedShed')
  const failed = sum('failed') - shed
  return {
    t,
    phase,
    calls: ok + failed + shed,
    ok,
    failed,
    shed,
    started: sum('calls'),
    retries: sum('retries'),
    paced: sum('waits'),
    joins: sum('joins'),
    compactions: sum('compactions'),
    inFlight: curs.reduce((n, cur) => n + cur.inFlight, 0),
    upstream: provider.requests,
    rateLimited: provider.rateLimited,
    breakers,
  }
}
