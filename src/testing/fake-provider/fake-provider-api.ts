import type { Clock } from '../../core/clock.js'
import type { FaultWindow, QueuedFault } from './fault-plan.js'
import type { Fault } from './faults.js'
import type { ReplyRequest } from './incoming.js'
import type { FakeRateLimits, FakeRateLimitState } from './rate-limits.js'
import type { FakeRequest, RequestCounts, RequestFilter } from './request-log.js'

/** Options of `startFakeProvider`. */
export interface FakeProviderOptions {
  /**
   * Time for fault windows, `delay` faults, `chunkDelayMs`, HTTP-date Retry-After and the
   * `rateLimits` budgets (their refill and their reset headers). Inject a `testClock()` to drive
   * them without sleeping. Default `systemClock`.
   */
  clock?: Clock
  /** The reply text. Default: `echo: ` + the last user message (first 200 characters). */
  reply?: (request: ReplyRequest) => string
  /** Wait between streamed content chunks, in ms on `clock`. Default 0 (no wait). */
  chunkDelayMs?: number
  /**
   * Request and token budgets per window, enforced for each API key on the generation routes and
   * embeddings (429 with Retry-After once spent) and reported on every answer in the provider's
   * rate-limit headers. Timed by `clock`. Default: no limits, no rate-limit headers.
   */
  rateLimits?: FakeRateLimits
}

/** A running fake provider. See `startFakeProvider`. */
export interface FakeProvider {
  /** `http://127.0.0.1:<port>`: the Anthropic SDK's `baseURL`. */
  readonly url: string
  /** `url + '/v1'`: the OpenAI SDK's `baseURL`. */
  readonly openaiBaseURL: string
  /** Scripts `fault` for the next matching request(s). Queued faults are used in order. */
  fail(fault: Fault, options?: QueuedFault): FakeProvider
  /** Applies a fault to every matching request arriving in a time window (an outage, say). */
  schedule(window: FaultWindow): FakeProvider
  /** Every request received, in arrival order. */
  readonly requests: readonly FakeRequest[]
  /** Totals per path, model and API key. */
  readonly counts: RequestCounts
  /** Requests that match every field of `filter` (all requests without one). */
  count(filter?: RequestFilter): number
  /** Resolves once `n` requests in all have arrived (at once if they have); rejects on close. */
  waitForRequests(n: number): Promise<void>
  /** Queued faults not used yet. */
  readonly pendingFaults: number
  /**
   * Switches the budgets on, replaces them, or (`undefined`) switches them off. Every API key starts
   * again with whole budgets under the new limits.
   */
  setRateLimits(limits: FakeRateLimits | undefined): FakeProvider
  /** The budgets in force (`windowMs` filled in), or undefined. */
  readonly rateLimits: FakeRateLimits | undefined
  /** What an API key has left now, as its next answer's headers would say; undefined without limits. */
  rateLimitState(apiKey?: string): FakeRateLimitState | undefined
  /** Forgets requests, counts, queued faults and windows, and makes every budget whole again. */
  reset(): void
  /** Ends every open exchange, destroys every socket and stops the server. */
  close(): Promise<void>
}
