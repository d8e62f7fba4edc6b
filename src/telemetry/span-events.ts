/**
 * Span events from the guards' own events: each guard of a traced composition is subscribed once,
 * the first time a call through it is traced, and each event goes to the span of the call running
 * in the active context (guards emit them while that call's chain runs). Guards that are never
 * traced are never subscribed, so their events stay as cheap as before.
 */
import type { Attributes } from '@opentelemetry/api'
import type { Event } from '../core/events.js'
import { activeCall } from './call-trace.js'

/** Span event names. */
export const SPAN_EVENTS = Object.freeze({
  retry: 'breakwater.retry',
  circuitRejected: 'breakwater.circuit_rejected',
  shed: 'breakwater.shed',
  rateLimited: 'breakwater.rate_limited',
  dedupe: 'breakwater.dedupe',
})

type Shape = Record<string, unknown>
type Listen = Event<Shape>

const watched = new WeakSet<object>()

/** Subscribes every layer of `guard` (walking `.guards` of compositions) to span events, once per layer. */
export function watchGuardEvents(guard: object): void {
  if (watched.has(guard)) return
  watched.add(guard)
  const layers = (guard as { guards?: unknown }).guards
  if (Array.isArray(layers)) {
    for (const layer of layers as unknown[])
      if (typeof layer === 'object' && layer !== null) watchGuardEvents(layer)
  }
  const g = guard as Record<string, unknown>
  on(g.onRetry, (e) =>
    record(SPAN_EVENTS.retry, { attempt: num(e.attempt), delay_ms: num(e.delayMs), reason: str(e.reason) }),
  )
  // A breaker's cooldown waited out before the same attempt runs again: a retry the provider scheduled.
  on(g.onCooldownWait, (e) =>
    record(SPAN_EVENTS.retry, { attempt: num(e.attempt), delay_ms: num(e.delayMs), reason: 'cooldown' }),
  )
  on(g.onReject, (e) =>
    record(SPAN_EVENTS.circuitRejected, {
      reason: str(e.reason),
      state: str(e.state),
      retry_after_ms: num(e.retryAfterMs),
    }),
  )
  on(g.onShed, (e) =>
    record(SPAN_EVENTS.shed, {
      reason: str(e.reason),
      priority: str(e.priority),
      depth: num(e.depth),
      capacity: num(e.capacity),
    }),
  )
  on(g.onDedupe, (e) => record(SPAN_EVENTS.dedupe, { result: str(e.result) }))
}

/**
 * The hook a rate limit calls once a call it held back goes, in that call's chain step (not from a
 * timer or another call's release, which run in another call's context): a
 * `breakwater.rate_limited` event on the call's span with the budget that was short and how long
 * the call waited (`waitMs`). A refusal needs no call: a call that ends with a `RateLimitError`
 * gets the event (`refused: true`, `retry_after_ms`) from its error. Does nothing when the call is
 * not traced.
 */
export function traceRateLimited(e: { limit: string; waitMs?: number; retryAfterMs?: number }): void {
  const call = activeCall()
  if (call === undefined) return
  const attributes: Attributes = { limit: e.limit, refused: e.waitMs === undefined }
  if (e.waitMs !== undefined) attributes.wait_ms = e.waitMs
  if (e.retryAfterMs !== undefined && Number.isFinite(e.retryAfterMs))
    attributes.retry_after_ms = e.retryAfterMs
  call.event(SPAN_EVENTS.rateLimited, attributes)
}

function on(event: unknown, listener: (e: Shape) => void): void {
  if (typeof event === 'function') (event as Listen)(listener)
}

function record(name: string, attributes: Attributes): void {
  activeCall()?.event(name, attributes)
}

/** Attribute values must be finite numbers (an isolated breaker's Infinity is left out). */
function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined
}
