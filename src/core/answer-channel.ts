/**
 * The answer channel of one call. Layers of a chain that need to know what the upstream answered
 * (a rate limit settling a reservation to the usage, tracing) listen on the call's context for as
 * long as their part of the call runs; whatever runs inside `fn` (the provider wrappers' transport,
 * or a caller's own code) reports each answer it gets. The core only carries answers: what one is
 * made of (status, headers, token usage) is agreed between reporters and listeners — for LLM
 * providers it is `ProviderAnswer` (src/classify).
 *
 * Why on the context and not an event of a guard: an answer belongs to one call, and the layer that
 * cares must tell it apart from the answers of the calls running beside it. The context is the one
 * object every layer and `fn` share for exactly that call.
 */
import { callListener } from './call-listener.js'
import type { CallContext } from './call-options.js'
import type { IDisposable } from './events.js'

/** One listener on one call's channel (a link of the context's list). */
export interface AnswerSubscription extends IDisposable {
  readonly listener: (answer: unknown) => void
  /** True once disposed: a report walking the list skips it. */
  readonly disposed: boolean
  /** @internal */
  prev: AnswerSubscription | undefined
  /** @internal */
  next: AnswerSubscription | undefined
}

/** The part of a context that carries its channel (breakwater's contexts have it). */
interface Channel {
  answerListeners: AnswerSubscription | undefined
}

function channelOf(ctx: unknown): Channel | undefined {
  return typeof ctx === 'object' && ctx !== null && 'answerListeners' in ctx ? (ctx as Channel) : undefined
}

class Subscription implements AnswerSubscription {
  prev: AnswerSubscription | undefined = undefined
  next: AnswerSubscription | undefined = undefined
  disposed = false

  constructor(
    readonly listener: (answer: unknown) => void,
    private readonly channel: Channel,
  ) {
    const head = channel.answerListeners
    if (head !== undefined) {
      this.next = head
      head.prev = this
    }
    channel.answerListeners = this
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    if (this.prev === undefined) this.channel.answerListeners = this.next
    else this.prev.next = this.next
    if (this.next !== undefined) this.next.prev = this.prev
    // Left as they are, `next` lets a report that is walking the list past this link go on.
    this.prev = undefined
  }
}

/**
 * Listens to the answers reported on `ctx` (the context a guard's step or `fn` was given) until the
 * returned disposable is disposed. A layer subscribes for the part of the call it runs — around
 * `next()`, and until a hold settles when the call holds a stream — and disposes after, so it hears
 * the answers of its own attempts and no other call's. Listeners are called in the reverse order of
 * subscription (innermost layer first); one that throws becomes a process warning.
 *
 * A context derived for a shared call (dedupe's upstream run) has a channel of its own: layers
 * outside dedupe hear nothing of the shared call, as they do not run it either.
 */
export function listenForAnswers<A = unknown>(ctx: CallContext, listener: (answer: A) => void): IDisposable {
  const channel = channelOf(ctx)
  if (channel === undefined) {
    throw new TypeError(
      `listenForAnswers: ctx must be a context breakwater handed to a guard or fn, got ${typeof ctx}`,
    )
  }
  if (typeof listener !== 'function') {
    throw new TypeError(`listenForAnswers: listener must be a function, got ${typeof listener}`)
  }
  return new Subscription(listener as (answer: unknown) => void, channel)
}

/**
 * Reports one answer the upstream gave to the call `ctx` belongs to (each attempt's answer, error
 * answers included; a stream's once it ends, before the call's hold settles). Does nothing when
 * nobody listens, or when `ctx` is not a breakwater context.
 */
export function reportAnswer<A>(ctx: CallContext, answer: A): void {
  let s = channelOf(ctx)?.answerListeners
  while (s !== undefined) {
    const next = s.next
    if (!s.disposed) callListener(s.listener, answer, 'an answer listener threw; the call carried on')
    s = next
  }
}

/** True when a layer listens on `ctx`: a reporter may skip building an answer nobody reads. */
export function answersWanted(ctx: CallContext): boolean {
  return channelOf(ctx)?.answerListeners !== undefined
}
