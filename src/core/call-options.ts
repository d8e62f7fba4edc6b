/** Foreground calls serve a waiting user; background calls (compaction, prefetch) yield to them. */
export type Priority = 'foreground' | 'background'

/** Per-call data. It reaches the guards only through `execute(fn, callOptions)`. */
export interface CallOptions {
  /** Aborting it rejects the call at once with the signal's reason, wherever the call is. */
  signal?: AbortSignal
  /** Which upstream this call goes to (breaker state is per service). Default: the guard's own, else 'default'. */
  service?: string
  /** Dedupe key: calls with the same key coalesce. Calls without a key are never deduplicated. */
  key?: string
  /** Weight of the call for backpressure's cost limit (for example, estimated tokens). Default 1. */
  cost?: number
  /** Default 'foreground'. */
  priority?: Priority
}

/** What `fn` and every guard see for one call. */
export interface CallContext {
  /** Aborted when the caller aborts or a guard times the attempt out. Pass it to the SDK. */
  readonly signal: AbortSignal
  readonly service: string
  readonly key?: string | undefined
  readonly cost: number
  readonly priority: Priority
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number
  /**
   * Keeps the call in flight until `settled` settles (streams): backpressure keeps the slot, the
   * breaker reports the outcome when it settles, idle and total timeouts keep watching. Call it
   * before `fn` returns.
   */
  hold(settled: Promise<unknown>): void
  /** Marks activity on a held call (a stream chunk arrived): resets the idle timeout. */
  touch(): void
}
