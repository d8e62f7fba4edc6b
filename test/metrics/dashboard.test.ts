import { describe, expect, it } from 'vitest'
import { METRIC_SPECS, type MetricName } from '../../src/metrics/metric-set.js'
import { allPanels, concrete, expressions, loadDashboard } from './dashboard.js'

const HISTOGRAM_PARTS = /_(bucket|sum|count)$/

describe('Grafana dashboard (dashboards/breakwater.json)', () => {
  it('M17 is importable: schemaVersion ≥ 36, a prometheus datasource variable, service from label_values', () => {
    const d = loadDashboard()
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36)
    expect(d.uid).toBe('breakwater')
    const [datasource, service] = ['datasource', 'service'].map((n) =>
      d.templating.list.find((v) => v.name === n),
    )
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' })
    expect(service).toMatchObject({
      type: 'query',
      datasource: { type: 'prometheus', uid: '${datasource}' },
      definition: 'label_values(breakwater_calls_total{job=~"$job", instance=~"$instance"}, service)',
      includeAll: true,
      allValue: '.*',
    })
    const panels = allPanels(d)
    const ids = panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' })
      expect(p.targets?.length, p.title).toBeGreaterThan(0)
    }
  })

  it('M18 queries only the documented metric names, filter services with =~, and use max by (service) for breaker state', () => {
    const d = loadDashboard()
    const known = new Set(Object.keys(METRIC_SPECS).map((n) => `breakwater_${n}`))
    const used = new Set<string>()
    for (const { panel, expr } of expressions(d)) {
      for (const name of expr.match(/breakwater_[a-z_]+/g) ?? []) {
        const base = known.has(name) ? name : name.replace(HISTOGRAM_PARTS, '')
        expect(known.has(base), `${panel}: ${name}`).toBe(true)
        used.add(base)
      }
      if (expr.includes('$service')) expect(expr, panel).not.toMatch(/service="\$service"/)
      expect(concrete(expr), panel).not.toContain('$')
    }
    expect([...known].filter((n) => !used.has(n))).toEqual([]) // every metric is on the dashboard
    const state = expressions(d).filter((e) => e.expr.includes('breakwater_circuit_state'))
    expect(state.length).toBeGreaterThan(0)
    for (const { expr } of state) {
      expect(expr).toContain('max by (service)')
      expect(expr).not.toMatch(/sum by \(service\)[^)]*circuit_state/)
    }
    const titles = allPanels(d).map((p) => p.title.toLowerCase())
    for (const topic of [
      'breaker state',
      'failure ratio',
      'p50',
      'retries',
      'shed',
      'soft-limit',
      'dedupe join',
    ]) {
      expect(
        titles.some((t) => t.includes(topic)),
        topic,
      ).toBe(true)
    }
    for (const topic of [
      'in flight',
      'compaction runs',
      'compaction duration',
      'admission',
      'redis fallback',
      'refused by the breaker',
      'give-ups',
      'fallbacks',
      'tokens',
      'time to first token',
      'rate-limit wait',
      'rate-limit refusals',
      'budget left',
    ]) {
      expect(
        titles.some((t) => t.includes(topic)),
        topic,
      ).toBe(true)
    }
  })

  it('M29 imports like a shared dashboard: __inputs ask for the data source, __requires match schemaVersion 39 (Grafana 10), job and instance variables', () => {
    const d = loadDashboard()
    expect(d.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ])
    expect(d.schemaVersion).toBe(39)
    const grafana = d.__requires?.find((r) => r.id === 'grafana')
    expect(grafana?.version).toMatch(/^10\./)
    const used = new Set(allPanels(d).map((p) => p.type))
    for (const type of used) {
      if (type !== 'row')
        expect(
          d.__requires?.some((r) => r.type === 'panel' && r.id === type),
          type,
        ).toBe(true)
    }
    const vars = d.templating.list
    expect(vars.map((v) => v.name)).toEqual(['datasource', 'job', 'instance', 'service'])
    expect(vars[0]!.current?.value).toBe('${DS_PROMETHEUS}')
    expect(vars[1]).toMatchObject({
      type: 'query',
      includeAll: true,
      allValue: '.*',
      definition: 'label_values(breakwater_redis_backend_fallback_active, job)',
    })
    expect(vars[2]).toMatchObject({
      type: 'query',
      includeAll: true,
      allValue: '.*',
      definition: 'label_values(breakwater_redis_backend_fallback_active{job=~"$job"}, instance)',
    })
  })

  it('M30 every selector is filtered by job and instance, and by service wherever the metric has that label (backpressure and compaction included)', () => {
    const d = loadDashboard()
    const specs = METRIC_SPECS as Record<string, { labels: readonly string[] }>
    for (const { panel, expr } of expressions(d)) {
      for (const [selector, name, inner] of expr.matchAll(/(breakwater_[a-z_]+)(?:\{([^}]*)\})?/g)) {
        const base = name!.slice('breakwater_'.length).replace(/_(bucket|sum|count)$/, '') as MetricName
        const labels = specs[base]?.labels ?? specs[name!.slice('breakwater_'.length)]!.labels
        expect(inner, `${panel}: ${selector}`).toContain('job=~"$job", instance=~"$instance"')
        if (labels.includes('service'))
          expect(inner, `${panel}: ${selector}`).toContain('service=~"$service"')
      }
    }
    const fallbacks = expressions(d).find((e) => e.expr.includes('breakwater_fallbacks_total'))
    expect(fallbacks?.expr).toContain('from=~"$service"')
  })
})
