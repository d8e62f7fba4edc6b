import { noop } from '../../../core/abort.js'
import { ALLOW } from '../../breaker-state.js'
import type {
  Admission,
  CircuitBackend,
  CircuitConfig,
  CircuitSnapshot,
  OutcomeReport,
} from '../../circuit-backend.js'
import { plainReport } from './plain-report.js'
import type { BackendFailureMode } from './redis-backend-options.js'
import { mirrorShared } from './shadow-mirror.js'
import type { PreviousState } from './shared-view.js'
import type { CachedState } from './state-cache.js'

const CLOSED: CircuitSnapshot = Object.freeze({ state: 'closed', failures: 0, retryAfterMs: 0 })

type Remote = (service: string, config: CircuitConfig) => Promise<Admission>

/** What this process's own breaker says of a service that is not closed: open time left, -1 isolated. */
export interface LocalKnowledge {
  readonly remainingMs: number
}

/**
 * The per-process side of the Redis backend (D5): answers while Redis is unusable
 * ('local' | 'allow' | 'deny'), keeps the local "shadow" breaker fed with every outcome and every
 * shared transition all along (in every mode: it is also what this process knows when Redis loses
 * a state, D7), and, after Redis comes back, denies a service's calls while either breaker is open
 * ("returning"). Probe tokens the local breaker handed out are told apart from Redis ones here.
 */
export class FallbackRouter {
  private readonly localTokens = new Set<string>()
  /** Redis probe token → the local probe token taken with it while returning. */
  private readonly paired = new Map<string, string>()
  /** Services the fallback answered for: their local breaker decides when returning ends. */
  private readonly seen = new Map<string, CircuitConfig>()
  private readonly returningSet = new Set<string>()
  private readonly denied: Admission

  constructor(
    private readonly local: CircuitBackend,
    private readonly mode: BackendFailureMode,
    private readonly recoveryCheckMs: number,
    private readonly maxServices: number,
  ) {
    this.denied = Object.freeze({ kind: 'deny', retryAfterMs: recoveryCheckMs, state: 'open' })
  }

  /** The fallback's answer. */
  admit(service: string, config: CircuitConfig): Admission | Promise<Admission> {
    if (this.mode === 'allow') return ALLOW
    if (this.mode === 'deny') return this.denied
    if (this.seen.size < this.maxServices) this.seen.set(service, config)
    const a = this.local.admit(service, config)
    if (isPromise(a)) return a.then((x) => this.noteLocal(x))
    return this.noteLocal(a)
  }

  isReturning(service: string): boolean {
    return this.returningSet.size > 0 && this.returningSet.has(service)
  }

  /**
   * Redis is back: every service whose local breaker is not closed keeps consulting it (decided
   * at once for a synchronous local breaker, so no call slips through meanwhile). Resolves with
   * those services: their open state may have to be put back into Redis.
   */
  returning(): Promise<[string, CircuitConfig][]> {
    const seen = [...this.seen]
    this.seen.clear()
    const open: [string, CircuitConfig][] = []
    if (this.mode !== 'local') return Promise.resolve(open)
    const waits: Promise<void>[] = []
    for (const [service, config] of seen) {
      const add = (x: CircuitSnapshot): void => {
        if (x.state === 'closed') return
        this.returningSet.add(service)
        open.push([service, config])
      }
      const s = this.local.snapshot(service, config)
      if (isPromise(s)) waits.push(s.then(add, noop))
      else add(s)
    }
    return Promise.all(waits).then(() => open)
  }

  /** What the local breaker knows of a service that is not closed (undefined when closed). */
  async knowledge(service: string, config: CircuitConfig): Promise<LocalKnowledge | undefined> {
    const s = await this.local.snapshot(service, config)
    if (s.state === 'closed') return undefined
    if (s.state === 'half-open') return { remainingMs: 0 }
    return { remainingMs: s.retryAfterMs === Number.POSITIVE_INFINITY ? -1 : Math.ceil(s.retryAfterMs) }
  }

  /** A shared transition learned from Redis: the local breaker follows it (see shadow-mirror.ts). */
  readonly mirror = (
    service: string,
    now: CachedState,
    before: PreviousState | undefined,
    config: CircuitConfig | undefined,
  ): void => {
    const c = config ?? now.config
    if (c !== undefined) mirrorShared(this.local, service, c, now, before).then(undefined, noop)
  }

  /** While returning: deny if either breaker is open; a local probe goes along with the Redis admission. */
  async admitReturning(service: string, config: CircuitConfig, remote: Remote): Promise<Admission> {
    const l = await this.local.admit(service, config)
    if (l.kind === 'deny') return l
    if (l.kind === 'allow') {
      this.returningSet.delete(service)
      return remote(service, config)
    }
    const r = await remote(service, config)
    if (r.kind === 'deny') {
      observe(this.local.release(service, config, l.token))
      return r
    }
    if (r.kind === 'probe') {
      this.paired.set(r.token, l.token)
      return r
    }
    this.localTokens.add(l.token)
    return { kind: 'probe', token: l.token }
  }

  /** Feeds the local breaker; returns the Redis token of the report, if it has one. */
  recordLocal(service: string, config: CircuitConfig, report: OutcomeReport): string | undefined {
    const [localToken, redisToken] = this.split(report.token)
    const r =
      localToken === undefined ? plainReport(report.outcome) : { outcome: report.outcome, token: localToken }
    observe(this.local.record(service, config, r))
    return redisToken
  }

  releaseLocal(service: string, config: CircuitConfig, token: string): string | undefined {
    const [localToken, redisToken] = this.split(token)
    if (localToken !== undefined) observe(this.local.release(service, config, localToken))
    return redisToken
  }

  renewLocal(service: string, config: CircuitConfig, token: string): string | undefined {
    const [localToken, redisToken] = this.split(token, false)
    if (localToken !== undefined) observe(this.local.renew(service, config, localToken))
    return redisToken
  }

  /** Applies an operator action or cooldown to the local breaker too, so the fallback knows it. */
  feed(action: (local: CircuitBackend) => void | Promise<void>): void {
    observe(action(this.local))
  }

  snapshot(service: string, config: CircuitConfig): CircuitSnapshot | Promise<CircuitSnapshot> {
    if (this.mode === 'allow') return CLOSED
    if (this.mode === 'deny') return { state: 'open', failures: 0, retryAfterMs: this.recoveryCheckMs }
    return this.local.snapshot(service, config)
  }

  /** [local token, Redis token] of a report's token; `consume` forgets it (the call has ended). */
  private split(token: string | undefined, consume = true): [string | undefined, string | undefined] {
    if (token === undefined) return [undefined, undefined]
    const paired = this.paired.get(token)
    if (paired !== undefined) {
      if (consume) this.paired.delete(token)
      return [paired, token]
    }
    if (this.localTokens.has(token)) {
      if (consume) this.localTokens.delete(token)
      return [token, undefined]
    }
    return [undefined, token]
  }

  private noteLocal(a: Admission): Admission {
    if (a.kind === 'probe') this.localTokens.add(a.token)
    return a
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Partial<Promise<T>>).then === 'function'
}

function observe(result: void | Promise<void>): void {
  if (result !== undefined) result.then(undefined, noop)
}
