import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { instrument } from '../../src/metrics/instrument.js'
import {
  compactionWorker,
  type AdmissionSignals,
  type CompactionWorker,
  type Summarizer,
} from '../../src/pipeline/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, type Deferred } from '../helpers/deferred.js'
import { byLabel, value } from './read-metrics.js'
import { longChat } from './e2e-scenario.js'

const P = 'breakwater_'
const POLICY = { contextWindow: 4_000, triggerTokens: 2_000 }

let workers: CompactionWorker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.dispose()))
  workers = []
})

describe('compaction metrics', () => {
  it('M14 compaction_runs_total by outcome, compaction_duration_seconds, compaction_admission_total by reason', async () => {
    const clock = testClock()
    const pending: Deferred<string>[] = []
    const summarizer: Summarizer = {
      name: 'controlled',
      summarize() {
        const d = deferred<string>()
        pending.push(d)
        return d.promise
      },
    }
    const signals: { -readonly [K in keyof AdmissionSignals]: AdmissionSignals[K] } = {
      memoryPressure: false,
      providerDegraded: false,
      queueSaturated: false,
    }
    const worker = compactionWorker({
      summarizer,
      fallback: false,
      policy: POLICY,
      clock,
      quota: { cooldownMs: 0 },
      signals: { read: () => ({ ...signals }) },
    })
    workers.push(worker)
    const registry = new Registry()
    instrument(registry, worker)
    expect(await byLabel(registry, `${P}compaction_runs_total`, 'outcome')).toEqual({
      completed: 0,
      failed: 0,
      rejected: 0,
    })
    expect(Object.values(await byLabel(registry, `${P}compaction_admission_total`, 'reason'))).toEqual(
      Array(9).fill(0),
    )

    const a = worker.session('a')
    expect((await a.endTurn(longChat()))?.reason).toBe('allowed')
    expect((await a.endTurn(longChat()))?.reason).toBe('pending')
    await clock.advance(2_000)
    pending[0]!.resolve('The user asked for edits; all files were edited.')
    await a.idle()

    const b = worker.session('b')
    expect((await b.endTurn(longChat()))?.reason).toBe('allowed')
    await clock.advance(500)
    pending[1]!.reject(new Error('summarizer down'))
    await b.idle()

    const c = worker.session('c')
    expect((await c.endTurn(longChat()))?.reason).toBe('allowed')
    pending[2]!.resolve('long '.repeat(2_000))
    await c.idle()

    signals.providerDegraded = true
    expect((await worker.session('d').endTurn(longChat()))?.reason).toBe('provider_degraded')

    expect(await byLabel(registry, `${P}compaction_runs_total`, 'outcome')).toEqual({
      completed: 1,
      failed: 1,
      rejected: 1,
    })
    expect(await byLabel(registry, `${P}compaction_admission_total`, 'reason')).toMatchObject({
      allowed: 3,
      pending: 1,
      provider_degraded: 1,
      cooldown: 0,
    })
    expect(await value(registry, `${P}compaction_duration_seconds_count`)).toBe(3)
    expect(await value(registry, `${P}compaction_duration_seconds_sum`)).toBeCloseTo(2.5)
    expect(await value(registry, `${P}compaction_duration_seconds_bucket`, { le: '2.5' })).toBe(3)
    expect(await value(registry, `${P}compaction_duration_seconds_bucket`, { le: '1' })).toBe(2)
  })
})
