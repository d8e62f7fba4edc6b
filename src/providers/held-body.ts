import type { SseEvent, SseScanner } from '../classify/sse-scanner.js'
import { abortReason, noop, onAbort } from '../core/abort.js'
import type { CallContext } from '../core/call-options.js'
import { surfaceTimeout } from '../core/errors/timeout-error.js'

export interface HeldBodyParts {
  readonly ctx: CallContext
  /** The provider's body, read up to the first content. */
  readonly reader: ReadableStreamDefaultReader<Uint8Array>
  /** The bytes read so far: handed to the SDK first. */
  readonly read: Uint8Array[]
  /** The provider's body already ended. */
  readonly ended: boolean
  /** A failure the bytes read ahead already report (an error event right after the first content). */
  readonly failure: unknown
  /** The SDK's signal for the request: aborted when its reader stops (or its caller aborts). */
  readonly sdkSignal: AbortSignal | undefined
  readonly scanner: SseScanner
  /** Reads one event; returns the failure it reports, if it reports one. */
  readonly onEvent: (event: SseEvent) => unknown
  /** Runs once when the stream ends, fails or is left. */
  readonly onEnd: (error?: unknown) => void
}

/**
 * The body the SDK reads once the guard has handed a stream back: the bytes read ahead, then the
 * provider's body. The call is held (`ctx.hold`) until the body ends, the SDK stops reading, or it
 * fails; each chunk marks activity (`ctx.touch`) for the idle timeout. A failure after content —
 * an error event, a reset, an idle timeout — reaches the SDK once and is reported through the
 * hold (so the breaker counts it); it is never retried, because content already reached the caller.
 */
export function heldBody(p: HeldBodyParts): ReadableStream<Uint8Array> {
  const { ctx, reader, read } = p
  let ended = p.ended
  let settled = false
  let settle!: (error?: unknown) => void
  let output: ReadableStreamDefaultController<Uint8Array> | undefined
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error) => {
      if (settled) return
      settled = true
      removeOwn()
      removeSdk()
      p.onEnd(error)
      if (error === undefined) resolve()
      else reject(error)
    }
  })
  // While nobody reads, the hold still ends when the call's signal aborts (an idle or total
  // timeout, the caller) or the SDK gives the request up.
  const stop = (signal: AbortSignal) => (): void => {
    const reason = surfaceTimeout(abortReason(signal), ctx.signal)
    ended = true
    settle(reason)
    reader.cancel().catch(noop)
    try {
      output?.error(reason)
    } catch {
      // already closed
    }
  }
  const removeOwn = onAbort(ctx.signal, stop(ctx.signal))
  const removeSdk = p.sdkSignal === undefined ? noop : onAbort(p.sdkSignal, stop(p.sdkSignal))
  ctx.hold(finished)
  if (p.failure !== undefined) settle(p.failure)
  else if (ended) settle()
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        output = controller
      },
      async pull(controller) {
        if (read.length > 0) {
          controller.enqueue(read.shift()!)
          return
        }
        if (ended) {
          if (!settled) settle()
          controller.close()
          return
        }
        let step: ReadableStreamReadResult<Uint8Array>
        try {
          step = await reader.read()
        } catch (error) {
          const reported = ctx.signal.aborted ? surfaceTimeout(abortReason(ctx.signal), ctx.signal) : error
          ended = true
          settle(reported)
          controller.error(reported)
          return
        }
        if (settled && ended) return // stopped while the read was pending
        if (step.done) {
          ended = true
          settle()
          controller.close()
          return
        }
        ctx.touch()
        for (const event of p.scanner.push(step.value)) {
          // An error event after content: the SDK throws its own error for it; the breaker hears of it here.
          const failure = p.onEvent(event)
          if (failure !== undefined) settle(failure)
        }
        controller.enqueue(step.value)
      },
      cancel(reason) {
        ended = true
        settle()
        return reader.cancel(reason).catch(noop)
      },
    },
    { highWaterMark: 0 },
  )
}
