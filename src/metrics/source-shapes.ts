/**
 * What `instrument()` accepts, recognised by shape (never `instanceof`), so guards from another
 * copy of breakwater, and foreign objects that emit the same events, work too.
 */
import type { CircuitState } from '../circuit/circuit-backend.js'
import type { Event } from '../core/events.js'
import type { Health } from '../classify/classify-error.js'

type Listen<T> = Event<T>

export interface CircuitLike {
  readonly onStateChange: Listen<{ service: string; from: CircuitState; to: CircuitState }>
  readonly onOutcome: Listen<{ service: string; outcome: Health; durationMs: number }>
  readonly onReject?: Listen<{ service: string; reason?: string }>
  state(service?: string): Promise<CircuitState>
  readonly backend?: unknown
}

export interface RetryLike {
  readonly onRetry: Listen<{ service: string; reason: string }>
  readonly onBudgetExhausted?: Listen<{ service: string }>
  readonly onGiveUp?: Listen<{ service: string; stoppedBy: string }>
}

/** A rate limit guard (DESIGN L5): `onWait { service, waitMs }`, `onLimited { service, limit }`, `remaining()`. */
export interface RateLimitLike {
  readonly onWait: Listen<{ service: string; waitMs: number }>
  readonly onLimited: Listen<{ service: string; limit: string }>
  remaining(service: string): Promise<{ requests?: number; tokens?: number }>
}

export interface DedupeLike {
  readonly onDedupe: Listen<{ service: string; result: string }>
  readonly size: number
}

export interface BackpressureLike {
  readonly onShed: Listen<{ reason: string; priority: string }>
  readonly onSoftLimit?: Listen<unknown>
  readonly depth: number
  readonly queued: number
}

/** A circuit backend on its own (its transitions), e.g. one shared by guards instrumented elsewhere. */
export interface BackendLike {
  readonly onStateChange: Listen<{ service: string; from: CircuitState; to: CircuitState }>
  admit(...args: never[]): unknown
}

/** The Redis circuit backend's fallback switch (D5). */
export interface FallbackLike {
  readonly onBackendStateChange: Listen<{ from: string; to: string }>
  /** 'redis' or 'fallback'. */
  readonly backendState?: unknown
}

export interface CompactionRunEvent {
  readonly outcome: string
  readonly durationMs: number
  readonly reason?: string
}

export interface CompactionWorkerLike {
  readonly onCompleted: Listen<CompactionRunEvent>
  readonly onFailed: Listen<CompactionRunEvent>
  readonly onRejected?: Listen<CompactionRunEvent>
  readonly onAdmission?: Listen<{ decision: { reason: string } }>
}

const isFn = (x: unknown): boolean => typeof x === 'function'

export function isObject(x: unknown): x is Record<string, unknown> {
  return (typeof x === 'object' || typeof x === 'function') && x !== null
}

export function isComposed(x: Record<string, unknown>): x is { guards: readonly unknown[] } {
  return Array.isArray(x.guards)
}

export function isCircuit(x: Record<string, unknown>): x is Record<string, unknown> & CircuitLike {
  return isFn(x.onStateChange) && isFn(x.onOutcome) && isFn(x.state)
}

export function isRetry(x: Record<string, unknown>): x is Record<string, unknown> & RetryLike {
  return isFn(x.onRetry)
}

export function isDedupe(x: Record<string, unknown>): x is Record<string, unknown> & DedupeLike {
  return isFn(x.onDedupe) && typeof x.size === 'number'
}

export function isBackpressure(x: Record<string, unknown>): x is Record<string, unknown> & BackpressureLike {
  return isFn(x.onShed) && typeof x.depth === 'number' && typeof x.queued === 'number'
}

export function isRateLimit(x: Record<string, unknown>): x is Record<string, unknown> & RateLimitLike {
  return isFn(x.onWait) && isFn(x.onLimited) && isFn(x.remaining)
}

export function isBackend(x: Record<string, unknown>): x is Record<string, unknown> & BackendLike {
  return isFn(x.onStateChange) && isFn(x.admit)
}

export function isFallback(x: Record<string, unknown>): x is Record<string, unknown> & FallbackLike {
  return isFn(x.onBackendStateChange)
}

export function isCompactionWorker(
  x: Record<string, unknown>,
): x is Record<string, unknown> & CompactionWorkerLike {
  return isFn(x.onCompleted) && isFn(x.onFailed)
}

/** A guard breakwater has nothing to count for (the timeout guard, a foreign guard). */
export function isGuard(x: Record<string, unknown>): boolean {
  return isFn(x.execute) && typeof x.name === 'string'
}

/** True for any object `instrument()` can take as a source. */
export function isSource(x: unknown): boolean {
  if (!isObject(x)) return false
  return (
    isComposed(x) ||
    isGuard(x) ||
    isCircuit(x) ||
    isRetry(x) ||
    isDedupe(x) ||
    isBackpressure(x) ||
    isRateLimit(x) ||
    isBackend(x) ||
    isFallback(x) ||
    isCompactionWorker(x)
  )
}

/** The `service` a guard was given (a string option), if it exposes one. */
export function ownService(x: Record<string, unknown>): string | undefined {
  const service = x.service
  return typeof service === 'string' ? service : undefined
}
