import { describe, expect, it } from 'vitest'
import { InMemoryCircuitBackend } from '../../src/circuit/backends/memory-backend.js'
import type { CircuitConfig } from '../../src/circuit/circuit-backend.js'
import { testClock } from '../../src/testing/test-clock.js'
import { describeCircuitBackend } from './backend-contract.js'

describeCircuitBackend('memory', async (clock) => ({
  backend: new InMemoryCircuitBackend({ clock }),
  cleanup: async () => {},
}))

const config: CircuitConfig = Object.freeze({
  threshold: 1,
  recoveryMs: 1_000,
  maxRecoveryMs: 10_000,
  halfOpenSuccesses: 1,
  probeLeaseMs: 5_000,
})

describe('InMemoryCircuitBackend', () => {
  it('C4 keeps at most maxServices, forgetting idle closed services before anything else', () => {
    const backend = new InMemoryCircuitBackend({ maxServices: 3, clock: testClock() })
    backend.record('failing', config, { outcome: 'failure' }) // open
    backend.admit('idle-1', config)
    backend.admit('idle-2', config)
    expect(backend.size).toBe(3)
    backend.admit('idle-3', config) // the least recently used idle one goes: idle-1
    expect([backend.size, backend.has('idle-1'), backend.has('failing')]).toEqual([3, false, true])
    backend.admit('idle-2', config) // used again: idle-3 is now the oldest idle one
    backend.admit('idle-4', config)
    expect([backend.has('idle-2'), backend.has('idle-3'), backend.has('idle-4')]).toEqual([true, false, true])
    expect(backend.snapshot('failing', config).state).toBe('open')
  })

  it('C4 a closed service with counted failures is forgotten before an open one', () => {
    const counting = { ...config, threshold: 5 }
    const backend = new InMemoryCircuitBackend({ maxServices: 2, clock: testClock() })
    backend.record('open', config, { outcome: 'failure' })
    backend.record('counting', counting, { outcome: 'failure' })
    backend.admit('new', config)
    expect([backend.has('open'), backend.has('counting'), backend.has('new')]).toEqual([true, false, true])
    expect(backend.snapshot('open', config).state).toBe('open')
  })

  it('C4 the bound holds even when every kept service is open (oldest open one forgotten last)', () => {
    const backend = new InMemoryCircuitBackend({ maxServices: 2, clock: testClock() })
    backend.record('a', config, { outcome: 'failure' })
    backend.record('b', config, { outcome: 'failure' })
    backend.record('c', config, { outcome: 'failure' })
    expect(backend.size).toBe(2)
    expect(backend.snapshot('a', config).state).toBe('closed') // forgotten
    expect(backend.snapshot('b', config).state).toBe('open')
    expect(backend.snapshot('c', config).state).toBe('open')
  })

  it('C4 admitting through a closed breaker answers synchronously with one shared object', () => {
    const backend = new InMemoryCircuitBackend({ clock: testClock() })
    const first = backend.admit('svc', config)
    expect(first).toEqual({ kind: 'allow' })
    expect(backend.admit('svc', config)).toBe(first)
    expect(backend.admit('other', config)).toBe(first)
  })
})
