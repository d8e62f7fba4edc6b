import { abortReason, onAbort, raceAbort } from '../core/abort.js'
import type { CallContext } from '../core/call-options.js'
import { surfaceTimeout as surfaced } from '../core/errors/timeout-error.js'

/** The error a caller should see (a breakwater TimeoutError rather than the SDK's abort error). */
export { surfaceTimeout as surfaced } from '../core/errors/timeout-error.js'

/** Reads a stream until its first content chunk (or its end); errors on the way are thrown. */
export async function readToContent<T>(
  source: AsyncIterator<T>,
  signal: AbortSignal,
  isContent: (chunk: T) => boolean,
  errorOf?: (chunk: T) => unknown,
): Promise<{ buffered: T[]; ended: boolean }> {
  const buffered: T[] = []
  try {
    for (;;) {
      const step = await raceAbort(source.next(), signal)
      // An SDK ends an aborted stream quietly; the caller must learn why it ended.
      if (signal.aborted) throw abortReason(signal)
      if (step.done) return { buffered, ended: true }
      // A failure reported as a chunk before any content is thrown here, so the guard retries it.
      const failure = errorOf?.(step.value)
      if (failure !== undefined) throw failure
      buffered.push(step.value)
      if (isContent(step.value)) return { buffered, ended: false }
    }
  } catch (error) {
    source.return?.()?.catch(() => {})
    throw surfaced(error, signal)
  }
}

/** What a held stream tells its reader about itself while it runs. */
export interface HeldStreamWatch<T> {
  /** Each chunk read after the first content (the chunks read ahead are the caller's to look at). */
  chunk?(chunk: T): void
  /** Once, when the stream ends, fails or is left — before the hold settles. */
  end?(error?: unknown): void
}

/**
 * The rest of a stream once its first content arrived: replays what was read ahead, then reads on.
 * The call is held (`ctx.hold`) until the consumer reaches the end, stops early, or fails; every
 * chunk marks activity (`ctx.touch`) for the idle timeout. A failure reaches the consumer once and
 * is reported through the hold; it is never retried, because content already reached the caller.
 */
export function heldIterator<T>(
  source: AsyncIterator<T>,
  head: { buffered: T[]; ended: boolean },
  ctx: CallContext,
  signal: AbortSignal,
  errorOf?: (chunk: T) => unknown,
  watch?: HeldStreamWatch<T>,
): AsyncIterator<T> {
  const { buffered } = head
  let ended = head.ended
  let settled = false
  let settle!: (error?: unknown) => void
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error) => {
      if (settled) return
      settled = true
      removeAbort()
      watch?.end?.(error)
      if (error === undefined) resolve()
      else reject(error)
    }
  })
  // The hold also ends when the signal aborts while nobody reads (an idle timeout, the caller).
  const removeAbort = onAbort(signal, () => settle(abortReason(signal)))
  ctx.hold(finished)
  if (ended) settle()
  const fail = (error: unknown): never => {
    const reported = signal.aborted ? abortReason(signal) : error
    ended = true
    settle(reported)
    throw reported
  }
  return {
    async next(): Promise<IteratorResult<T>> {
      if (buffered.length > 0) return { value: buffered.shift()!, done: false }
      if (ended) return { value: undefined, done: true }
      let step: IteratorResult<T>
      try {
        step = await raceAbort(source.next(), signal)
      } catch (error) {
        return fail(error)
      }
      if (signal.aborted) return fail(abortReason(signal))
      if (step.done) {
        ended = true
        settle()
        return step
      }
      ctx.touch()
      watch?.chunk?.(step.value)
      // A failure the stream reports as a chunk (AI SDK 'error' parts) still reaches the consumer.
      const failure = errorOf?.(step.value)
      if (failure !== undefined) settle(failure)
      return step
    },
    async return(value?: unknown): Promise<IteratorResult<T>> {
      buffered.length = 0
      if (!ended) {
        ended = true
        settle()
        await source.return?.(value)
      }
      return { value: undefined, done: true }
    },
  }
}

/**
 * Installs `iterator` as the stream's only iteration, for `for await`, `tee()` and
 * `toReadableStream()` alike (the SDKs' Stream classes read `iterator` or `Symbol.asyncIterator`).
 */
export function replaceIteration<S extends object, T>(stream: S, iterator: AsyncIterator<T>): S {
  let taken = false
  const iterate = (): AsyncIterator<T> => {
    if (taken) throw new Error('Cannot iterate over a consumed stream, use `.tee()` to split the stream.')
    taken = true
    return iterator
  }
  Object.defineProperty(stream, Symbol.asyncIterator, { value: iterate, configurable: true, writable: true })
  if (typeof (stream as { iterator?: unknown }).iterator === 'function') {
    Object.defineProperty(stream, 'iterator', { value: iterate, configurable: true, writable: true })
  }
  return stream
}
