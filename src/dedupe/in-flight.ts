import { abortReason, noop, onAbort } from '../core/abort.js'
import type { Priority } from '../core/call-options.js'
import { ExecutionContext } from '../core/context.js'
import { isBackpressureShedError } from '../core/errors/backpressure-shed-error.js'
import { isBrokenCircuitError } from '../core/errors/broken-circuit-error.js'
import type { Next } from '../core/guard.js'
import { deepFreeze } from './deep-freeze.js'

/** One caller waiting for a shared call. */
interface Waiter {
  readonly ctx: ExecutionContext
  readonly next: Next
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  unlisten: () => void
}

/** The upstream call shared by every waiter with one key. */
interface Flight {
  readonly key: string
  /** Insertion-ordered: the first waiter still here is the next leader. */
  readonly waiters: Set<Waiter>
  /** The waiter whose function (and chain) the current run uses. */
  leader: Waiter | undefined
  /** Context of the current run: its own signal, so no single caller's context is torn down under it. */
  run: ExecutionContext | undefined
  controller: AbortController | undefined
}

/**
 * Calls in flight, by key, each with a count of the callers waiting for it (the size of its waiter
 * set). Kept apart from the result cache, so evicting a result can never abort a running call.
 */
export class InFlightCalls {
  private readonly flights = new Map<string, Flight>()

  /** @param keep receives each shared (frozen) result, to cache it. */
  constructor(private readonly keep: (key: string, value: unknown) => void) {}

  get size(): number {
    return this.flights.size
  }

  has(key: string): boolean {
    return this.flights.has(key)
  }

  /** Waits for the call running for `key`, or starts it with this caller as leader. */
  join(key: string, ctx: ExecutionContext, next: Next): Promise<unknown> {
    if (ctx.signal.aborted) return Promise.reject(abortReason(ctx.signal))
    let flight = this.flights.get(key)
    const starting = flight === undefined
    if (flight === undefined) {
      flight = { key, waiters: new Set(), leader: undefined, run: undefined, controller: undefined }
      this.flights.set(key, flight)
    } else if (ctx.priority === 'foreground' && flight.run !== undefined) {
      // Later admissions of the running call (a retry's next attempt) go in as foreground. A call
      // already waiting in a backpressure queue keeps its place.
      flight.run.priority = 'foreground'
    }
    const joined = flight
    const promise = new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { ctx, next, resolve, reject, unlisten: noop }
      joined.waiters.add(waiter)
      waiter.unlisten = onAbort(ctx.signal, () => this.leave(joined, waiter))
    })
    if (starting) this.start(joined)
    return promise
  }

  /** A waiter's caller aborted: only that waiter rejects; the last one out stops the call. */
  private leave(flight: Flight, waiter: Waiter): void {
    if (!flight.waiters.delete(waiter)) return
    const reason = abortReason(waiter.ctx.signal)
    waiter.reject(reason)
    if (flight.waiters.size > 0) return
    // Nobody wants the result any more. A new call with this key starts afresh instead of
    // joining a call that is being torn down.
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key)
    flight.controller?.abort(reason)
  }

  /** Runs the call once for all waiters, led by the first waiter still here. */
  private start(flight: Flight): void {
    const leader = flight.waiters.values().next().value as Waiter
    const lead = leader.ctx
    const controller = new AbortController()
    const run = new ExecutionContext(lead.fn, {
      signal: controller.signal,
      service: lead.serviceFromCall ? lead.service : undefined,
      key: flight.key,
      cost: lead.cost,
      priority: highestPriority(flight.waiters),
    })
    run.deadline = lead.deadline
    flight.leader = leader
    flight.run = run
    flight.controller = controller
    let result: Promise<unknown>
    try {
      result = leader.next(run)
    } catch (error) {
      result = Promise.reject(error)
    }
    result.then(
      (value) => this.succeeded(flight, run, controller, value),
      (error: unknown) => this.failed(flight, run, controller, error),
    )
  }

  private succeeded(
    flight: Flight,
    run: ExecutionContext,
    controller: AbortController,
    value: unknown,
  ): void {
    if (run.hasCleanups) run.finish(false)
    if (controller.signal.aborted) return // everyone left; the flight is already gone
    const held = run.takeHeld()
    if (held !== undefined) {
      this.handOver(flight, run, held, controller, value)
      return
    }
    this.end(flight)
    let shared = value
    try {
      shared = deepFreeze(value)
      this.keep(flight.key, shared)
    } catch {
      // A value that cannot be frozen or kept (a Proxy that refuses, a failing size estimate) is
      // still delivered: the waiters must settle whatever happens to the cache.
    }
    for (const waiter of flight.waiters) {
      waiter.unlisten()
      waiter.resolve(shared)
    }
    flight.waiters.clear()
  }

  private failed(flight: Flight, run: ExecutionContext, controller: AbortController, error: unknown): void {
    if (run.hasCleanups) run.finish(true)
    if (controller.signal.aborted) return
    if (isLocalRejection(error)) {
      // A shed or a broken circuit judged the leader's admission, not the request: the leader
      // gets it, and the others elect a new leader (at their own highest priority) and try again.
      // Every round removes its leader, so this ends.
      this.settleLeader(flight, (leader) => leader.reject(error))
      if (flight.waiters.size > 0) {
        this.start(flight)
        return
      }
    } else {
      for (const waiter of flight.waiters) {
        waiter.unlisten()
        waiter.reject(error)
      }
      flight.waiters.clear()
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
    controller: AbortController,
    value: unknown,
  ): void {
    const handed = this.settleLeader(flight, (leader) => {
      // The leader's caller aborting while it reads the stream must still stop it.
      const signal = leader.ctx.signal
      const off = onAbort(signal, () => controller.abort(abortReason(signal)))
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
    if (!handed) controller.abort(new DOMException('held result had no leader to take it', 'AbortError'))
    if (flight.waiters.size > 0) this.start(flight)
    else this.end(flight)
  }

  /** Settles the leader if it is still waiting; false when it already left. */
  private settleLeader(flight: Flight, settle: (leader: Waiter) => void): boolean {
    const leader = flight.leader
    if (leader === undefined || !flight.waiters.delete(leader)) return false
    leader.unlisten()
    settle(leader)
    return true
  }

  private end(flight: Flight): void {
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key)
  }
}

/** Rejections about this caller's admission rather than about the request itself. */
function isLocalRejection(error: unknown): boolean {
  return isBackpressureShedError(error) || isBrokenCircuitError(error)
}

function highestPriority(waiters: Set<Waiter>): Priority {
  for (const waiter of waiters) if (waiter.ctx.priority === 'foreground') return 'foreground'
  return 'background'
}
