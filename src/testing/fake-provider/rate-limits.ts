import { invalidOption, optionalNumber, requireOptions } from '../../core/validate.js'

/**
 * Budgets the fake enforces for each API key, the way OpenAI and Anthropic do: a bucket per kind
 * that holds at most the limit and refills it over `windowMs`, continuously. A request over budget
 * is answered 429 with a Retry-After; every answer reports the budgets in the provider's headers.
 */
export interface FakeRateLimits {
  /** Requests per window for each API key (> 0); each request takes 1. Default: not limited. */
  requests?: number
  /**
   * Tokens per window for each API key (> 0). A request needs its input tokens (the count its
   * usage reports) to be admitted and takes them; the output tokens it produces are taken as they
   * are sent, so a long answer may leave the budget below zero (later requests wait longer).
   * Default: not limited.
   */
  tokens?: number
  /** The window the limits are per, in ms (> 0). Default 60 000 (RPM and TPM). */
  windowMs?: number
}

/** One budget of one API key as the headers report it. */
export interface FakeBudgetState {
  /** The limit per window. */
  limit: number
  /** What is left now, rounded down, never below 0. */
  remaining: number
  /** Ms until the bucket is whole again (0 when it is). */
  resetMs: number
}

/** The budgets of one API key. A kind without a limit is absent. */
export interface FakeRateLimitState {
  requests?: FakeBudgetState
  tokens?: FakeBudgetState
}

/** Why a request was not admitted. */
export interface OverBudget {
  limit: 'requests' | 'tokens'
  /** The limit per window of that budget. */
  max: number
  /** What it has used of it (the limit minus what is left). */
  used: number
  /** What the request needed of it. */
  requested: number
  /** When the budget has room for it; undefined when it never can (needs more than the limit). */
  retryAfterMs: number | undefined
}

export const DEFAULT_WINDOW_MS = 60_000

interface Resolved {
  requests: number | undefined
  tokens: number | undefined
  windowMs: number
}

/** Validates `rateLimits` (a TypeError / RangeError naming the option and the value). */
export function resolveRateLimits(owner: string, value: unknown): Resolved {
  const o = requireOptions<FakeRateLimits>(owner, value)
  const requests = optionalNumber(owner, 'rateLimits.requests', o.requests, undefined, { above: 0 })
  const tokens = optionalNumber(owner, 'rateLimits.tokens', o.tokens, undefined, { above: 0 })
  const windowMs = optionalNumber(owner, 'rateLimits.windowMs', o.windowMs, DEFAULT_WINDOW_MS, {
    above: 0,
  })
  if (requests === undefined && tokens === undefined) {
    invalidOption(owner, 'rateLimits', 'an object with requests or tokens', value)
  }
  return { requests, tokens, windowMs }
}

/** A refilling bucket: `level` at time `at`. */
class Level {
  private level: number
  private at: number

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
    now: number,
  ) {
    this.level = limit
    this.at = now
  }

  /** What is left at `now` (may be below 0 after output taken on credit). */
  now(now: number): number {
    if (now > this.at) {
      this.level = Math.min(this.limit, this.level + ((now - this.at) * this.limit) / this.windowMs)
      this.at = now
    }
    return this.level
  }

  take(n: number, now: number): void {
    this.level = Math.min(this.limit, this.now(now) - n)
  }

  /** Ms until `need` is there (0 when it is). */
  waitFor(need: number, now: number): number {
    const short = need - this.now(now)
    return short <= 0 ? 0 : Math.ceil((short * this.windowMs) / this.limit)
  }

  state(now: number): FakeBudgetState {
    const level = this.now(now)
    return {
      limit: this.limit,
      remaining: Math.max(0, Math.floor(level)),
      resetMs: Math.max(0, Math.ceil(((this.limit - level) * this.windowMs) / this.limit)),
    }
  }
}

interface KeyBudget {
  requests: Level | undefined
  tokens: Level | undefined
}

/** The budgets of every API key under one configuration. Changing the limits starts a new one. */
export class RateLimiter {
  private readonly keys = new Map<string, KeyBudget>()

  constructor(readonly limits: Readonly<Resolved>) {}

  /** The configuration as given back to users. */
  get options(): FakeRateLimits {
    const { requests, tokens, windowMs } = this.limits
    return { ...(requests !== undefined && { requests }), ...(tokens !== undefined && { tokens }), windowMs }
  }

  private budget(key: string | undefined, now: number): KeyBudget {
    const name = key ?? ''
    let b = this.keys.get(name)
    if (b === undefined) {
      const { requests, tokens, windowMs } = this.limits
      b = {
        requests: requests === undefined ? undefined : new Level(requests, windowMs, now),
        tokens: tokens === undefined ? undefined : new Level(tokens, windowMs, now),
      }
      this.keys.set(name, b)
    }
    return b
  }

  /** Takes 1 request and `inputTokens`, or says which budget is short and for how long. */
  admit(key: string | undefined, inputTokens: number, now: number): OverBudget | undefined {
    const b = this.budget(key, now)
    const requestWait = b.requests?.waitFor(1, now) ?? 0
    const tooLarge = b.tokens !== undefined && inputTokens > b.tokens.limit
    const tokenWait = tooLarge ? Infinity : (b.tokens?.waitFor(inputTokens, now) ?? 0)
    if (requestWait === 0 && tokenWait === 0) {
      b.requests?.take(1, now)
      b.tokens?.take(inputTokens, now)
      return undefined
    }
    const level = tokenWait > 0 ? b.tokens! : b.requests!
    const limit = tokenWait > 0 ? 'tokens' : 'requests'
    const wait = Math.max(requestWait, tokenWait)
    return {
      limit,
      max: level.limit,
      used: Math.max(0, Math.ceil(level.limit - level.now(now))),
      requested: limit === 'tokens' ? inputTokens : 1,
      retryAfterMs: Number.isFinite(wait) ? wait : undefined,
    }
  }

  /** Gives back what `admit` took: the request was answered without being served (a 429). */
  refund(key: string | undefined, inputTokens: number, now: number): void {
    const b = this.budget(key, now)
    b.requests?.take(-1, now)
    b.tokens?.take(-inputTokens, now)
  }

  /** Takes output tokens a request produced. */
  takeOutput(key: string | undefined, outputTokens: number, now: number): void {
    if (outputTokens > 0) this.budget(key, now).tokens?.take(outputTokens, now)
  }

  state(key: string | undefined, now: number): FakeRateLimitState {
    const b = this.budget(key, now)
    return {
      ...(b.requests && { requests: b.requests.state(now) }),
      ...(b.tokens && { tokens: b.tokens.state(now) }),
    }
  }

  clear(): void {
    this.keys.clear()
  }
}
