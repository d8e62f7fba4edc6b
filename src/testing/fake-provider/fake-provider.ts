import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { systemClock, type Clock } from '../../core/clock.js'
import { optionalClock, optionalFunction, optionalNumber, requireOptions } from '../../core/validate.js'
import { admission } from './admission.js'
import { answerRoute } from './answer-route.js'
import { BatchStore } from './batches-api.js'
import type { FakeProvider, FakeProviderOptions } from './fake-provider-api.js'
import { FaultPlan, type FaultWindow, type QueuedFault } from './fault-plan.js'
import type { Fault } from './faults.js'
import { apiKeyOf, readJsonBody, type ReplyRequest } from './incoming.js'
import {
  RateLimiter,
  resolveRateLimits,
  type FakeRateLimits,
  type FakeRateLimitState,
} from './rate-limits.js'
import { RequestLog, type FakeRequest, type RequestCounts, type RequestFilter } from './request-log.js'
import { respond } from './respond.js'
import { routeOf } from './routes.js'

const OWNER = 'startFakeProvider'

export type { FakeProvider, FakeProviderOptions, ReplyRequest }

/**
 * Starts a fake LLM provider on a free loopback port. It speaks enough of the OpenAI API
 * (`/v1/chat/completions` and `/v1/responses`, streaming or not, `/v1/embeddings`, `/v1/batches`)
 * and the Anthropic API (`/v1/messages`, `/v1/messages/count_tokens`, `/v1/messages/batches`) for
 * the official SDKs and the AI SDK providers to work against it, answers deterministically, injects
 * faults on demand (on every route) and counts every request, so a test can assert exactly how
 * many reached it. Its token counts (usage, `countTokens`, embeddings usage, the `rateLimits` token
 * budget) are `estimateTextTokens` of the text, at least 1: close to a real tokenizer on CJK, JSON
 * and logs as well as on English prose.
 */
export async function startFakeProvider(options?: FakeProviderOptions): Promise<FakeProvider> {
  const o = requireOptions<FakeProviderOptions>(OWNER, options, true)
  optionalClock(OWNER, o.clock)
  const fake = new Fake(
    o.clock ?? systemClock,
    optionalFunction(OWNER, 'reply', o.reply) ?? defaultReply,
    optionalNumber(OWNER, 'chunkDelayMs', o.chunkDelayMs, 0, { min: 0 }),
  )
  if (o.rateLimits !== undefined) fake.setRateLimits(o.rateLimits)
  await fake.listen()
  return fake
}

function defaultReply(request: ReplyRequest): string {
  return `echo: ${request.lastUserMessage.slice(0, 200)}`
}

class Fake implements FakeProvider {
  url = ''
  openaiBaseURL = ''
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private readonly exchanges = new Set<AbortController>()
  private readonly plan = new FaultPlan()
  private readonly log = new RequestLog()
  private readonly batches = new BatchStore()
  private limiter: RateLimiter | undefined
  private closing: Promise<void> | undefined

