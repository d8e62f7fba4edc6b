export { instrument, type Instrumentable, type Instrumentation } from './instrument.js'
export { DEFAULT_METRIC_PREFIX, LLM_DURATION_BUCKETS, type InstrumentOptions } from './instrument-options.js'
export { METRIC_SPECS, type MetricName } from './metric-set.js'
export { serveMetrics, type MetricsServer, type ServeMetricsOptions } from './serve-metrics.js'
