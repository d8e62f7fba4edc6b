import type { Registry } from 'prom-client'

type Labels = Record<string, string>

interface Sample {
  value: number
  labels: Record<string, string | number>
  metricName?: string
}

/** Every sample of a metric (after its collect hook ran), as prom-client reports it. */
export async function samples(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name)
  if (metric === undefined) throw new Error(`metric ${name} is not registered`)
  return (await metric.get()).values as Sample[]
}

/**
 * The value of the one sample of `name` whose labels are exactly `labels` (for histograms pass
 * `name_count`, `name_sum` or `name_bucket` with `le`). Undefined when there is no such series.
 */
export async function value(
  registry: Registry,
  name: string,
  labels: Labels = {},
): Promise<number | undefined> {
  const histogramPart = /_(count|sum|bucket)$/.exec(name)
  const base =
    histogramPart && registry.getSingleMetric(name) === undefined ? name.slice(0, histogramPart.index) : name
  const found = (await samples(registry, base)).filter(
    (s) =>
      (base === name || s.metricName === name) &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => String(s.labels[k]) === v),
  )
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`)
  return found[0]?.value
}

/** `{ labelValue: value }` for a metric with one varying label, filtered by the fixed ones. */
export async function byLabel(
  registry: Registry,
  name: string,
  label: string,
  fixed: Labels = {},
): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const s of await samples(registry, name)) {
    if (Object.entries(fixed).every(([k, v]) => String(s.labels[k]) === v))
      out[String(s.labels[label])] = s.value
  }
  return out
}
