import { PHASES, type Scenario } from './scenario.js'
import type { StatsSnapshot } from './stats.js'
import { formatRow, phaseDuring, rowBetween, TABLE_LEGEND, tableHeader, type TableRow } from './table.js'

export interface LiveTableOptions {
  services: readonly string[]
  scenario: Scenario
  /** When the scenario started (Date.now()). */
  startMs: number
  out: (line: string) => void
  /** One snapshot per process, in a stable order. */
  snapshots: () => StatsSnapshot[]
  /** Requests the provider has received so far, and how many it answered 429. */
  upstream: () => { requests: number; rateLimited: number }
  /** Called with every row printed. */
  onRow?: (row: TableRow) => void
}

/** Prints the timeline, the header, then one row per second until stopped. */
export function startLiveTable(o: LiveTableOptions): { stop(): void } {
  const s = o.scenario
  const at = (f: number): string => `${((s.durationMs * f) / 1000).toFixed(1)}s`
  o.out('timeline (a second between two acts is the tail of the act before)')
  for (const p of PHASES) {
    o.out(`  ${`${at(p.from)}–${at(p.until)}`.padStart(12)}  ${p.name.padEnd(10)} ${p.what}`)
  }
  o.out('')
  o.out(tableHeader(o.services))
  for (const line of TABLE_LEGEND) o.out(line)
  let t = 0
  let lastTick = o.startMs
  let prev = o.snapshots()
  let prevUpstream = o.upstream()
  const tick = (now: number): void => {
    t++
    const cur = o.snapshots()
    const upstream = o.upstream()
    const phase = phaseDuring(Math.max(0, lastTick - o.startMs), Math.max(0, now - o.startMs), s.durationMs)
    const provider = {
      requests: upstream.requests - prevUpstream.requests,
      rateLimited: upstream.rateLimited - prevUpstream.rateLimited,
    }
    const row = rowBetween(t, phase, prev, cur, provider, o.services)
    prev = cur
    prevUpstream = upstream
    lastTick = now
    o.out(formatRow(row, o.services))
    o.onRow?.(row)
  }
  const timer = setInterval(() => tick(Date.now()), 1_000)
  return {
    stop() {
      clearInterval(timer)
      // The last, partial second (the run ends on its own timer, not on a tick).
      if (Date.now() - lastTick >= 250) tick(Date.now())
    },
  }
}
