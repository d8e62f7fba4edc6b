import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { deferred, flush } from '../helpers/deferred.js'

describe('listeners cannot break the guard', () => {
  it('B3 B4 a throwing onSoftLimit listener neither fails a finished call nor strands a queued one', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void => void warnings.push(w)
    process.on('warning', onWarning)
    try {
      const guard = backpressureGuard({ hardLimit: 2, softLimit: 1, maxQueue: 5 })
      guard.onSoftLimit(() => {
        throw new Error('metrics listener bug')
      })
      const first = deferred<string>()
      const second = deferred<string>()
      const a = guard.execute(() => first.promise)
      const b = guard.execute(() => second.promise) // admitted at the soft limit: the listener throws
      const queued = guard.execute(() => 'served')
      expect(guard.queued).toBe(1)
      first.resolve('a done') // the drain admits the queued call: the listener throws again
      expect(await a).toBe('a done')
      expect(await queued).toBe('served')
      second.resolve('b done')
      expect(await b).toBe('b done')
      expect(guard.depth).toBe(0)
      await flush()
      expect(warnings.some((w) => w.message === 'metrics listener bug')).toBe(true)
    } finally {
      process.off('warning', onWarning)
    }
  })
})
