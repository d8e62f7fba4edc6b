import type { Clock } from '../core/clock.js'
import type { Priority } from '../core/call-options.js'
import { isBrokenCircuitError } from '../core/errors/broken-circuit-error.js'
import { isRateLimitError } from '../core/errors/rate-limit-error.js'
import { isTimeoutError } from '../core/errors/timeout-error.js'
import {
  optionalClock,
  optionalFunction,
  optionalOneOf,
  optionalString,
  requireOptions,
} from '../core/validate.js'
import { systemClock } from '../core/clock.js'
import { classifyError } from '../classify/classify-error.js'
import type { ProviderResponse } from './observation.js'

/** Per-call data for a wrapped method: `create(body, { breakwater: { priority, cost, key } })`. */
export interface ProviderCallOptions {
  /** Default 'foreground'. */
  priority?: Priority
  /**
   * Weight of the call for backpressure's cost limit and the rate limiter, in tokens. Default: the
   * request's estimate (`estimateRequestCost`: its input tokens plus the output it allows).
   */
  cost?: number
  /**
   * Opts the call into dedupe under this key whatever the `dedupe` mode says (sampled requests
   * included): calls with the same key and the same request share one answer. `false` turns
   * dedupe off for the call. Default: what the `dedupe` option decides.
   */
  key?: string | false
}

/** Which requests a wrapped client merges when identical ones run at the same time (W2). */
export type DedupeMode = 'deterministic' | 'always' | 'never'

export interface WrapOptions {
  /**
   * Which identical concurrent requests share one provider call (the guard must contain a
   * `dedupeGuard` for any to). 'deterministic' (default): only requests whose answer does not
   * depend on sampling — `temperature: 0` with one choice (`n` absent or 1), embeddings and token
   * counts; sampled requests never, since users sampling in parallel want different answers.
   * 'always': every non-streaming request. 'never': none. A call's own `key` opts it in anyway.
   * Streams are never merged (a stream has one reader). Each caller gets its own parsed object.
   */
  dedupe?: DedupeMode
  /**
   * Extra prefix of every dedupe key. Keys already include the request's URL, body and headers
   * (credentials hashed), so tenants never share an answer; a scope separates callers further.
   * Default: none.
   */
  scope?: string
  /**
   * Models to try, in order, with the same request when the previous model's call fails for good
   * (see `fallbackOn`). Each model is its own service (`openai:<model>`), so each has its own
   * breaker. The answer's `model` field says which one answered. Default: none.
   */
  fallbackModels?: readonly string[]
  /**
   * Whether a failed call moves on to the next fallback model. Default: on a `BrokenCircuitError`,
   * on a `RateLimitError` (the model's budget is short for longer than the call may wait; the next
   * model has a budget of its own) and on errors `classifyError` calls retryable (rate limits, 5xx, overload, network errors,
   * attempt and idle timeouts) — never on the caller's abort, a total timeout, load shedding or a
   * 4xx that would fail the same way on every model.
   */
  fallbackOn?: (error: unknown) => boolean
  /**
   * Called once for every answer a provider gives (each attempt, error answers included; a stream
   * when it ends) with its service, model, operation, status, headers, token usage (a stream's
   * final usage event) and time to first content. This is where a rate limiter settles tokens
   * and where tokens / time-to-first-token metrics and GenAI span attributes are read. A listener
   * that throws becomes a process warning. Default: none.
   */
  onResponse?: (response: ProviderResponse) => void
  /** Time for `onResponse`'s `durationMs` and `timeToFirstContentMs`. Default `systemClock`. */
  clock?: Clock
}

export interface ResolvedWrapOptions {
  dedupe: DedupeMode
  scope: string | undefined
  models: readonly string[]
  fallbackOn: (error: unknown) => boolean
  onResponse: ((response: ProviderResponse) => void) | undefined
  clock: Clock
}

const DEDUPE_MODES = ['deterministic', 'always', 'never'] as const
/** The default `dedupe` mode. */
export const DEFAULT_DEDUPE_MODE: DedupeMode = 'deterministic'

export function resolveWrapOptions(owner: string, options: unknown): ResolvedWrapOptions {
  const o = requireOptions<WrapOptions>(owner, options, true)
  const models = o.fallbackModels ?? []
  if (!Array.isArray(models) || models.some((m) => typeof m !== 'string' || m === '')) {
    throw new TypeError(
      `${owner}: option "fallbackModels" must be an array of non-empty strings, got ${JSON.stringify(models)}`,
    )
  }
  return {
    dedupe: optionalOneOf(owner, 'dedupe', o.dedupe, DEDUPE_MODES, DEFAULT_DEDUPE_MODE),
    scope: optionalString(owner, 'scope', o.scope),
    models: Object.freeze([...models]),
    fallbackOn:
      optionalFunction<(error: unknown) => boolean>(owner, 'fallbackOn', o.fallbackOn) ?? fallbackOn,
    onResponse: optionalFunction<(r: ProviderResponse) => void>(owner, 'onResponse', o.onResponse),
    clock: optionalClock(owner, o.clock, false) ?? systemClock,
  }
}

/** The default `fallbackOn`. */
export function fallbackOn(error: unknown): boolean {
  if (isBrokenCircuitError(error) || isRateLimitError(error)) return true
  if (isTimeoutError(error)) return error.kind !== 'total'
  return classifyError(error).retryable
}

/**
 * Builds request options that carry breakwater's per-call data, typed so TypeScript accepts them
 * where the SDK expects its own request options: `create(body, breakwaterOptions({ priority:
 * 'background' }, { timeout: 30_000 }))`.
 */
export function breakwaterOptions<T extends object = object>(call: ProviderCallOptions, sdkOptions?: T): T {
  return { ...sdkOptions, breakwater: call } as unknown as T
}

/** The `breakwater` part of a request's options, checked. */
export function callOptionsOf(owner: string, options: unknown): ProviderCallOptions | undefined {
  const call = (options as { breakwater?: unknown } | null | undefined)?.breakwater
  if (call === undefined) return undefined
  if (typeof call !== 'object' || call === null) {
    throw new TypeError(`${owner}: request option "breakwater" must be an object, got ${String(call)}`)
  }
  const { key } = call as ProviderCallOptions
  if (key !== undefined && key !== false && typeof key !== 'string') {
    throw new TypeError(
      `${owner}: request option "breakwater.key" must be a string or false, got ${typeof key}`,
    )
  }
  return call as ProviderCallOptions
}
