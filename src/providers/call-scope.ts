import { AsyncLocalStorage } from 'node:async_hooks'
import { callOptionsOf, type ProviderCallOptions } from './provider-options.js'

/** One SDK request in flight: its `breakwater` options, and the error the transport ended it with. */
export interface CallScope {
  call: ProviderCallOptions | undefined
  /** Set when the guarded fetch threw (a guard's rejection, a network error after retries). */
  failure?: unknown
}

/**
 * Why a scope and not a header or `fetchOptions`: a header goes over the wire unless stripped and
 * enters dedupe keys; `fetchOptions` are copied on some paths only (Anthropic middleware rebuilds
 * requests). The scope follows the request's async chain from `makeRequest` into `fetch`, and a
 * call made from inside another (a tool run by `runTools`) opens a scope of its own.
 */
const scopes = new AsyncLocalStorage<CallScope>()

/** The scope of the request the SDK is making right now, if it was made through the request shim. */
export function currentScope(): CallScope | undefined {
  return scopes.getStore()
}

/** SDK errors that wrap whatever `fetch` threw. */
const CONNECTION_ERRORS = new Set(['APIConnectionError', 'APIConnectionTimeoutError'])

type MakeRequest = (
  this: object,
  options: unknown,
  retriesRemaining: unknown,
  ...rest: unknown[]
) => Promise<unknown>

/**
 * Installs, on one SDK client instance, the shim around its request path (`makeRequest`, the one
 * function both SDKs send every request through — resource methods, helpers, pagination). It
 *
 * - reads the request options' `breakwater` part and makes it visible to the transport (the
 *   guarded `fetch`) for this request, through an `AsyncLocalStorage` scope;
 * - turns the SDK's retries off for the request, whatever `maxRetries` the caller passed;
 * - rethrows a guard's rejection (BrokenCircuitError, BackpressureShedError, TimeoutError, …) as
 *   itself: the SDK would wrap anything `fetch` throws in an `APIConnectionError`.
 *
 * Returns false when the client has no such function (another SDK version): the transport still
 * guards every request, with default call options and the SDK's wrapped errors.
 */
export function installRequestShim(owner: string, client: object): boolean {
  const original = (client as { makeRequest?: unknown }).makeRequest
  if (typeof original !== 'function') return false
  const makeRequest = original as MakeRequest
  function guardedMakeRequest(
    this: object,
    optionsInput: unknown,
    retriesRemaining: unknown,
    ...rest: unknown[]
  ) {
    const scope: CallScope = { call: undefined }
    const options = Promise.resolve(optionsInput).then((o) => {
      scope.call = callOptionsOf(owner, o)
      // One retry loop, ours: the SDK's never runs for a wrapped client.
      return { ...(o as object), maxRetries: 0 }
    })
    return scopes
      .run(scope, () => makeRequest.call(this, options, retriesRemaining, ...rest))
      .catch((error: unknown) => {
        throw scope.failure !== undefined && wraps(error, scope.failure) ? scope.failure : error
      })
  }
  Object.defineProperty(client, 'makeRequest', {
    value: guardedMakeRequest,
    configurable: true,
    writable: true,
  })
  return true
}

function wraps(error: unknown, failure: unknown): boolean {
  if (error === failure) return true
  const e = error as { cause?: unknown; constructor?: { name?: string } } | null
  return e?.cause === failure || CONNECTION_ERRORS.has(e?.constructor?.name ?? '')
}
