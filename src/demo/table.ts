import type { BreakerState, Counters, StatsSnapshot } from './stats.js'

/** One line of the live table: what happened during one second. */
export interface TableRow {
  t: number
  phase: string
  calls: number
  ok: number
  failed: number
  retries: number
  shed: number
  joins: number
  compactions: number
  inFlight: number
  /** Requests that reached the provider this second. */
  upstream: number
  /** Per service: the states the breaker went through this second (just the state when none). */
  breakers: Record<string, BreakerState[]>
}

const COLUMNS: [keyof TableRow, string, number][] = [
  ['t', 't', 4],
  ['phase', 'phase', 10],
  ['calls', 'calls', 6],
  ['ok', 'ok', 5],
  ['failed', 'fail', 5],
  ['retries', 'retry', 6],
  ['shed', 'shed', 5],
  ['joins', 'joins', 6],
  ['compactions', 'compact', 8],
  ['inFlight', 'inflight', 9],
  ['upstream', 'upstream', 9],
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

const delta = (cur: Counters, prev: Counters, key: keyof Counters): number => cur[key] - prev[key]

/**
 * The row for one second from the snapshots taken at its start and end, one pair per process (a
 * single process is a fleet of one). Counters add up; for each breaker the longest chain of states
 * any process saw is shown (processes sharing a Redis breaker all see the same one).
 */
export function rowBetween(
  t: number,
  phase: string,
  prevs: readonly StatsSnapshot[],
  curs: readonly StatsSnapshot[],
  upstream: number,
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
  return {
    t,
    phase,
    calls: sum('calls'),
    ok: sum('ok'),
    failed: sum('failed'),
    retries: sum('retries'),
    shed: sum('shed'),
    joins: sum('joins'),
    compactions: sum('compactions'),
    inFlight: curs.reduce((n, cur) => n + cur.inFlight, 0),
    upstream,
    breakers,
  }
}
