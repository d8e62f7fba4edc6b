/**
 * End to end against the real `prometheus` binary (real time: a real server must scrape): an
 * instrumented workload served by serveMetrics, scraped every second; then every PromQL
 * expression of the dashboard must return data, and promtool must accept the exposition.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { serveMetrics } from '../../src/metrics/serve-metrics.js'
import {
  httpGet,
  promtoolCheckMetrics,
  type PrometheusServer,
  startPrometheus,
} from '../helpers/prometheus-server.js'
import { concrete, expressions, loadDashboard } from './dashboard.js'
import { BATCH, createScenario, FLAKY, HEALTHY } from './e2e-scenario.js'

/** The scalar value of an instant query that returns one series (summed by the query). */
async function scalar(prometheus: PrometheusServer, expr: string): Promise<{ expr: string; value: number }> {
  const result = await prometheus.query(expr)
  expect(result, expr).toHaveLength(1)
  return { expr, value: Number(result[0]!.value[1]) }
}

/** Asserts `check(value)`, naming the query when it fails. */
function expectValue({ expr, value }: { expr: string; value: number }, expected: number | 'positive'): void {
  if (expected === 'positive') expect(value, expr).toBeGreaterThan(0)
  else expect(value, expr).toBe(expected)
}

describe('metrics end to end with Prometheus', () => {
  it('M19 every dashboard query returns data from a real Prometheus scraping serveMetrics; promtool check metrics passes', async () => {
    const registry = new Registry()
    const scenario = createScenario(registry)
    const endpoint = await serveMetrics(registry)
    let prometheus: PrometheusServer | undefined
    try {
      prometheus = await startPrometheus({ targets: [new URL(endpoint.url).host], scrapeIntervalS: 1 })
      await prometheus.waitForScrapes(1)
      await scenario.run(4_500) // ≥ 4 scrape intervals
      await prometheus.waitForScrapes(1) // the final counts are in

      const d = loadDashboard()
      const queries = expressions(d)
      expect(queries.length).toBeGreaterThan(20)
      const empty: string[] = []
      for (const { panel, expr } of queries) {
        const result = await prometheus.query(concrete(expr))
        if (result.length === 0) empty.push(`${panel}: ${concrete(expr)}`)
      }
      expect(empty).toEqual([])
      // The service variable's query (label_values) through the equivalent API.
      const services = await prometheus.labelValues('service', 'breakwater_circuit_state')
      expect(services).toEqual(expect.arrayContaining([HEALTHY, FLAKY]))

      // The workload took every path, as Prometheus saw it: [query summed, expected].
      const P = 'positive' as const
      const seen: [string, number | typeof P][] = [
        [`breakwater_calls_total{service="${FLAKY}",outcome="failure"}`, P],
        [`breakwater_calls_total{service="${HEALTHY}",outcome="success"}`, P],
        ['breakwater_calls_total{outcome="ignore"}', P], // the 429s
        [`breakwater_circuit_transitions_total{service="${FLAKY}",to="open"}`, P],
        [`breakwater_circuit_transitions_total{service="${FLAKY}",from="half-open",to="closed"}`, P],
        [`max_over_time(breakwater_circuit_state{service="${FLAKY}",state="open"}[1m])`, 1],
        [`breakwater_circuit_state{service="${FLAKY}",state="closed"}`, 1],
        ['breakwater_retry_attempts_total{reason="server_error"}', P],
        ['breakwater_retry_attempts_total{reason="rate_limited"}', P],
        [`breakwater_retry_budget_exhausted_total{service="${BATCH}"}`, P],
        ['breakwater_backpressure_shed_total{reason="soft_limit",priority="background"}', P],
        ['breakwater_backpressure_shed_total{priority="foreground"}', P],
        ['breakwater_backpressure_soft_limit_total', P],
        ['max_over_time(breakwater_backpressure_inflight[1m])', P],
        ['breakwater_dedupe_requests_total{result="joined"}', P],
        ['breakwater_dedupe_requests_total{result="cached"}', P],
        ['breakwater_compaction_runs_total{outcome="completed"}', P],
        ['breakwater_compaction_runs_total{outcome="failed"}', P],
        ['breakwater_compaction_runs_total{outcome="rejected"}', P],
        ['breakwater_compaction_admission_total{reason="allowed"}', P],
        ['breakwater_compaction_admission_total{reason="pending"}', P],
        ['breakwater_compaction_admission_total{reason="provider_degraded"}', P],
        ['breakwater_compaction_duration_seconds_count', P],
        ['breakwater_redis_backend_fallback_active', 0],
      ]
      for (const [selector, expected] of seen) {
        expectValue(await scalar(prometheus, `sum(${selector})`), expected)
      }

      // promtool lints the exposition exactly as served.
      const exposition = await httpGet(endpoint.url)
      expect(exposition.status).toBe(200)
      const check = await promtoolCheckMetrics(exposition.body)
      expect(check.output).toBe('')
      expect(check.code).toBe(0)
    } finally {
      await prometheus?.stop()
      await endpoint.close()
      await scenario.dispose()
    }
  }, 40_000)
})
