/** What a guarded SDK call resolves to: the SDK's own `withResponse()` result. */
export interface SdkAnswer {
  data: unknown
  response: Response
  request_id: string | null
}

/** 'parsed': the body is parsed (and a stream opened) inside the guard; 'raw': the Response only. */
export type AnswerMode = 'parsed' | 'raw'

/**
 * Stands in for the SDK's `APIPromise`: awaiting it gives the parsed body, `withResponse()` the
 * body with the `Response` and request id, `asResponse()` the raw `Response`. Like the SDK's, the
 * request starts at once; what to read is decided by the first of these calls made in the same
 * tick (a parsed body by default), so `asResponse()` gets an unread body.
 */
export class GuardedAPIPromise<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise
  }

  #run: (mode: AnswerMode) => Promise<unknown>
  #answer: Promise<SdkAnswer> | undefined
  #data: Promise<T> | undefined
  #raw: Promise<Response> | undefined

  constructor(run: (mode: AnswerMode) => Promise<unknown>) {
    // Settled with a placeholder: then/catch/finally below read the guarded answer instead.
    super((resolve) => resolve(undefined as T))
    this.#run = run
    queueMicrotask(() => {
      if (this.#raw === undefined) void this.#parsed().catch(() => {})
    })
  }

  #parsed(): Promise<SdkAnswer> {
    return (this.#answer ??= this.#run('parsed') as Promise<SdkAnswer>)
  }

  #body(): Promise<T> {
    return (this.#data ??= this.#parsed().then((answer) => answer.data as T))
  }

  /** The raw `Response`, body unread (when asked for before the call starts reading it). */
  asResponse(): Promise<Response> {
    if (this.#answer !== undefined) return this.#answer.then((answer) => answer.response)
    return (this.#raw ??= this.#run('raw') as Promise<Response>)
  }

  /** The parsed body, the `Response` and the provider's request id. */
  async withResponse(): Promise<{ data: T; response: Response; request_id: string | null }> {
    const { data, response, request_id } = await this.#parsed()
    return { data: data as T, response, request_id }
  }

  override then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#body().then(onfulfilled, onrejected)
  }

  override catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#body().catch(onrejected)
  }

  override finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#body().finally(onfinally)
  }
}
