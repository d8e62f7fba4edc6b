import { ProxyTracerProvider, trace, type Tracer, type TracerProvider } from '@opentelemetry/api'

/** The tracer every span of breakwater is created on. */
export const TRACER_NAME = 'breakwater'
/** The one span each guarded call is. */
export const CALL_SPAN_NAME = 'breakwater.call'

/** What the global provider hands out while no app has registered one (the API's no-op provider). */
const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate()

/**
 * A registration the cached provider cannot see (another installed copy of the API registering
 * later, or `trace.disable()` followed by a new registration) is noticed within this many calls.
 */
const REVALIDATE_EVERY = 1_024

/** The global provider as last read; reading the global itself costs more than a call's guards. */
let global: TracerProvider = trace.getTracerProvider()
let globalIsProxy = global instanceof ProxyTracerProvider
let countdown = REVALIDATE_EVERY
let knownProvider: TracerProvider | undefined
let knownTracer: Tracer | undefined

/**
 * The `breakwater` tracer of the tracer provider the app registered, through the global API (no
 * wiring); undefined while none is registered. This runs on every call: while none is registered
 * it is one method call on the cached global provider (registering through it sets its delegate,
 * seen at once), and every `REVALIDATE_EVERY` calls a fresh read of the global. Once a provider is
 * registered the global is read on each call (a span costs far more).
 */
export function activeTracer(): Tracer | undefined {
  const delegate = globalIsProxy ? (global as ProxyTracerProvider).getDelegate() : global
  if (delegate === NOOP_PROVIDER && --countdown > 0) return undefined
  return resolveTracer()
}

function resolveTracer(): Tracer | undefined {
  countdown = REVALIDATE_EVERY
  global = trace.getTracerProvider()
  globalIsProxy = global instanceof ProxyTracerProvider
  const provider = globalIsProxy ? (global as ProxyTracerProvider).getDelegate() : global
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
