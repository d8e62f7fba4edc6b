import { ProxyTracerProvider, trace, type Tracer, type TracerProvider } from '@opentelemetry/api'

/** The tracer every span of breakwater is created on. */
export const TRACER_NAME = 'breakwater'
/** The one span each guarded call is. */
export const CALL_SPAN_NAME = 'breakwater.call'

/** What the global provider hands out while no app has registered one (the API's no-op provider). */
const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate()

let knownProvider: TracerProvider | undefined
let knownTracer: Tracer | undefined

/**
 * The `breakwater` tracer of the tracer provider the app registered, through the global API (no
 * wiring); undefined while none is registered. This runs on every call, so it is a few property
 * reads: the tracer is looked up again only when the registered provider changes.
 */
export function activeTracer(): Tracer | undefined {
  let provider = trace.getTracerProvider()
  if (provider instanceof ProxyTracerProvider) provider = provider.getDelegate()
  if (provider === NOOP_PROVIDER) return undefined
  if (provider !== knownProvider) {
    knownProvider = provider
    knownTracer = provider.getTracer(TRACER_NAME)
  }
  return knownTracer
}

const untraced = new WeakSet<object>()

/**
 * Turns the `breakwater.call` span off (or back on) for calls made through `guard` — a single
 * guard, a `compose()` or an `llmGuard()`; returns the guard. Spans are on by default, and exist
 * only once an app registers an OpenTelemetry tracer provider; without one a call pays only for
 * the check that none is registered. Turning a guard off affects only calls whose `execute()` is
 * that guard's: a composition containing it is traced as a whole.
 */
export function setTracing<G extends object>(guard: G, enabled: boolean): G {
  if (typeof guard !== 'object' || guard === null) {
    throw new TypeError(`setTracing: guard must be a Guard, got ${String(guard)}`)
  }
  if (typeof enabled !== 'boolean') {
    throw new TypeError(`setTracing: enabled must be a boolean, got ${typeof enabled}`)
  }
  if (enabled) untraced.delete(guard)
  else untraced.add(guard)
  return guard
}

export function isUntraced(guard: object): boolean {
  return untraced.has(guard)
}
