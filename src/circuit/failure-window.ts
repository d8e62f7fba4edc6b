/** Buckets of a failure-rate window: the window slides one bucket (windowMs / 10) at a time. */
export const WINDOW_BUCKETS = 10

/**
 * Calls and failures over the last `windowMs`, in fixed buckets so memory and work per call stay
 * constant whatever the traffic (opossum keeps every call and sorts them; this never does).
 */
export interface FailureWindow {
  readonly bucketMs: number
  readonly calls: number[]
  readonly failures: number[]
  callSum: number
  failureSum: number
  /** Index of the newest bucket, counted from time zero. */
  head: number
}

export function newWindow(windowMs: number, now: number): FailureWindow {
  const bucketMs = windowMs / WINDOW_BUCKETS
  return {
    bucketMs,
    calls: new Array<number>(WINDOW_BUCKETS).fill(0),
    failures: new Array<number>(WINDOW_BUCKETS).fill(0),
    callSum: 0,
    failureSum: 0,
    head: Math.floor(now / bucketMs),
  }
}

/** Drops the buckets that slid out of the window by `now`. */
function slide(w: FailureWindow, now: number): void {
  const current = Math.floor(now / w.bucketMs)
  if (current <= w.head) return
  const steps = Math.min(current - w.head, WINDOW_BUCKETS)
  for (let i = 1; i <= steps; i++) {
    const slot = (w.head + i) % WINDOW_BUCKETS
    w.callSum -= w.calls[slot]!
    w.failureSum -= w.failures[slot]!
    w.calls[slot] = 0
    w.failures[slot] = 0
  }
  w.head = current
}

/** Counts one finished call. */
export function addToWindow(w: FailureWindow, now: number, failed: boolean): void {
  slide(w, now)
  const slot = w.head % WINDOW_BUCKETS
  w.calls[slot]!++
  w.callSum++
  if (failed) {
    w.failures[slot]!++
    w.failureSum++
  }
}

/**
 * True when the window holds at least `minCalls` calls and failures make up at least `ratio` of
 * them (`>=`, so `ratio: 1` means "every call failed").
 */
export function rateReached(w: FailureWindow, ratio: number, minCalls: number): boolean {
  return w.callSum >= minCalls && w.failureSum >= ratio * w.callSum
}

/** Forgets every counted call (the breaker closed or opened: old evidence must not carry over). */
export function clearWindow(w: FailureWindow): void {
  w.calls.fill(0)
  w.failures.fill(0)
  w.callSum = 0
  w.failureSum = 0
}
