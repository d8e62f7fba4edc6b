import type { Guard } from '../core/guard.js'
import { toResponse } from './answer.js'
import { currentScope } from './call-scope.js'
import { dedupeKey } from './dedupe-key.js'
import { report } from './observation.js'
import { replayOf, runAttempt, type Fetch } from './fetch-attempt.js'
import type { ResolvedWrapOptions } from './provider-options.js'
import { estimateRequestCost } from './request-cost.js'
import { describeRequest, withModel, type RequestInfo } from './request-info.js'
import { serviceName } from './service-name.js'

/** What the transport of one wrapped client needs. */
export interface Transport {
  readonly provider: 'openai' | 'anthropic'
  readonly guard: Guard
  readonly options: ResolvedWrapOptions
}

/**
 * The `fetch` a wrapped client sends every request through (W1): each request is one guarded
 * call — service `<provider>:<model>`, the caller's `breakwater` options, a dedupe key when the
 * `dedupe` mode allows one, a cost estimated from the request — whose attempts are real HTTP
 * requests made with `base`. Provider error answers are retried by the guards; the last one is
 * handed to the SDK as the provider sent it, so the caller gets the SDK's own typed error. A
 * guard's rejection is thrown (the request shim hands it to the caller as it is). With
 * `fallbackModels`, a model that fails for good passes the request to the next.
 */
export function guardedFetch(base: Fetch, t: Transport): Fetch {
  return async function breakwaterFetch(input, init) {
    const scope = currentScope()
    const info = await describeRequest(input, init)
    const call = scope?.call
    const signal = init?.signal ?? undefined
    const models = info.model === undefined ? [undefined] : [info.model, ...t.options.models]
    const cost = call?.cost ?? estimateRequestCost(info.json, info.operation)
    for (let i = 0; ; i++) {
      const model = models[i]
      const attempt: RequestInfo =
        i === 0 ? info : { ...info, model, json: { ...info.json, model }, init: withModel(info, model!) }
      const service = serviceName(t.provider, model)
      const plan = {
        fetch: base,
        info: attempt,
        service,
        provider: t.provider,
        clock: t.options.clock,
        onResponse: t.options.onResponse,
        sdkSignal: signal,
      }
      try {
        const result = await t.guard.execute((ctx) => runAttempt(plan, ctx), {
          service,
          key: dedupeKey(t.options.dedupe, attempt, call, t.options.scope),
          cost,
          priority: call?.priority,
          signal,
        })
        return result.kind === 'stream' ? result.response : toResponse(result.answer)
      } catch (error) {
        if (i < models.length - 1 && !signal?.aborted && t.options.fallbackOn(error)) {
          report(t.options.onFallback, { from: service, to: serviceName(t.provider, models[i + 1]) }, 'onFallback')
          continue
        }
        // The provider's own answer: the SDK turns it into its typed error (RateLimitError, …).
        const replay = replayOf(error)
        if (replay !== undefined) return toResponse(replay)
        if (scope !== undefined) scope.failure = error
        throw error
      }
    }
  }
}
