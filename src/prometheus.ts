/** `breakwater/prometheus`: prom-client instrumentation for guards and workers. */
export {}
