import type { Guard } from '../core/guard.js'
import { installRequestShim } from './call-scope.js'
import type { Fetch } from './fetch-attempt.js'
import { guardedFetch, type Transport } from './guarded-fetch.js'
import { resolveWrapOptions, type WrapOptions } from './provider-options.js'

/** The parts of an SDK client the wrapper uses (both SDKs have them). */
interface SdkClient {
  withOptions(options: Record<string, unknown>): SdkClient
  /** The client's `fetch` (a private field of the SDKs, read to wrap the user's own fetch). */
  fetch?: Fetch
}

/**
 * A copy of `client` (`client.withOptions(…)`, so it is an instance of the same class) whose
 * transport is guarded: its `fetch` runs every request through `guard`, its retries are off, and
 * its copies (`withOptions`) are guarded the same way. The client passed in is left as it was.
 */
export function wrapClient<C>(
  owner: string,
  client: C,
  guard: Guard,
  options: WrapOptions | undefined,
  provider: Transport['provider'],
): C {
  if (typeof (client as Partial<SdkClient> | null)?.withOptions !== 'function') {
    throw new TypeError(
      `${owner}: client must be an SDK client object (with withOptions), got ${describe(client)}`,
    )
  }
  if (typeof (guard as Partial<Guard> | null)?.execute !== 'function') {
    throw new TypeError(`${owner}: guard must be a Guard (an object with execute), got ${describe(guard)}`)
  }
  const transport: Transport = { provider, guard, options: resolveWrapOptions(owner, options) }
  return guardedCopy(owner, client as SdkClient, transport, {}) as C
}

function guardedCopy(
  owner: string,
  source: SdkClient,
  transport: Transport,
  overrides: Record<string, unknown>,
): SdkClient {
  const base = (overrides.fetch as Fetch | undefined) ?? source.fetch ?? globalThis.fetch
  const copy = source.withOptions({ ...overrides, fetch: guardedFetch(base, transport), maxRetries: 0 })
  installRequestShim(owner, copy)
  const withOptions = copy.withOptions
  // A copy of the copy keeps the guard: the fetch it is given (or ours, unwrapped) is guarded anew.
  Object.defineProperty(copy, 'withOptions', {
    value: (more: Record<string, unknown> = {}) =>
      guardedCopy(owner, { withOptions: withOptions.bind(copy), fetch: base }, transport, more),
    configurable: true,
    writable: true,
  })
  return copy
}

function describe(value: unknown): string {
  return value === null || typeof value !== 'object' ? String(value) : (value.constructor?.name ?? 'object')
}
