import { abortReason, NEVER_ABORTED, noop, onAbort } from '../core/abort.js'
import { ExecutionContext } from '../core/context.js'
import type { Next } from '../core/guard.js'
import { deepFreeze } from './deep-freeze.js'
import { FlightTable } from './flight-table.js'
import {
  attempt,
  type Flight,
  highestPriority,
  isLocalRejection,
  NO_WAITERS,
  removeWaiter,
  type Waiter,
} from './flight.js'

/**
 * Calls in flight, by key, each with the callers waiting for it. Kept apart from the result cache,
 * so evicting a result can never abort a running call.
 */
export class InFlightCalls {
  private readonly flights = new FlightTable()

  /** @param keep receives each shared (frozen) result, to cache it; undefined when nothing is kept. */
  constructor(private readonly keep: ((key: string, value: unknown) => void) | undefined) {}

  get size(): number {
    return this.flights.size
  }

  has(key: string): boolean {
    return this.flights.get(key) !== undefined
  }

  /** Waits for the call running for `key`, or starts it with this caller as leader. */
  join(key: string, ctx: ExecutionContext, next: Next): Promise<unknown> {
    if (ctx.signal !== NEVER_ABORTED && ctx.signal.aborted) return Promise.reject(abortReason(ctx.signal))
    let flight = this.flights.get(key)
    if (flight !== undefined) {
      // Later admissions of the running call (a retry's next attempt) go in as foreground. A call
      // already waiting in a backpressure queue keeps its place.
      if (ctx.priority === 'foreground' && flight.run !== undefined) flight.run.priority = 'foreground'
      return this.wait(flight, ctx, next)
    }
    flight = { key, waiters: NO_WAITERS, leader: undefined, run: undefined, controller: undefined }
    this.flights.add(flight)
    if (ctx.signal === NEVER_ABORTED) return this.lead(flight, ctx, next)
    const promise = this.wait(flight, ctx, next)
    this.start(flight)
    return promise
  }

  /**
   * The common case, on a fast path: a leader whose caller gave no signal can never leave, so its
   * run needs no controller and no context of its own (it runs on the leader's, whose signal never
   * aborts), and the leader gets the run's own promise, as if there were no dedupe. The reaction
   * that settles the joiners is registered first, so it has run (the value is frozen, the flight
   * is over) before the leader sees the result. Joiners wait as usual; after a local rejection
   * they elect a leader among themselves.
   */
  private lead(flight: Flight, ctx: ExecutionContext, next: Next): Promise<unknown> {
    ctx.key = flight.key
    flight.run = ctx
    const result = attempt(next, ctx)
    // A flight led this way leaves the table only when its run ends, so while it runs, the one in
    // the table's own slot is still the one in the slot when the run settles: its reactions can be
    // made once, not per call.
    if (this.flights.solo === flight) result.then(this.soloSucceeded, this.soloFailed)
    else
      result.then(
        (value) => this.succeeded(flight, ctx, undefined, value),
        (error: unknown) => this.failed(flight, ctx, error),
      )
    return result
  }

  private readonly soloSucceeded = (value: unknown): void => {
    const flight = this.flights.solo!
    this.succeeded(flight, flight.run!, undefined, value)
  }

  private readonly soloFailed = (error: unknown): void => {
    const flight = this.flights.solo!
    this.failed(flight, flight.run!, error)
  }

