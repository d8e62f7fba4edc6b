/** Batch endpoints of both APIs, kept in memory: create, retrieve, list and cancel. */

/** What a batch route answers: a status and a JSON body. */
export interface RouteAnswer {
  status: number
  json: unknown
}

/** One fake's batches, by id, for both APIs. */
export class BatchStore {
  private readonly openai = new Map<string, Record<string, unknown>>()
  private readonly anthropic = new Map<string, Record<string, unknown>>()

  clear(): void {
    this.openai.clear()
    this.anthropic.clear()
  }

  /** POST /v1/batches, GET /v1/batches[/:id], POST /v1/batches/:id/cancel. */
  openaiBatches(
    method: string,
    id: string | undefined,
    action: string | undefined,
    o: BatchCall,
  ): RouteAnswer {
    const seconds = Math.floor(o.now / 1000)
    if (method === 'POST' && id === undefined) {
      const batch = {
        id: `batch_fake_${o.seq}`,
        object: 'batch',
        endpoint: o.body.endpoint ?? '/v1/chat/completions',
        errors: null,
        input_file_id: o.body.input_file_id ?? null,
        completion_window: o.body.completion_window ?? '24h',
        status: 'validating',
        output_file_id: null,
        error_file_id: null,
        created_at: seconds,
        in_progress_at: null,
        expires_at: seconds + 86_400,
        finalizing_at: null,
        completed_at: null,
        failed_at: null,
        expired_at: null,
        cancelling_at: null,
        cancelled_at: null,
        request_counts: { total: 0, completed: 0, failed: 0 },
        metadata: o.body.metadata ?? null,
      }
      this.openai.set(batch.id, batch)
      return { status: 200, json: batch }
    }
    if (method === 'GET' && id === undefined) return { status: 200, json: list(this.openai, 'openai') }
    const batch = id === undefined ? undefined : this.openai.get(id)
    if (batch === undefined) return notFound(o, `No batch found with id '${id}'.`)
    if (method === 'POST' && action === 'cancel') {
      batch.status = 'cancelling'
      batch.cancelling_at = seconds
    }
    return { status: 200, json: batch }
  }

  /** POST /v1/messages/batches, GET /v1/messages/batches[/:id], POST /v1/messages/batches/:id/cancel. */
  anthropicBatches(
    method: string,
    id: string | undefined,
    action: string | undefined,
    o: BatchCall,
  ): RouteAnswer {
    const at = new Date(o.now).toISOString()
    if (method === 'POST' && id === undefined) {
      const requests = Array.isArray(o.body.requests) ? o.body.requests : []
      const batch = {
        id: `msgbatch_fake_${o.seq}`,
        type: 'message_batch',
        processing_status: 'in_progress',
        request_counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
        ended_at: null,
        created_at: at,
        expires_at: new Date(o.now + 86_400_000).toISOString(),
        archived_at: null,
        cancel_initiated_at: null,
        results_url: null,
      }
      this.anthropic.set(batch.id, batch)
      return { status: 200, json: batch }
    }
    if (method === 'GET' && id === undefined) return { status: 200, json: list(this.anthropic, 'anthropic') }
    const batch = id === undefined ? undefined : this.anthropic.get(id)
    if (batch === undefined) return notFound(o, `No message batch found with id '${id}'.`)
    if (method === 'POST' && action === 'cancel') {
      batch.processing_status = 'canceling'
      batch.cancel_initiated_at = at
    }
    return { status: 200, json: batch }
  }
}

/** What a batch call sees of the request. */
export interface BatchCall {
  body: Record<string, unknown>
  seq: number
  now: number
  /** The provider's error envelope for a 404. */
  notFound: (message: string) => unknown
}

function notFound(o: BatchCall, message: string): RouteAnswer {
  return { status: 404, json: o.notFound(message) }
}

function list(store: Map<string, Record<string, unknown>>, api: 'openai' | 'anthropic'): unknown {
  const data = [...store.values()].reverse()
  const first = data[0]?.id ?? null
  const last = data.at(-1)?.id ?? null
  return api === 'openai'
    ? { object: 'list', data, first_id: first, last_id: last, has_more: false }
    : { data, has_more: false, first_id: first, last_id: last }
}
