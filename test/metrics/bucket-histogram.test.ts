import { Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { BucketHistogram } from '../../src/metrics/bucket-histogram.js'
import { LLM_DURATION_BUCKETS } from '../../src/metrics/instrument-options.js'

describe('BucketHistogram', () => {
  it('M22 exposes exactly what a prom-client Histogram would for the same observations', async () => {
    const ours = new Registry()
    const theirs = new Registry()
    const bucket = new BucketHistogram('d_seconds', 'help', ['service'], LLM_DURATION_BUCKETS)
    ours.registerMetric(bucket as unknown as Histogram<string>)
    const reference = new Histogram({
      name: 'd_seconds',
      help: 'help',
      labelNames: ['service'],
      buckets: [...LLM_DURATION_BUCKETS],
      registers: [theirs],
    })
    const values = [0, 0.05, 0.0500001, 0.3, 1, 7.5, 119.9, 120, 121, 3_600]
    const handle = bucket.seriesFor({ service: 'a' })
    for (const v of values) {
      handle.observe(v)
      bucket.observe({ service: 'b"x' }, v / 2)
      reference.observe({ service: 'a' }, v)
      reference.observe({ service: 'b"x' }, v / 2)
    }
    bucket.zero({ service: 'c' })
    reference.zero({ service: 'c' })
    expect(await ours.metrics()).toBe(await theirs.metrics())
    // The JSON form too, but for prom-client's exemplar slots (an OpenMetrics feature we do not offer).
    const withoutExemplars = JSON.parse(
      JSON.stringify(await theirs.getMetricsAsJSON(), (k, v: unknown) => (k === 'exemplar' ? undefined : v)),
    )
    expect(await ours.getMetricsAsJSON()).toEqual(withoutExemplars)

    ours.resetMetrics()
    theirs.resetMetrics()
    handle.observe(2) // a handle kept across a reset still counts
    expect(await ours.metrics()).toContain('d_seconds_count{service="a"} 1')
    expect(() => bucket.observe({ service: 'a' }, Number.NaN)).toThrow(TypeError)
    expect(() => bucket.observe({}, 1)).toThrow(/Missing label "service"/)
  })
})
