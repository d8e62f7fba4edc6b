import { abortReason, onAbort } from '../core/abort.js'
import { classifyError } from '../classify/classify-error.js'
import { setTimer, type Clock } from '../core/clock.js'
import { optionalNumber } from '../core/validate.js'
import type { ResolvedCompactionPolicy } from './compaction-policy.js'
import type { ResolvedQuota } from './compaction-quota.js'
import type { CompactionSession, PrepareRequestOptions } from './compaction-session.js'
import type { Message } from './message.js'
import { trimToFit } from './trim-to-fit.js'
import type { CompactionTrimmedEvent } from './worker-events.js'

const OWNER = 'prepareRequest'

/** What `prepareRequest` needs from the worker. */
export interface ForegroundHost {
  readonly policy: ResolvedCompactionPolicy
  readonly quota: ResolvedQuota
  readonly clock: Clock
  readonly disposed: boolean
  /** Compacts `messages` now; resolves the compacted messages, or `messages` when it could not. */
  compactNow(
    s: CompactionSession,
    messages: Message[],
    timeMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Message[]>
  trimmed(e: CompactionTrimmedEvent): void
}

/**
 * P11, in order, stopping as soon as the request fits `contextWindow − outputTokens`: the messages
 * as they are (outside a turn, with a finished compaction applied); a finished compaction applied;
 * a running one waited for, then applied (given up on — and aborted — when the foreground time is
 * over); a foreground compaction; trimming. The session's calibrated counts decide what fits.
 */
export async function prepareRequest(
  host: ForegroundHost,
  s: CompactionSession,
  messages: Message[],
  o: PrepareRequestOptions,
): Promise<Message[]> {
  const window = host.policy.contextWindow
  const outputTokens = optionalNumber(OWNER, 'outputTokens', o.outputTokens, 0, {
    integer: true,
    min: 0,
    max: window - 1,
  })
  const signal = o.signal
  if (signal !== undefined && typeof signal.aborted !== 'boolean') {
    throw new TypeError(`${OWNER}: option "signal" must be an AbortSignal, got ${String(signal)}`)
  }
  signal?.throwIfAborted()
  const budget = window - outputTokens
  if (o.overflow !== undefined) {
    const reason = classifyError(o.overflow).reason
    if (reason !== 'context_overflow') {
      throw new TypeError(
        `${OWNER}: option "overflow" must be a context_overflow error, got one classified as ${reason}`,
      )
    }
    s.calibration.overflowed(o.overflow, s.calibration.raw(messages), budget)
  }
  const fits = (m: Message[]): boolean => s.calibration.count(m) <= budget
  const deadline = host.clock.now() + host.quota.foregroundTimeoutMs
  let current = s.inTurn ? messages : s.applyPending(messages)
  if (!fits(current) && s.hasPendingResult) current = s.applyPending(current)
  if (!fits(current) && s.busy !== undefined) {
    if (!(await settlesWithin(s.busy, host.clock, deadline - host.clock.now(), signal))) {
      s.abortRun?.()
      await s.idle()
    }
    current = s.applyPending(current)
  }
  if (!fits(current) && !host.disposed) {
    current = await host.compactNow(s, current, Math.max(0, deadline - host.clock.now()), signal)
  }
  if (!fits(current)) {
    const t = trimToFit(current, budget, s.calibration.policy)
    host.trimmed({
      sessionId: s.id,
      tokensBefore: t.tokensBefore,
      tokensAfter: t.tokensAfter,
      budget,
      droppedMessages: t.droppedMessages,
      cutMessages: t.cutMessages,
    })
    current = t.messages
  }
  s.lastSentRaw = s.calibration.raw(current)
  return current
}

/** Resolves true once `work` settles, false after `ms` on `clock`; rejects when `signal` aborts. */
function settlesWithin(
  work: Promise<void>,
  clock: Clock,
  ms: number,
  signal?: AbortSignal,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let removeAbort = (): void => {}
    const cancel = setTimer(clock, Math.max(0, ms), () => {
      removeAbort()
      resolve(false)
    })
    if (signal !== undefined) {
      removeAbort = onAbort(signal, () => {
        cancel()
        reject(abortReason(signal))
      })
    }
    void work.then(() => {
      cancel()
      removeAbort()
      resolve(true)
    })
  })
}
