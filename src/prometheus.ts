/** `breakwater/prometheus`: prom-client instrumentation for guards, workers and Redis backends. */
export {
  instrument,
  serveMetrics,
  DEFAULT_METRIC_PREFIX,
  LLM_DURATION_BUCKETS,
  METRIC_SPECS,
  type Instrumentable,
  type Instrumentation,
  type InstrumentOptions,
  type MetricName,
  type MetricsServer,
  type ServeMetricsOptions,
} from './metrics/index.js'
