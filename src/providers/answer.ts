/**
 * A provider's answer read to its end inside the guard: plain data (the dedupe guard may share it
 * between callers, frozen), from which every caller gets a `Response` of its own, so the SDK parses
 * an object of its own for each.
 */
export interface BufferedAnswer {
  readonly status: number
  readonly statusText: string
  readonly url: string
  readonly headers: readonly (readonly [string, string])[]
  /** Text for JSON and text bodies, bytes otherwise. */
  readonly body: string | Uint8Array
}

const TEXT_TYPES = /^(application\/(json|x-ndjson|jsonl?)|text\/)/i

/** Reads `response` to its end. */
export async function bufferAnswer(response: Response): Promise<BufferedAnswer> {
  const type = response.headers.get('content-type') ?? ''
  const body = TEXT_TYPES.test(type) ? await response.text() : new Uint8Array(await response.arrayBuffer())
  return fromParts(response, body)
}

/** An answer whose body is the bytes already read (a stream replayed up to its error). */
export function fromParts(response: Response, body: string | Uint8Array): BufferedAnswer {
  const headers: [string, string][] = []
  response.headers.forEach((value, name) => headers.push([name, value]))
  return { status: response.status, statusText: response.statusText, url: response.url, headers, body }
}

/** A fresh `Response` of the answer, for one reader. */
export function toResponse(answer: BufferedAnswer): Response {
  // 204 / 304 answers may not carry a body.
  const empty = answer.status === 204 || answer.status === 304
  const body = empty ? null : typeof answer.body === 'string' ? answer.body : answer.body.slice()
  return withUrl(
    new Response(body, {
      status: answer.status,
      statusText: answer.statusText,
      headers: answer.headers as [string, string][],
    }),
    answer.url,
  )
}

/** Keeps the original URL on a rebuilt `Response` (the SDKs log it). */
export function withUrl(response: Response, url: string): Response {
  if (url !== '') Object.defineProperty(response, 'url', { value: url, configurable: true })
  return response
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const c of chunks) size += c.length
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}
