/**
 * End to end against the real `prometheus` binary (real time: a real server must scrape): an
 * instrumented workload served by serveMetrics, scraped every second; then every PromQL
 * expression of the dashboard must return data, every alert rule must fire (evaluated by that
 * Prometheus), and promtool must accept the exposition.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Registry } from 'prom-client'
import { RedisCircuitBackend } from '../../src/circuit/backends/redis/index.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { instrument } from '../../src/metrics/instrument.js'
import { describe, expect, it } from 'vitest'
import { serveMetrics } from '../../src/metrics/serve-metrics.js'
import {
  httpGet,
  promtoolCheckMetrics,
  type PrometheusServer,
  startPrometheus,
} from '../helpers/prometheus-server.js'
import { concrete, expressions, loadDashboard } from './dashboard.js'
import { startRedis, testPrefix } from '../helpers/redis-server.js'
import { BATCH, createScenario, EMBEDDINGS, FALLBACK, FLAKY, HEALTHY } from './e2e-scenario.js'

const ALERTS = fileURLToPath(new URL('../../dashboards/alerts.yml', import.meta.url))
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

/**
 * The shipped rules with every `for` set to 0 and every range window to 10 s: a few seconds of
 * real time must make each one fire (promtool's unit tests cover the real `for` and windows).
 */
function immediateRules(dir: string): { file: string; names: string[] } {
  const text = readFileSync(ALERTS, 'utf8')
  const file = join(dir, 'alerts.yml')
  writeFileSync(file, text.replace(/^(\s+)for: .+$/gm, '$1for: 0s').replace(/\[\d+m\]/g, '[10s]'))
  return { file, names: [...text.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!) }
}

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
  it('M19 every dashboard query returns data and every alert rule fires on a real Prometheus scraping serveMetrics; promtool check metrics passes', async () => {
    const registry = new Registry()
    const scenario = createScenario(registry)
    const endpoint = await serveMetrics(registry)
    const dir = mkdtempSync(join(tmpdir(), 'breakwater-alerts-'))
    const rules = immediateRules(dir)
    // A breaker on a Redis backend that loses its Redis: the fallback gauge goes to 1.
    const redis = await startRedis()
    const backend = new RedisCircuitBackend({
      client: redis.client({ lazyConnect: true }),
      prefix: testPrefix(),
      commandTimeoutMs: 100,
      failureThreshold: 1,
      recoveryCheckMs: 60_000,
      logger: quiet,
    })
    const shared = circuitGuard({ backend, service: 'openai:shared', threshold: 5, recoveryMs: 60_000 })
    const sharedMetrics = instrument(registry, shared)
    let prometheus: PrometheusServer | undefined
    try {
      await backend.ready()
      const fellBack = new Promise<void>((resolve) => {
        backend.onBackendStateChange((e) => e.to === 'fallback' && resolve())
      })
      await redis.kill()
      await shared
        .execute(() => Promise.reject(Object.assign(new Error('down'), { status: 503 })))
        .catch(() => undefined)
      await fellBack
      prometheus = await startPrometheus({
        targets: [new URL(endpoint.url).host],
        scrapeIntervalS: 1,
        ruleFiles: [rules.file],
      })
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
        ['breakwater_redis_backend_fallback_active', 1],
        // Added for observability: refusals, give-ups, calls without a breaker, providers, rate limits.
        [`breakwater_circuit_rejected_total{service="${FLAKY}",reason="open"}`, P],
        [`breakwater_retry_give_ups_total{service="${BATCH}",stopped_by="budget_exhausted"}`, P],
        [`breakwater_calls_total{service="${EMBEDDINGS}",outcome="success"}`, P],
        [`breakwater_call_duration_seconds_count{service="${EMBEDDINGS}"}`, P],
        [`breakwater_tokens_total{service="${HEALTHY}",kind="input"}`, P],
        [`breakwater_tokens_total{service="${HEALTHY}",kind="output"}`, P],
        [`breakwater_time_to_first_token_seconds_count{service="${HEALTHY}"}`, P],
        [`breakwater_fallbacks_total{from="${FLAKY}",to="${FALLBACK}"}`, P],
        [`breakwater_ratelimit_wait_seconds_count{service="${HEALTHY}"}`, P],
        [`breakwater_ratelimit_limited_total{service="${HEALTHY}",limit="tokens"}`, P],
        [`breakwater_ratelimit_remaining{service="${HEALTHY}",limit="requests"}`, 10],
      ]
      for (const [selector, expected] of seen) {
        expectValue(await scalar(prometheus, `sum(${selector})`), expected)
      }

      // Every shipped alert fired while the scenario ran (its `for` set to 0 for the test).
      await prometheus.waitForScrapes(1) // one more evaluation of the rules
      const fired: string[] = []
      for (const name of rules.names) {
        const result = await prometheus.query(
          `max_over_time(ALERTS{alertname="${name}", alertstate="firing"}[1m])`,
        )
        if (result.length > 0) fired.push(name)
      }
      expect(rules.names).toHaveLength(7)
      expect(fired).toEqual(rules.names)

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
      sharedMetrics.dispose()
      await backend.close()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 40_000)
})
