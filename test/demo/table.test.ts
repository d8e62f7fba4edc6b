import { describe, expect, it } from 'vitest'
import { formatRow, rowBetween, tableHeader } from '../../src/demo/table.js'
import { zeroCounters, type StatsSnapshot, type Transition } from '../../src/demo/stats.js'

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
    const row = rowBetween(2, 'outage', prevs, curs, 17, services)
    expect(row).toMatchObject({ t: 2, phase: 'outage', calls: 19, ok: 19, inFlight: 4, upstream: 17 })
    // The longest chain any process saw this second; a process that saw nothing new shows its state.
    expect(row.breakers).toEqual({ 'openai:m': ['open', 'half-open', 'closed'], 'anthropic:m': ['closed'] })
    const line = formatRow(row, services)
    expect(line).toContain('OPEN→half-open→closed')
    expect(line.indexOf('OPEN→')).toBe(tableHeader(services).indexOf('openai breaker'))
  })
})
