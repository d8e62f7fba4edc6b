import { noop } from '../core/abort.js'

/**
 * Every Redis command and background check the backend started, until it settles: reports are
 * sent off the call path, so `whenIdle()` and `close()` wait here for them to be answered.
 */
export class InflightWork {
  private readonly inflight = new Set<Promise<unknown>>()

  /** Keeps `work` until it settles (either way; it is never rejected to anyone from here). */
  readonly track = (work: Promise<unknown>): void => {
    const settled = work.then(noop, noop)
    this.inflight.add(settled)
    void settled.then(() => this.inflight.delete(settled))
  }

  /** Resolves once nothing tracked is pending, work tracked meanwhile included. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
  }
}
