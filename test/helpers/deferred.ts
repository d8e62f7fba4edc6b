/** A promise with its resolve and reject exposed, for ordering concurrent steps in tests. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** An error shaped like a provider SDK's HTTP error. */
export function httpError(status: number, headers: Record<string, string> = {}, body?: object): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status, headers, error: body })
}

/** Resolves after pending promise callbacks have run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
