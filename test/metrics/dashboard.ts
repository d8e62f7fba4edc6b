/** Reads dashboards/breakwater.json and the PromQL in it. */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface DashboardPanel {
  id: number
  type: string
  title: string
  datasource?: { type: string; uid: string }
  targets?: { expr: string; refId: string }[]
  panels?: DashboardPanel[]
}

export interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[]
  __requires?: { type: string; id: string; version: string }[]
  schemaVersion: number
  title: string
  uid: string
  templating: {
    list: {
      name: string
      type: string
      query: unknown
      definition?: string
      datasource?: { type: string; uid: string }
      includeAll?: boolean
      allValue?: string
      current?: { value?: string }
    }[]
  }
  panels: DashboardPanel[]
}

export const DASHBOARD_PATH = fileURLToPath(new URL('../../dashboards/breakwater.json', import.meta.url))

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard
}

/** Every panel, rows' nested panels included. */
export function allPanels(d: Dashboard): DashboardPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])])
}

/** Every query expression with the panel it belongs to. */
export function expressions(d: Dashboard): { panel: string; expr: string }[] {
  return allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })))
}

/**
 * The expression as Prometheus can run it: template variables replaced the way Grafana would for
 * "All" ($service → '.*', used with =~) and a concrete range for $__rate_interval.
 */
export function concrete(expr: string, rateInterval = '5s'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$service', '.*')
    .replaceAll('$job', '.*')
    .replaceAll('$instance', '.*')
}
