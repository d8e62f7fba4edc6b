import { type Attributes, context, createContextKey, type Span } from '@opentelemetry/api'

/** Where the trace of the call running in the active context is found. */
const CALL_KEY = createContextKey('breakwater.call')

/** The span of one guarded call, with what is learned about it while it runs. */
export class CallTrace {
  ended = false
  inputTokens: number | undefined
  outputTokens: number | undefined

  constructor(readonly span: Span) {}

  /** Adds an event to the call's span (ignored once the span has ended). */
  event(name: string, attributes?: Attributes): void {
    if (!this.ended) this.span.addEvent(name, attributes)
  }

  /** Sets attributes on the call's span (ignored once the span has ended). */
  set(attributes: Attributes): void {
    if (!this.ended) this.span.setAttributes(attributes)
  }

  static key = CALL_KEY
}

/** The trace of the breakwater call running in the active context, if it is traced. */
export function activeCall(): CallTrace | undefined {
  return context.active().getValue(CALL_KEY) as CallTrace | undefined
}

/** Traces by the context object `fn` was handed, for reports that arrive outside the call's context. */
const byContext = new WeakMap<object, CallTrace>()

export function rememberContext(ctx: object, trace: CallTrace): void {
  byContext.set(ctx, trace)
}

/** The trace of the call `ctx` belongs to (the context its `fn` was given), else the active call's. */
export function callTraceOf(ctx: object | undefined): CallTrace | undefined {
  return (ctx === undefined ? undefined : byContext.get(ctx)) ?? activeCall()
}
