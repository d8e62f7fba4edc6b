import type { FakeApi } from './dialect.js'
import type { Fault } from './faults.js'

/** One request the fake received. */
export interface FakeRequest {
  /** 1-based arrival number. */
  seq: number
  /** Which API the path belongs to; undefined for an unknown path. */
  api: FakeApi | undefined
  /** The HTTP method. */
  method: string
  path: string
  model: string | undefined
  /** Bearer token or x-api-key. */
  apiKey: string | undefined
  stream: boolean
  /** Arrival time on the fake's clock. */
  at: number
  /** The fault it was answered with, if any (`rate_limit` for a request over budget too). */
  fault: Fault['kind'] | undefined
  /** Set when the request was over its API key's budget and answered 429: which budget. */
  limited?: 'requests' | 'tokens'
  /** The parsed JSON body ({} when it was not JSON). */
  body: Record<string, unknown>
}

/** Requests counted three ways. Keys absent from a record mean zero. */
export interface RequestCounts {
  total: number
  byPath: Record<string, number>
  byModel: Record<string, number>
  byApiKey: Record<string, number>
}

/** Fields a counted request must match; all given fields must match. */
export interface RequestFilter {
  path?: string
  /** The HTTP method, e.g. 'GET'. */
  method?: string
  model?: string
  apiKey?: string
  stream?: boolean
  /** Only requests answered with this fault kind; `null` for requests answered normally. */
  fault?: Fault['kind'] | null
}

interface Waiter {
  n: number
  resolve: () => void
  reject: (error: Error) => void
}

export class RequestLog {
  entries: FakeRequest[] = []
  private waiters: Waiter[] = []
  private closed = false

  record(fields: Omit<FakeRequest, 'seq'>): FakeRequest {
    const entry = { seq: this.entries.length + 1, ...fields }
    this.entries.push(entry)
    if (this.waiters.length > 0) {
      const arrived = this.entries.length
      this.waiters = this.waiters.filter((w) => (w.n <= arrived ? (w.resolve(), false) : true))
    }
    return entry
  }

  /** Resolves once `n` requests have arrived; rejects when the log closes first. */
  waitFor(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 0) {
      return Promise.reject(
        new RangeError(`FakeProvider.waitForRequests: n must be an integer >= 0, got ${n}`),
      )
    }
    if (this.entries.length >= n) return Promise.resolve()
    if (this.closed) return Promise.reject(new Error('FakeProvider is closed'))
    return new Promise((resolve, reject) => this.waiters.push({ n, resolve, reject }))
  }

  close(): void {
    this.closed = true
    for (const w of this.waiters.splice(0)) w.reject(new Error('FakeProvider is closed'))
  }

  count(filter?: RequestFilter): number {
    if (filter === undefined) return this.entries.length
    let n = 0
    for (const e of this.entries) {
      if (
        (filter.path === undefined || filter.path === e.path) &&
        (filter.method === undefined || filter.method === e.method) &&
        (filter.model === undefined || filter.model === e.model) &&
        (filter.apiKey === undefined || filter.apiKey === e.apiKey) &&
        (filter.stream === undefined || filter.stream === e.stream) &&
        (filter.fault === undefined || (filter.fault ?? undefined) === e.fault)
      ) {
        n++
      }
    }
    return n
  }

  counts(): RequestCounts {
    const out: RequestCounts = { total: this.entries.length, byPath: {}, byModel: {}, byApiKey: {} }
    for (const e of this.entries) {
      out.byPath[e.path] = (out.byPath[e.path] ?? 0) + 1
      if (e.model !== undefined) out.byModel[e.model] = (out.byModel[e.model] ?? 0) + 1
      if (e.apiKey !== undefined) out.byApiKey[e.apiKey] = (out.byApiKey[e.apiKey] ?? 0) + 1
    }
    return out
  }

  clear(): void {
    this.entries = []
  }
}
