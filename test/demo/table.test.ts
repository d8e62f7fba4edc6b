import { describe, expect, it } from 'vitest'
import { PHASES, scenario } from '../../src/demo/scenario.js'
import { formatRow, phaseDuring, rowBetween, TABLE_LEGEND, tableHeader } from '../../src/demo/table.js'
import { zeroCounters, type Counters, type StatsSnapshot, type Transition } from '../../src/demo/stats.js'

const services = ['openai:m', 'anthropic:m'] as const

function snap(calls: number, transitions: Transition[], states: StatsSnapshot['states'] = {}): StatsSnapshot {
  return { counters: { ...zeroCounters(), calls, ok: calls }, inFlight: 2, queued: 0, states, transitions }
}

describe('live table', () => {
  it('a row adds up every process for the second and shows the breaker states the second went through', () => {
    const open: Transition = { service: 'openai:m', from: 'closed', to: 'open', atMs: 1_200 }
    const probe: Transition = { service: 'openai:m', from: 'open', to: 'half-open', atMs: 1_500 }
    const closed: Transition = { service: 'openai:m', from: 'half-open', to: 'closed', atMs: 1_600 }
    const prevs = [snap(10, [open]), snap(5, [])]
    const curs = [
      snap(25, [open, probe, closed], { 'openai:m': 'closed' }),
      snap(9, [open], { 'openai:m': 'open' }),
    ]
    const row = rowBetween(2, 'outage', prevs, curs, { requests: 17, rateLimited: 3 }, services)
    expect(row).toMatchObject({
      t: 2,
      phase: 'outage',
      calls: 19,
      ok: 19,
      started: 19,
      inFlight: 4,
      upstream: 17,
      rateLimited: 3,
    })
    // The longest chain any process saw this second; a process that saw nothing new shows its state.
    expect(row.breakers).toEqual({ 'openai:m': ['open', 'half-open', 'closed'], 'anthropic:m': ['closed'] })
    const line = formatRow(row, services)
    expect(line).toContain('OPEN→half-open→closed')
    expect(line.indexOf('OPEN→')).toBe(tableHeader(services).indexOf('openai breaker'))
  })

  it('the call columns add up: calls = ok + fail + shed, all ended in the second; calls begun are counted apart; shed work is not a failure', () => {
    const at = (c: Partial<Counters>): StatsSnapshot => ({
      counters: { ...zeroCounters(), ...c },
      inFlight: 0,
      queued: 0,
      states: {},
      transitions: [],
    })
    const none = { requests: 0, rateLimited: 0 }
    // Second 1: 10 calls begin, 4 answer, 1 fails, 2 background calls are shed; 3 are still running.
    const s0 = at({})
    const s1 = at({ calls: 10, ok: 4, failed: 3, failedShed: 2, shed: 2, shedBackground: 2 })
    // Second 2: 2 more begin; the 3 running ones and 1 new one answer (more ended than began).
    const s2 = at({ calls: 12, ok: 8, failed: 3, failedShed: 2, shed: 2, shedBackground: 2 })
    const first = rowBetween(1, 'spike', [s0], [s1], none, services)
    const second = rowBetween(2, 'spike', [s1], [s2], none, services)
    expect(first).toMatchObject({ calls: 7, ok: 4, failed: 1, shed: 2, started: 10 })
    expect(second).toMatchObject({ calls: 4, ok: 4, failed: 0, shed: 0, started: 2 })
    for (const row of [first, second]) expect(row.ok + row.failed + row.shed).toBe(row.calls)
    const header = tableHeader(services)
    expect(header).toMatch(/^\s+t phase\s+calls\s+ok\s+fail\s+shed\s+started/)
    expect(TABLE_LEGEND.join(' ')).toMatch(/calls = ok \+ fail \+ shed/)
    expect(TABLE_LEGEND.join(' ')).toMatch(/shed = background work refused on purpose/)
    for (const line of TABLE_LEGEND) expect(line).not.toMatch(/^\s+\d+s /) // never read as a row
  })

  it('the legend explains every column: paced (calls that waited for the budget) and 429 (answered 429) included', () => {
    const titles = tableHeader(services)
      .split(/\s+/)
      .filter((w) => w !== '' && !['t', 'phase', 'openai', 'anthropic', 'breaker'].includes(w))
    expect(titles).toEqual(expect.arrayContaining(['paced', '429']))
    const legend = TABLE_LEGEND.join(' ')
    for (const title of titles) expect(legend, title).toMatch(new RegExp(`(^|[ ;+])${title}( =| \\+|;)`))
    expect(legend).toContain("paced = calls that waited for the provider's budget, then went")
    const row = rowBetween(
      1,
      'rate limit',
      [snap(0, [])],
      [{ ...snap(0, []), counters: { ...zeroCounters(), waits: 6 } }],
      { requests: 9, rateLimited: 1 },
      services,
    )
    expect(row).toMatchObject({ paced: 6, upstream: 9, rateLimited: 1 })
    const line = formatRow(row, services)
    const header = tableHeader(services)
    // Each number sits right-aligned under its title.
    expect(
      line
        .slice(0, header.indexOf('paced') + 5)
        .trimEnd()
        .endsWith(' 6'),
    ).toBe(true)
    expect(
      line
        .slice(0, header.indexOf(' 429') + 4)
        .trimEnd()
        .endsWith(' 1'),
    ).toBe(true)
  })

  it('every row is labelled with an act of the timeline: a second between two acts is the tail of the act before', () => {
    const s = scenario(20)
    const names = new Set(PHASES.map((p) => p.name))
    const labels = Array.from({ length: 21 }, (_, t) => phaseDuring(t * 1000, (t + 1) * 1000, s.durationMs))
    for (const label of labels) expect(names.has(label), label).toBe(true)
    expect(labels).not.toContain('steady')
    expect(labels[0]).toBe('warm-up')
    expect(labels[3]).toBe('429 burst') // 3 s to 4 s: the burst (3.0 s to 4.0 s)
    expect(labels[4]).toBe('429 burst') // 4 s to 5 s: between the burst and the spike
    expect(labels[5]).toBe('spike')
    expect(labels[8]).toBe('spike') // 8 s to 9 s: between the spike and the outage
    expect(labels[9]).toBe('outage')
    expect(labels[15]).toBe('recovery')
    expect(labels[16]).toBe('rate limit') // 16 s to 20 s: the budget below demand
    expect(labels[20]).toBe('rate limit') // the last, partial second
  })
})
