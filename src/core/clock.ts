import { abortReason, onAbort } from './abort.js'

/**
 * The source of time for every guard. Inject one (see `testClock()` in `breakwater/testing`) to
 * test time-dependent behaviour without sleeping.
 */
export interface Clock {
  /** Current time in milliseconds. Only differences between readings are used, except for HTTP dates. */
  now(): number
  /** Resolves after `ms`; rejects at once with the signal's reason when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /**
   * Optional: runs `callback` after `ms` and returns a function that cancels it. Clocks without it
   * get timers built from `sleep`.
   */
  setTimer?(ms: number, callback: () => void): () => void
}

/** Wall-clock time and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    return new Promise((resolve, reject) => {
      let removeAbort = (): void => {}
      const timer = setTimeout(() => {
        removeAbort()
        resolve()
      }, ms)
      if (signal) {
        removeAbort = onAbort(signal, () => {
          clearTimeout(timer)
          reject(abortReason(signal))
        })
      }
    })
  },
  setTimer(ms: number, callback: () => void): () => void {
    const timer = setTimeout(callback, ms)
    return () => clearTimeout(timer)
  },
}

/** Schedules `callback` on `clock`; returns a cancel function. */
export function setTimer(clock: Clock, ms: number, callback: () => void): () => void {
  if (clock.setTimer) return clock.setTimer(ms, callback)
  const controller = new AbortController()
  clock.sleep(ms, controller.signal).then(callback, () => {})
  return () => controller.abort()
}