  constructor(
    private readonly clock: Clock,
    private readonly reply: (request: ReplyRequest) => string,
    private readonly chunkDelayMs: number,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A write after the client left (or a bug): never take the test process down with it.
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ error: { message: String(error), type: 'fake_provider_error' } }))
        } else res.destroy()
      })
    })
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject)
        const address = this.server.address()
        const port = typeof address === 'object' && address !== null ? address.port : 0
        this.url = `http://127.0.0.1:${port}`
        this.openaiBaseURL = `${this.url}/v1`
        resolve()
      })
    })
  }

  fail(fault: Fault, options?: QueuedFault): FakeProvider {
    this.plan.enqueue(fault, options)
    return this
  }

  schedule(window: FaultWindow): FakeProvider {
    this.plan.schedule(window, this.clock.now())
    return this
  }

  get requests(): readonly FakeRequest[] {
    return this.log.entries
  }

  get counts(): RequestCounts {
    return this.log.counts()
  }

  count(filter?: RequestFilter): number {
    return this.log.count(filter)
  }

  waitForRequests(n: number): Promise<void> {
    return this.log.waitFor(n)
  }

  get pendingFaults(): number {
    return this.plan.pending
  }

  setRateLimits(limits: FakeRateLimits | undefined): FakeProvider {
    const owner = this.url === '' ? OWNER : 'FakeProvider.setRateLimits'
    this.limiter = limits === undefined ? undefined : new RateLimiter(resolveRateLimits(owner, limits))
    return this
  }

  get rateLimits(): FakeRateLimits | undefined {
    return this.limiter?.options
  }

  rateLimitState(apiKey?: string): FakeRateLimitState | undefined {
    return this.limiter?.state(apiKey, this.clock.now())
  }

  reset(): void {
    this.limiter?.clear()
    this.plan.clear()
    this.log.clear()
    this.batches.clear()
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.log.close()
      for (const exchange of this.exchanges) exchange.abort()
      for (const socket of this.sockets) socket.destroy()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    return this.closing
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!
    const method = req.method ?? 'GET'
    const route = routeOf(method, path)
    const body = await readJsonBody(req)
    const model = typeof body.model === 'string' ? body.model : undefined
    const stream = route?.generation === true && body.stream === true
    const apiKey = apiKeyOf(req)
    const target = { path, model, apiKey, stream }
    const served = route?.allowed === true && !(route.needsModel && model === undefined)
    const budget = admission(this.limiter, { route, body, served, apiKey, clock: this.clock })
    // A request over budget is refused before anything else: it meets no scripted fault.
    let fault = route?.allowed && !budget.over ? this.plan.take(target, this.clock.now()) : undefined
    const entry = this.log.record({
      ...target,
      api: route?.api,
      method,
      at: this.clock.now(),
      fault: budget.over ? 'rate_limit' : fault?.kind,
      ...(budget.over && { limited: budget.over.limit }),
      body,
    })
    if (!route?.allowed) {
      res.writeHead(route ? 405 : 404, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          error: { message: `fake provider: no route ${method} ${path}`, type: 'not_found' },
        }),
      )
      return
    }
    const requestId = `req_fake_${entry.seq}`
    const dialect = route.dialect
    if (route.needsModel && model === undefined) {
      const text = JSON.stringify(
        dialect.errorBody('invalid_request_error', 'model is required', undefined, requestId),
      )
      res.writeHead(400, {
        ...budget.headers(),
        'content-type': 'application/json',
        [dialect.requestIdHeader]: requestId,
      })
      res.end(text)
      return
    }
    if (budget.over) fault = budget.overBudgetFault(model ?? '', requestId)
    // A scripted 429 answers for the provider's budget: like a real one, it takes none of it.
    else if (fault?.kind === 'rate_limit' || fault?.kind === 'insufficient_quota') budget.refund()
    const controller = new AbortController()
    this.exchanges.add(controller)
    const abort = (): void => controller.abort()
    res.once('close', abort)
    try {
      await respond(
        {
          req,
          res,
          dialect,
          clock: this.clock,
          signal: controller.signal,
          requestId,
          chunkDelayMs: this.chunkDelayMs,
          rateLimitHeaders: budget.headers,
          takeOutput: budget.takeOutput,
        },
        answerRoute({
          method,
          route,
          body,
          model: model ?? '',
          stream,
          seq: entry.seq,
          requestId,
          now: this.clock.now(),
          reply: this.reply,
          batches: this.batches,
        }),
        fault,
      )
    } catch (error) {
      // Waits end with an abort when the client leaves or the fake closes: nothing to answer then.
      if (!controller.signal.aborted) throw error
    } finally {
      res.off('close', abort)
      this.exchanges.delete(controller)
      if (controller.signal.aborted && !res.writableEnded) res.destroy()
    }
  }
}
