import { type Fault, type FaultMatch, matches, type MatchTarget, validateFault } from './faults.js'

/** A scripted fault for the next matching requests. */
export interface QueuedFault extends FaultMatch {
  /** How many matching requests get it. Default 1. */
  times?: number
}

/** A fault for every matching request whose arrival time (on the fake's clock) is in [from, until). */
export interface FaultWindow extends FaultMatch {
  fault: Fault
  /** Start of the window, in the fake's clock ms. Default: the clock's current time. */
  from?: number
  /** End of the window (exclusive), in the fake's clock ms. */
  until: number
  /** At most this many matching requests get the fault (a burst); default: every one in the window. */
  times?: number
}

interface Entry {
  fault: Fault
  match: FaultMatch
  left: number
}

interface Window {
  fault: Fault
  match: FaultMatch
  from: number
  until: number
  /** Requests it may still take; Infinity without `times`. */
  left: number
}

const OWNER = 'FakeProvider'

/** Chooses the fault for a request: the first matching queued fault, else an active window. */
export class FaultPlan {
  private queue: Entry[] = []
  private windows: Window[] = []

  enqueue(fault: Fault, options: QueuedFault = {}): void {
    const times = options.times ?? 1
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`${OWNER}.fail: option "times" must be an integer >= 1, got ${String(times)}`)
    }
    this.queue.push({ fault: validateFault(`${OWNER}.fail`, fault), match: matchOf(options), left: times })
  }

  schedule(window: FaultWindow, now: number): void {
    const from = window.from ?? now
    if (!Number.isFinite(from) || !Number.isFinite(window.until) || window.until < from) {
      throw new RangeError(
        `${OWNER}.schedule: window needs finite from <= until, got from ${String(from)}, until ${String(window.until)}`,
      )
    }
    const times = window.times ?? Number.POSITIVE_INFINITY
    if (times !== Number.POSITIVE_INFINITY && (!Number.isInteger(times) || times < 1)) {
      throw new RangeError(`${OWNER}.schedule: option "times" must be an integer >= 1, got ${String(times)}`)
    }
    this.windows.push({
      fault: validateFault(`${OWNER}.schedule`, window.fault),
      match: matchOf(window),
      from,
      until: window.until,
      left: times,
    })
  }

  /** The fault for this request, consuming a queued one. */
  take(target: MatchTarget, now: number): Fault | undefined {
    const i = this.queue.findIndex((e) => matches(e.match, target))
    if (i >= 0) {
      const entry = this.queue[i]!
      if (--entry.left === 0) this.queue.splice(i, 1)
      return entry.fault
    }
    for (const w of this.windows) {
      if (w.left > 0 && now >= w.from && now < w.until && matches(w.match, target)) {
        w.left--
        return w.fault
      }
    }
    return undefined
  }

  /** Queued faults not yet consumed. */
  get pending(): number {
    return this.queue.reduce((sum, e) => sum + e.left, 0)
  }

  clear(): void {
    this.queue = []
    this.windows = []
  }
}

function matchOf(o: FaultMatch): FaultMatch {
  return { model: o.model, path: o.path, apiKey: o.apiKey, stream: o.stream }
}