  private wait(flight: Flight, ctx: ExecutionContext, next: Next): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { ctx, next, resolve, reject, unlisten: noop }
      if (flight.waiters === NO_WAITERS) flight.waiters = [waiter]
      else flight.waiters.push(waiter)
      if (ctx.signal !== NEVER_ABORTED)
        waiter.unlisten = onAbort(ctx.signal, () => this.leave(flight, waiter))
    })
  }

  /** A waiter's caller aborted: only that waiter rejects; the last one out stops the call. */
  private leave(flight: Flight, waiter: Waiter): void {
    if (!removeWaiter(flight.waiters, waiter)) return
    const reason = abortReason(waiter.ctx.signal)
    waiter.reject(reason)
    if (flight.waiters.length > 0 || flight.leader === undefined) return
    // Nobody wants the result any more. A new call with this key starts afresh instead of
    // joining a call that is being torn down.
    this.end(flight)
    flight.run = undefined
    flight.controller?.abort(reason)
  }

  /** Runs the call once for all waiters, led by the first waiter still here. */
  private start(flight: Flight): void {
    const leader = flight.waiters[0]!
    const lead = leader.ctx
    // U4 aborts the upstream call only when its last waiter leaves. A leader whose caller gave no
    // signal can never leave, so nothing can abort this run and it needs no controller (an
    // AbortController and its signal are the dearest allocation of a keyed call). Waiters joining
    // later cannot change that: the leader stays to the end of the run.
    const controller = lead.signal === NEVER_ABORTED ? undefined : new AbortController()
    const run = ExecutionContext.derive(lead)
    run.signal = controller === undefined ? NEVER_ABORTED : controller.signal
    run.key = flight.key
    run.priority = highestPriority(flight.waiters)
    flight.leader = leader
    flight.run = run
    flight.controller = controller
    // The run's context is this flight's own: its deferred cleanups (an inner total timeout) end
    // here. A leader's own context is finished by whoever made it, as without dedupe.
    attempt(leader.next, run).then(
      (value) => {
        if (run.hasCleanups) run.finish(false)
        this.succeeded(flight, run, controller, value)
      },
      (error: unknown) => {
        if (run.hasCleanups) run.finish(true)
        this.failed(flight, run, error)
      },
    )
  }

  /** Settles the waiters with the run's result. */
  private succeeded(
    flight: Flight,
    run: ExecutionContext,
    controller: AbortController | undefined,
    value: unknown,
  ): void {
    if (flight.run !== run) return // everyone left; the flight is already gone
    const held = run.takeHeld()
    if (held !== undefined) {
      this.handOver(flight, run, held, controller, value)
      return
    }
    this.end(flight)
    let shared = value
    try {
      shared = deepFreeze(value)
      this.keep?.(flight.key, shared)
    } catch {
      // A value that cannot be frozen or kept (a Proxy that refuses, a failing size estimate) is
      // still delivered: the waiters must settle whatever happens to the cache.
    }
    // Indexed loops: a for-of iterator is not always optimized away, and this runs once per call.
    const waiters = flight.waiters
    for (let i = 0; i < waiters.length; i++) {
      waiters[i]!.unlisten()
      waiters[i]!.resolve(shared)
    }
  }

  private failed(flight: Flight, run: ExecutionContext, error: unknown): void {
    if (flight.run !== run) return
    if (isLocalRejection(error)) {
      // A shed or a broken circuit judged the leader's admission, not the request: the leader
      // gets it, and the others elect a new leader (at their own highest priority) and try again.
      // Every round removes its leader, so this ends.
      this.settleLeader(flight, (leader) => leader.reject(error))
      if (flight.waiters.length > 0) {
        this.start(flight)
        return
      }
    } else {
      const waiters = flight.waiters
      for (let i = 0; i < waiters.length; i++) {
        waiters[i]!.unlisten()
        waiters[i]!.reject(error)
      }
    }
    this.end(flight)
  }

  /**
   * The call is held (a stream): it cannot be shared, so it goes to its leader alone, and the other
   * waiters run their own call. Keyed calls should not hold; provider wrappers never key streams.
   */
  private handOver(
    flight: Flight,
    run: ExecutionContext,
    held: Promise<unknown>,
    controller: AbortController | undefined,
    value: unknown,
  ): void {
    // A leader that is no waiter ran on its own context: the hold is already where it belongs,
    // and the value reaches it as the run's result.
    const handed =
      flight.leader === undefined ||
      this.settleLeader(flight, (leader) => {
        // The leader's caller aborting while it reads the stream must still stop it. (A leader that
        // cannot abort ran without a controller.)
        const signal = leader.ctx.signal
        const off = onAbort(signal, () => controller?.abort(abortReason(signal)))
        held.then(off, off)
        // Chunk activity reported on the shared context must reach idle timers outside this guard.
        const inner = run.toucher
        const outer = leader.ctx
        run.toucher = () => {
          inner?.()
          outer.toucher?.()
        }
        leader.ctx.held = held
        leader.resolve(value)
      })
    // Only a leader that could leave can be gone, and such a leader's run has a controller.
    if (!handed) controller?.abort(new DOMException('held result had no leader to take it', 'AbortError'))
    if (flight.waiters.length > 0) this.start(flight)
    else this.end(flight)
  }

  /** Settles the leader if it is still waiting; false when it already left. */
  private settleLeader(flight: Flight, settle: (leader: Waiter) => void): boolean {
    const leader = flight.leader
    if (leader === undefined || !removeWaiter(flight.waiters, leader)) return false
    leader.unlisten()
    settle(leader)
    return true
  }

  private end(flight: Flight): void {
    this.flights.remove(flight)
  }
}
