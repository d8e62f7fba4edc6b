import type { Priority } from '../core/call-options.js'
import { isBrokenCircuitError } from '../core/errors/broken-circuit-error.js'
import { isTimeoutError } from '../core/errors/timeout-error.js'
import { optionalFunction, optionalString, requireOptions } from '../core/validate.js'
import { classifyError } from '../classify/classify-error.js'

/** Per-call data for a wrapped method: `create(body, { breakwater: { priority, cost, key } })`. */
export interface ProviderCallOptions {
  /** Default 'foreground'. */
  priority?: Priority
  /** Weight for backpressure's cost limit (for example, estimated tokens). Default 1. */
  cost?: number
  /**
   * Dedupe key. Default: `requestKey(body, scope)` for non-streaming calls whose request options
   * carry nothing but `signal`, `timeout`, `maxRetries` or `idempotencyKey`; none for streams.
   * `false` turns dedupe off for the call.
   */
  key?: string | false
}

export interface WrapOptions {
  /**
   * Prefix of every dedupe key, so identical requests share a result only within a scope. Default:
   * a SHA-256 of the client's base URL and credentials (API key, organisation, project / auth
   * token), so results never cross tenants; a client whose key comes from a function gets a scope
   * of its own.
   */
  scope?: string
  /**
   * Models to try, in order, with the same request when the previous model's call fails for good
   * (see `fallbackOn`). Each model is its own service (`openai:<model>`), so each has its own
   * breaker. The answer's `model` field says which one answered. Default: none.
   */
  fallbackModels?: readonly string[]
  /**
   * Whether a failed call moves on to the next fallback model. Default: on a `BrokenCircuitError`
   * and on errors `classifyError` calls retryable (rate limits, 5xx, overload, network errors,
   * attempt and idle timeouts) — never on the caller's abort, a total timeout, load shedding or a
   * 4xx that would fail the same way on every model.
   */
  fallbackOn?: (error: unknown) => boolean
}

export interface ResolvedWrapOptions {
  scope: string | undefined
  models: readonly string[]
  fallbackOn: (error: unknown) => boolean
}

export function resolveWrapOptions(owner: string, options: unknown): ResolvedWrapOptions {
  const o = requireOptions<WrapOptions>(owner, options, true)
  const scope = optionalString(owner, 'scope', o.scope)
  const models = o.fallbackModels ?? []
  if (!Array.isArray(models) || models.some((m) => typeof m !== 'string' || m === '')) {
    throw new TypeError(
      `${owner}: option "fallbackModels" must be an array of non-empty strings, got ${JSON.stringify(models)}`,
    )
  }
  return {
    scope,
    models: Object.freeze([...models]),
    fallbackOn:
      optionalFunction<(error: unknown) => boolean>(owner, 'fallbackOn', o.fallbackOn) ?? fallbackOn,
  }
}

/** The default `fallbackOn`. */
export function fallbackOn(error: unknown): boolean {
  if (isBrokenCircuitError(error)) return true
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

/** Request options that cannot change who is asking or what is asked: safe to dedupe across. */
const KEY_NEUTRAL = new Set(['signal', 'timeout', 'maxRetries', 'idempotencyKey', 'breakwater', 'stream'])

/** The caller's request options split into breakwater's part, the signal and what goes to the SDK. */
export interface SplitOptions {
  call: ProviderCallOptions | undefined
  signal: AbortSignal | undefined
  /** Options for the SDK, without `breakwater` (signal and maxRetries are set per attempt). */
  sdk: Record<string, unknown>
  /** True when nothing in the options could change the answer or the tenant. */
  keyNeutral: boolean
}

export function splitOptions(owner: string, options: unknown): SplitOptions {
  if (options === undefined || options === null)
    return { call: undefined, signal: undefined, sdk: {}, keyNeutral: true }
  if (typeof options !== 'object') {
    throw new TypeError(`${owner}: request options must be an object, got ${typeof options}`)
  }
  const { breakwater, ...sdk } = options as Record<string, unknown> & { breakwater?: unknown }
  if (breakwater !== undefined && (typeof breakwater !== 'object' || breakwater === null)) {
    throw new TypeError(`${owner}: request option "breakwater" must be an object, got ${String(breakwater)}`)
  }
  let keyNeutral = true
  for (const name of Object.keys(sdk)) if (!KEY_NEUTRAL.has(name)) keyNeutral = false
  const signal = sdk.signal as AbortSignal | undefined
  return { call: breakwater as ProviderCallOptions | undefined, signal: signal ?? undefined, sdk, keyNeutral }
}
