import { abortReason, onAbort } from '../core/abort.js'
import type { Clock } from '../core/clock.js'

/** A clock that moves only when told to. */
export interface TestClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every timer and sleep that falls due, in order, and letting
   * the promise callbacks they trigger run before the next one fires (so chained sleeps work).
   */
  advance(ms: number): Promise<void>
  /** Timers and sleeps waiting to fire. */
  readonly pending: number
}

interface Timer {
  at: number
  seq: number
  fire: () => void
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Creates a test clock starting at `start` ms (default 0). Inject it wherever a guard takes `clock`. */
export function testClock(start = 0): TestClock {
  let now = start
  let seq = 0
  const timers: Timer[] = []

  const schedule = (ms: number, fire: () => void): Timer => {
    const timer = { at: now + Math.max(0, ms), seq: seq++, fire }
    timers.push(timer)
    return timer
  }
  const cancel = (timer: Timer): void => {
    const i = timers.indexOf(timer)
    if (i >= 0) timers.splice(i, 1)
  }

  return {
    now: () => now,
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.reject(abortReason(signal))
      return new Promise((resolve, reject) => {
        let removeAbort = (): void => {}
        const timer = schedule(ms, () => {
          removeAbort()
          resolve()
        })
        if (signal) {
          removeAbort = onAbort(signal, () => {
            cancel(timer)
            reject(abortReason(signal))
          })
        }
      })
    },
    setTimer(ms: number, callback: () => void): () => void {
      const timer = schedule(ms, callback)
      return () => cancel(timer)
    },
    async advance(ms: number): Promise<void> {
      if (!(ms >= 0)) throw new RangeError(`testClock.advance: ms must be >= 0, got ${ms}`)
      const target = now + ms
      for (;;) {
        await settle()
        let due: Timer | undefined
        for (const t of timers) {
          if (t.at <= target && (due === undefined || t.at < due.at || (t.at === due.at && t.seq < due.seq)))
            due = t
        }
        if (due === undefined) break
        cancel(due)
        now = Math.max(now, due.at)
        due.fire()
      }
      now = target
      await settle()
    },
    get pending() {
      return timers.length
    },
  }
}
