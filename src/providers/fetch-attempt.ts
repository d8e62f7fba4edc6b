import { answerFacts, foldStreamFacts, type AnswerFacts } from '../classify/answer-facts.js'
import { HttpAnswerError } from '../classify/http-answer-error.js'
import { SseScanner } from '../classify/sse-scanner.js'
import { classifyStreamEvent, eventData, mayMatter } from '../classify/stream-events.js'
import { abortReason, raceAbort } from '../core/abort.js'
import { answersWanted, reportAnswer } from '../core/answer-channel.js'
import type { CallContext } from '../core/call-options.js'
import type { Clock } from '../core/clock.js'
import { surfaceTimeout } from '../core/errors/timeout-error.js'
import { bufferAnswer, concat, fromParts, type BufferedAnswer } from './answer.js'
import { heldBody } from './held-body.js'
import { report, type ProviderResponse } from './observation.js'
import type { RequestInfo } from './request-info.js'

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** One attempt's request: where it goes, as which service, and who hears about the answer. */
export interface AttemptPlan {
  readonly fetch: Fetch
  readonly info: RequestInfo
  readonly service: string
  readonly provider: string
  readonly clock: Clock
  readonly onResponse: ((response: ProviderResponse) => void) | undefined
  /** The SDK's own signal for the request (aborted when its reader stops). */
  readonly sdkSignal: AbortSignal | undefined
}

/** A non-streamed answer (shareable), or a stream handed back after its first content. */
export type AttemptResult =
  { kind: 'buffered'; answer: BufferedAnswer } | { kind: 'stream'; response: Response }

/** Errors that stand for a provider's answer, with that answer, to hand to the SDK at the end. */
const replays = new WeakMap<object, BufferedAnswer>()

/** The provider's answer behind `error`, when the error is one (an HTTP error, a stream error event). */
export function replayOf(error: unknown): BufferedAnswer | undefined {
  return typeof error === 'object' && error !== null ? replays.get(error) : undefined
}

/**
 * One attempt, inside the guard: sends the request with the attempt's signal and reads the answer
 * — a whole body, or a stream up to its first content event. A provider's error (an HTTP error
 * status, or a stream error event before content, such as an overload right after
 * `message_start`) is thrown for the guards to classify and retry.
 */
export async function runAttempt(plan: AttemptPlan, ctx: CallContext): Promise<AttemptResult> {
  const signal = ctx.signal
  const started = plan.clock.now()
  const facts: AnswerFacts = {}
  // Every answer goes to the call's answer channel (the guards' listeners) and to `onResponse`.
  const observe = (response: Response, firstContent: number | undefined, error?: unknown): void => {
    if (plan.onResponse === undefined && !answersWanted(ctx)) return
    const answer: ProviderResponse = {
      service: plan.service,
      provider: plan.provider,
      model: plan.info.model,
      responseModel: facts.model,
      operation: plan.info.operation,
      status: response.status,
      headers: response.headers,
      usage: facts.usage,
      timeToFirstContentMs: firstContent === undefined ? undefined : firstContent - started,
      durationMs: plan.clock.now() - started,
      stream: plan.info.stream,
      attempt: ctx.attempt,
      ...(error !== undefined && { error }),
    }
    reportAnswer(ctx, answer)
    report(plan.onResponse, answer)
  }
  try {
    const response = await plan.fetch(plan.info.url, { ...plan.info.init, signal })
    if (!response.ok || !plan.info.stream || response.body === null || !isEventStream(response)) {
      const answer = await bufferAnswer(response)
      const text = typeof answer.body === 'string' ? answer.body : ''
      if (response.ok) {
        Object.assign(facts, answerFacts(parseJson(text)))
        observe(response, plan.clock.now())
        return { kind: 'buffered', answer }
      }
      const error = new HttpAnswerError(response.status, response.headers, text)
      replays.set(error, answer)
      observe(response, undefined, error)
      throw error
    }
    return await openStream(plan, ctx, response, facts, observe)
  } catch (error) {
    throw surfaceTimeout(error, signal)
  }
}

async function openStream(
  plan: AttemptPlan,
  ctx: CallContext,
  response: Response,
  facts: AnswerFacts,
  observe: (response: Response, firstContent: number | undefined, error?: unknown) => void,
): Promise<AttemptResult> {
  const signal = ctx.signal
  const reader = response.body!.getReader()
  const scanner = new SseScanner()
  const read: Uint8Array[] = []
  let ended = false
  // An error event after the first content, in the same chunk: the hold reports it.
  let lateFailure: unknown
  try {
    for (let content = false; !content;) {
      const step = await raceAbort(reader.read(), signal)
      // A body ends quietly when its request is aborted; the caller must learn why it ended.
      if (signal.aborted) throw abortReason(signal)
      if (step.done) {
        ended = true
        break
      }
      read.push(step.value)
      for (const event of scanner.push(step.value)) {
        const data = eventData(event)
        foldStreamFacts(facts, data)
        const verdict = classifyStreamEvent(plan.info.streamApi, event, data, response.headers)
        if (content) {
          if (verdict.kind === 'error') lateFailure ??= verdict.error
          continue
        }
        if (verdict.kind === 'error') {
          // Kept for the SDK: if no attempt succeeds, it reads the same events and throws its own error.
          replays.set(verdict.error!, fromParts(response, concat(read)))
          observe(response, undefined, verdict.error)
          throw verdict.error
        }
        if (verdict.kind === 'content') content = true
      }
    }
  } catch (error) {
    reader.cancel().catch(() => {})
    throw error
  }
  const firstContent = plan.clock.now()
  const body = heldBody({
    ctx,
    reader,
    read,
    ended,
    failure: lateFailure,
    sdkSignal: plan.sdkSignal,
    onEvent: (event) => {
      if (!mayMatter(event)) return undefined
      const data = eventData(event)
      foldStreamFacts(facts, data)
      const verdict = classifyStreamEvent(plan.info.streamApi, event, data, response.headers)
      return verdict.kind === 'error' ? verdict.error : undefined
    },
    scanner,
    onEnd: (error) => observe(response, firstContent, error),
  })
  const held = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  })
  if (response.url !== '') Object.defineProperty(held, 'url', { value: response.url, configurable: true })
  return { kind: 'stream', response: held }
}

function isEventStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream')
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
