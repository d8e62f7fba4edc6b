export { setTracing, TRACER_NAME, CALL_SPAN_NAME } from './tracer.js'
export { SPAN_EVENTS } from './span-events.js'
export type { CallOutcome } from './outcome.js'
