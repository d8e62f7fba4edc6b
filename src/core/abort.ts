/**
 * Abort helpers. Every listener they add is removed again, so long-lived signals (a worker's
 * shutdown signal, a shared deadline) do not accumulate listeners call after call.
 */

/** One never-aborted signal shared by every call that was given none: no per-call allocation. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal

/** The reason an aborted signal carries, or a standard AbortError when it carries none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}

/** Calls `listener` once when `signal` aborts. Returns a function that removes the listener. */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (signal === NEVER_ABORTED) return noop
  signal.addEventListener('abort', listener, { once: true })
  return () => signal.removeEventListener('abort', listener)
}

/**
 * A controller that aborts with the parent's reason when the parent aborts. `unlink()` removes the
 * listener from the parent; call it when the child is no longer needed.
 */
export function linkedController(parent: AbortSignal): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController()
  if (parent === NEVER_ABORTED) return { controller, unlink: noop }
  if (parent.aborted) {
    controller.abort(abortReason(parent))
    return { controller, unlink: noop }
  }
  const unlink = onAbort(parent, () => controller.abort(abortReason(parent)))
  return { controller, unlink }
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts, whichever is
 * first. A late rejection of `promise` is observed so it never surfaces as unhandled. When the
 * abort wins, `owner` (if given; a call's context) is told of the promise that is still running.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  owner?: { abandon(running: Promise<unknown>): void },
): Promise<T> {
  if (signal === NEVER_ABORTED) return promise
  if (signal.aborted) {
    promise.catch(noop)
    owner?.abandon(promise)
    return Promise.reject(abortReason(signal))
  }
  return new Promise<T>((resolve, reject) => {
    const remove = onAbort(signal, () => {
      promise.catch(noop)
      owner?.abandon(promise)
      reject(abortReason(signal))
    })
    promise.then(
      (value) => {
        remove()
        resolve(value)
      },
      (error: unknown) => {
        remove()
        reject(error)
      },
    )
  })
}

export function noop(): void {}

/** True for a value that looks like an AbortSignal (from any realm or polyfill). */
export function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  )
}
