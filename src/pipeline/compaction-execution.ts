import { abortReason, linkedController, noop, onAbort } from '../core/abort.js'
import { setTimer, type Clock } from '../core/clock.js'
import { TimeoutError } from '../core/errors/timeout-error.js'
import { isCompactionRefusedError } from './compaction-errors.js'
import type { ResolvedQuota } from './compaction-quota.js'
import type { CompactionResult, RunInput } from './compaction-run.js'
import type { CompactionSession } from './compaction-session.js'
import type { CompactionStore } from './compaction-store.js'
import type { Pipeline } from './pipeline.js'
import { isStageError } from './stage-error.js'
import type * as E from './worker-events.js'
import { failureOf, type WorkerTelemetry } from './worker-telemetry.js'

/** How a run was asked for: by the worker after a turn, by the caller, or by `prepareRequest`. */
export type RunMode = 'background' | 'manual' | 'foreground'

export type RunOutcome = { ok: true; result: CompactionResult } | { ok: false; error: unknown }

/** What one run needs from its worker. */
export interface RunHost {
  readonly clock: Clock
  readonly quota: ResolvedQuota
  readonly store: CompactionStore
  readonly pipeline: Pipeline<RunInput, CompactionResult>
  readonly telemetry: WorkerTelemetry
  /** Aborted when the worker is disposed. */
  readonly shutdown: AbortSignal
}

/** The `manual` / `foreground` fields every run event carries. */
export function modeFields(mode: RunMode): { manual: boolean; foreground: boolean } {
  return { manual: mode === 'manual', foreground: mode === 'foreground' }
}

/**
 * One run: counts the attempt, bounds it by the quota's timeout (and the caller's signal, for a
 * foreground run), reports its outcome, and always clears the marker and starts the cooldown.
 * Never rejects.
 */
export async function executeRun(
  host: RunHost,
  s: CompactionSession,
  input: RunInput,
  mode: RunMode,
  token: string,
  callerSignal?: AbortSignal,
): Promise<RunOutcome> {
  const { plan } = input
  const { clock, quota, store, telemetry } = host
  const started = clock.now()
  const modes = modeFields(mode)
  const { controller, unlink } = linkedController(host.shutdown)
  const unlinkCaller =
    callerSignal === undefined
      ? noop
      : onAbort(callerSignal, () => controller.abort(abortReason(callerSignal)))
  if (callerSignal?.aborted) controller.abort(abortReason(callerSignal))
  // prepareRequest gives up on a background run it waited too long for (it compacts in the foreground).
  s.abortRun = () =>
    controller.abort(new DOMException('compaction superseded by a foreground one', 'AbortError'))
  const { timeoutMs } = quota
  const cancel = setTimer(clock, timeoutMs, () => controller.abort(new TimeoutError('total', timeoutMs)))
  try {
    const attempt = await store.countAttempt(s.id)
    telemetry.started({ sessionId: s.id, ...modes, tokensBefore: plan.tokensBefore, attempt })
    const priority = mode === 'foreground' ? 'foreground' : 'background'
    const result = await host.pipeline.run(input, { signal: controller.signal, priority })
    await store.recordBoundary(s.id, plan.boundaryMessageId)
    telemetry.completed({
      sessionId: s.id,
      ...modes,
      outcome: 'completed',
      durationMs: clock.now() - started,
      tokensBefore: plan.tokensBefore,
      tokensAfter: result.tokensAfter,
      summarizer: result.summarizer,
      summarizerCalls: result.primaryCalls,
      ...(result.summarizer === 'fallback' ? { primaryError: result.primaryError } : {}),
    })
    return { ok: true, result }
  } catch (caught) {
    const error = isStageError(caught) ? caught.cause : caught
    if (isCompactionRefusedError(error) && error.reason === 'not_below_target') {
      telemetry.rejected({
        sessionId: s.id,
        ...modes,
        outcome: 'rejected',
        durationMs: clock.now() - started,
        reason: 'not_below_target',
        tokensBefore: plan.tokensBefore,
        ...(error.tokensAfter !== undefined ? { tokensAfter: error.tokensAfter } : {}),
      })
    } else {
      reportFailure(host, s, mode, started, error, failureOf(error, controller.signal))
    }
    return { ok: false, error }
  } finally {
    cancel()
    unlink()
    unlinkCaller()
    s.abortRun = undefined
    // Best effort: a store that fails here leaves a marker that expires after markerTtlMs.
    await Promise.allSettled([store.startCooldown(s.id, quota.cooldownMs), store.release(s.id, token)])
  }
}

/** Reports a run (or the decision before one) that failed. */
export function reportFailure(
  host: Pick<RunHost, 'clock' | 'telemetry'>,
  s: CompactionSession,
  mode: RunMode,
  started: number,
  error: unknown,
  reason: E.CompactionFailure,
): void {
  host.telemetry.failed({
    sessionId: s.id,
    ...modeFields(mode),
    durationMs: host.clock.now() - started,
    reason,
    error,
  })
}
