import { optionalNumber, requireOptions } from '../core/validate.js'

/** Default pause after every compaction attempt of a session, in ms. */
export const DEFAULT_COOLDOWN_MS = 60_000
/** Default bound of one compaction; it aborts the summarizer's signal. */
export const DEFAULT_COMPACTION_TIMEOUT_MS = 120_000
/** Default cap of compaction attempts per session (no death spirals: codex #40213 ran 48). */
export const DEFAULT_MAX_ATTEMPTS_PER_SESSION = 100
/**
 * Default time a request waits in `prepareRequest` for a compaction it needs (a running one, or a
 * foreground summarizer call) before the extractive fallback writes the summary instead.
 */
export const DEFAULT_FOREGROUND_TIMEOUT_MS = 20_000
/** Extra life of the in-flight marker beyond the timeout, so only a crashed holder's marker expires. */
export const MARKER_MARGIN_MS = 30_000

/** Limits on how often and how long a session compacts (P5). */
export interface CompactionQuota {
  /** Pause after each attempt (success or not) before the session may compact in the background again. Default 60 000. */
  cooldownMs?: number
  /** A compaction running longer is aborted (the summarizer's signal aborts with `TimeoutError('total')`). Default 120 000. */
  timeoutMs?: number
  /** Background compactions refused once a session made this many attempts (manual ones still run). Default 100. */
  maxAttemptsPerSession?: number
  /** Life of the in-flight marker in the store: a crashed process's marker expires after it. Default timeoutMs + 30 000. */
  markerTtlMs?: number
  /**
   * How long `prepareRequest` waits for a compaction the request needs — a running background one,
   * then a foreground summarizer call — before the extractive fallback (or trimming) takes over.
   * Bounded by `timeoutMs` too. Default 20 000.
   */
  foregroundTimeoutMs?: number
}

export interface ResolvedQuota {
  readonly cooldownMs: number
  readonly timeoutMs: number
  readonly maxAttemptsPerSession: number
  readonly markerTtlMs: number
  readonly foregroundTimeoutMs: number
}

export function resolveQuota(quota: CompactionQuota | undefined, owner: string): ResolvedQuota {
  const o = requireOptions<CompactionQuota>(`${owner}: quota`, quota, true)
  const cooldownMs = optionalNumber(owner, 'quota.cooldownMs', o.cooldownMs, DEFAULT_COOLDOWN_MS, { min: 0 })
  const timeoutMs = optionalNumber(owner, 'quota.timeoutMs', o.timeoutMs, DEFAULT_COMPACTION_TIMEOUT_MS, {
    above: 0,
  })
  const maxAttemptsPerSession = optionalNumber(
    owner,
    'quota.maxAttemptsPerSession',
    o.maxAttemptsPerSession,
    DEFAULT_MAX_ATTEMPTS_PER_SESSION,
    { integer: true, min: 1 },
  )
  const markerTtlMs = optionalNumber(
    owner,
    'quota.markerTtlMs',
    o.markerTtlMs,
    timeoutMs + MARKER_MARGIN_MS,
    {
      integer: true,
      min: Math.ceil(timeoutMs),
    },
  )
  const foregroundTimeoutMs = optionalNumber(
    owner,
    'quota.foregroundTimeoutMs',
    o.foregroundTimeoutMs,
    DEFAULT_FOREGROUND_TIMEOUT_MS,
    { min: 0 },
  )
  return Object.freeze({ cooldownMs, timeoutMs, maxAttemptsPerSession, markerTtlMs, foregroundTimeoutMs })
}
