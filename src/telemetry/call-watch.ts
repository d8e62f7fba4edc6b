/**
 * The one hook the core calls for every `execute()`: while no tracer provider is registered and
 * nobody counts the guard's calls, `isObserved()` is a few property reads and the call runs as it
 * always did. Otherwise the call becomes one `breakwater.call` span (active while the chain and
 * `fn` run, so the SDK's HTTP spans nest under it) and one call-end event.
 */
import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api'
import { listenForAnswers } from '../core/answer-channel.js'
import type { CallContext, CallOptions } from '../core/call-options.js'
import type { ExecutionContext } from '../core/context.js'
import { callEndsOf, type CallEndEvent } from './call-end.js'
import { CallTrace, rememberContext } from './call-trace.js'
import { addGenAi, type GenAiResponse } from './gen-ai.js'
import { errorType, healthOf, outcomeOf } from './outcome.js'
import { SPAN_EVENTS, watchGuardEvents } from './span-events.js'
import { activeTracer, CALL_SPAN_NAME, isUntraced } from './tracer.js'
import type { EventEmitter, IDisposable } from '../core/events.js'

type Fn = (ctx: CallContext) => unknown

/** True when the call must go through `observeCall`: a tracer provider is registered, or someone counts this guard's calls. */
export function isObserved(guard: object): boolean {
  return activeTracer() !== undefined || callEndsOf(guard) !== undefined
}

/** Runs one call with its span and its call-end event (see the module comment). */
export function observeCall<G extends object>(
  guard: G,
  fn: Fn,
  call: CallOptions | undefined,
  run: (guard: G, fn: Fn, call: CallOptions | undefined) => Promise<unknown>,
): Promise<unknown> {
  const tracer = isUntraced(guard) ? undefined : activeTracer()
  const ends = callEndsOf(guard)
  // A bad `fn` is reported by the chain's own validation.
  if ((tracer === undefined && ends === undefined) || typeof fn !== 'function') return run(guard, fn, call)
  const watch = new CallWatch(guard, call, tracer, ends)
  const traced: Fn = (ctx) => watch.attempt(fn, ctx)
  let result: Promise<unknown>
  try {
    result =
      watch.active === undefined
        ? run(guard, traced, call)
        : context.with(watch.active, run, undefined, guard, traced, call)
  } catch (error) {
    result = Promise.reject(error)
  }
  result.then(
    () => watch.settled(false, undefined),
    (error: unknown) => watch.settled(true, error),
  )
  return result
}

class CallWatch {
  readonly trace: CallTrace | undefined
  readonly active: ReturnType<typeof context.active> | undefined
  private readonly started = performance.now()
  private attempts = 0
  private lastCtx: ExecutionContext | undefined
  /** The answer channels listened on: one per context `fn` was given (dedupe may lead with a new one). */
  private listening: IDisposable[] | undefined

  constructor(
    private readonly guard: object,
    private readonly call: CallOptions | undefined,
    tracer: Tracer | undefined,
    private readonly ends: EventEmitter<CallEndEvent> | undefined,
  ) {
    if (tracer === undefined) return
    watchGuardEvents(guard)
    const parent = context.active()
    const span: Span = tracer.startSpan(CALL_SPAN_NAME, { kind: SpanKind.INTERNAL }, parent)
    this.trace = new CallTrace(span)
    this.active = trace.setSpan(parent, span).setValue(CallTrace.key, this.trace)
  }

  /**
   * Runs one attempt of `fn` (in the call's span context), noting what the call learns: the answers
   * reported on the call's answer channel give the span its GenAI attributes.
   */
  attempt(fn: Fn, ctx: CallContext): unknown {
    this.attempts++
    const first = this.lastCtx !== ctx
    this.lastCtx = ctx as ExecutionContext
    const t = this.trace
    if (t === undefined) return fn(ctx)
    if (first) {
      rememberContext(ctx, t)
      ;(this.listening ??= []).push(listenForAnswers<GenAiResponse>(ctx, (a) => addGenAi(t, a)))
    }
    return context.with(this.active!, fn, undefined, ctx)
  }

  /** The chain settled: the call ends now, or when the stream it holds settles. */
  settled(failed: boolean, error: unknown): void {
    const held = failed ? undefined : this.lastCtx?.held
    if (held === undefined) this.end(failed, error)
    else
      held.then(
        () => this.end(false, undefined),
        (e: unknown) => this.end(true, e),
      )
  }

  /**
   * The call's option, else what a layer's own option wrote into the context (layers write it only
   * when they need it), else the first own `service` option among the layers, else 'default'.
   */
  private serviceName(): string {
    const named = this.call?.service
    if (typeof named === 'string' && named !== '') return named
    const written = this.lastCtx?.service
    if (written !== undefined && written !== 'default') return written
    return serviceOfGuard(this.guard)
  }

  private end(failed: boolean, error: unknown): void {
    if (this.listening !== undefined) for (const l of this.listening) l.dispose()
    const service = this.serviceName()
    const aborted = failed && this.call?.signal?.aborted === true
    if (this.ends !== undefined) {
      const durationMs = performance.now() - this.started
      const outcome = failed ? healthOf(error, aborted) : 'success'
      this.ends.emit(failed ? { service, outcome, durationMs, error } : { service, outcome, durationMs })
    }
    const t = this.trace
    if (t === undefined) return
    const span = t.span
    const outcome = failed ? outcomeOf(error, aborted) : 'success'
    span.setAttributes({
      'breakwater.service': service,
      'breakwater.attempts': this.attempts,
      'breakwater.outcome': outcome,
    })
    if (outcome === 'rate_limited') {
      // A rate limit's refusal ends the call: its event needs nothing from the rate limit itself.
      const e = error as { limit?: unknown; retryAfterMs?: unknown }
      const attributes: Attributes = { limit: String(e.limit), refused: true }
      if (typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs)) {
        attributes.retry_after_ms = e.retryAfterMs
      }
      t.event(SPAN_EVENTS.rateLimited, attributes)
    }
    if (failed) {
      span.setAttribute('error.type', errorType(error))
      // A guard's own refusal is told by its event (shed, circuit_rejected): no stack to keep.
      if (error instanceof Error && (outcome === 'failure' || outcome === 'timeout'))
        span.recordException(error)
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      })
    }
    t.ended = true
    span.end()
  }
}

const ownServices = new WeakMap<object, string>()

/** The service a guard acts for when the call names none: its own option, or its first layer's. */
function serviceOfGuard(guard: object): string {
  let known = ownServices.get(guard)
  if (known === undefined) ownServices.set(guard, (known = findService(guard, new Set()) ?? 'default'))
  return known
}

function findService(guard: object, seen: Set<object>): string | undefined {
  if (seen.has(guard)) return undefined
  seen.add(guard)
  const g = guard as { service?: unknown; guards?: unknown }
  if (typeof g.service === 'string') return g.service
  if (!Array.isArray(g.guards)) return undefined
  for (const layer of g.guards as unknown[]) {
    if (typeof layer !== 'object' || layer === null) continue
    const found = findService(layer, seen)
    if (found !== undefined) return found
  }
  return undefined
}
