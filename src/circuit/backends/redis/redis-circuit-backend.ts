import { noop } from '../../../core/abort.js'
import { setTimer, systemClock, type Clock } from '../../../core/clock.js'
import type { Event } from '../../../core/events.js'
import { ALLOW } from '../../breaker-state.js'
import type {
  Admission,
  CircuitBackend,
  CircuitConfig,
  CircuitSnapshot,
  OutcomeReport,
  StateChange,
} from '../../circuit-backend.js'
import { InMemoryCircuitBackend } from '../memory-backend.js'
import { BackendHealth } from './backend-health.js'
import { FallbackRouter } from './fallback-router.js'
import type {
  BackendFailureMode,
  BackendState,
  ConfigMismatch,
  RedisCircuitBackendOptions,
} from './redis-backend-options.js'
import { resolveRedisBackendOptions } from './resolve-options.js'
import { breakerChannel, breakerKey, encodedConfig } from './redis-keys.js'
import { RedisLink } from './redis-link.js'
import { runScript, type ScriptName, type ScriptReply } from './redis-scripts.js'
import { SharedView } from './shared-view.js'
import { StateCache } from './state-cache.js'
import { verifyRedis } from './verify-redis.js'

const SUCCESS: OutcomeReport = Object.freeze({ outcome: 'success' })
const FAILURE: OutcomeReport = Object.freeze({ outcome: 'failure' })

/**
 * Circuit breaker state shared by a fleet through Redis (DESIGN §3 D1–D6). One hash per service,
 * one Lua script per operation, Redis server time only; a local cache answers closed and open
 * breakers without a round trip; Redis trouble never reaches a caller (the fallback answers).
 */
export class RedisCircuitBackend implements CircuitBackend {
  readonly prefix: string
  readonly commandTimeoutMs: number
  readonly onBackendFailure: BackendFailureMode
  readonly keyTtlMs: number
  private readonly link: RedisLink
  private readonly cache: StateCache
  private readonly health: BackendHealth
  private readonly router: FallbackRouter
  private readonly clock: Clock
  private readonly random: () => number
  private readonly logger: RedisCircuitBackendOptions['logger'] & object
  private readonly flushIntervalMs: number
  private readonly view: SharedView
  private readonly tallies = new Map<string, { config: CircuitConfig; successes: number }>()
  private readonly inflight = new Set<Promise<unknown>>()
  /** Failure reports not yet answered, per service: the next admission waits for the new state. */
  private readonly reporting = new Map<string, Promise<void>>()
  private cancelFlush: (() => void) | undefined
  private starting: Promise<void> | undefined
  private closed = false
  private tokens = 0
  /** Transitions this process learns of, from its own calls or any other process's (via pub/sub). */
  readonly onStateChange: Event<StateChange>
  /** A service's stored configuration differs from the one a guard asked for (also logged once). */
  readonly onConfigMismatch: Event<ConfigMismatch>
  /** Switches between the shared Redis breaker and the fallback. */
  readonly onBackendStateChange: BackendHealth['onChange']

  constructor(options: RedisCircuitBackendOptions) {
    const o = resolveRedisBackendOptions(options)
    this.prefix = o.prefix
    this.commandTimeoutMs = o.commandTimeoutMs
    this.onBackendFailure = o.onBackendFailure
    this.keyTtlMs = o.keyTtlMs
    this.flushIntervalMs = o.flushIntervalMs
    this.clock = o.clock ?? systemClock
    this.random = o.random ?? Math.random
    this.logger = o.logger ?? console
    this.cache = new StateCache(o.maxCacheAgeMs, o.maxServices)
    this.view = new SharedView(this.cache, () => this.clock.now(), this.logger)
    this.onStateChange = this.view.onStateChange
    this.onConfigMismatch = this.view.onConfigMismatch
    const local = o.localBackend ?? new InMemoryCircuitBackend({ clock: this.clock, random: this.random })
    this.router = new FallbackRouter(local, o.onBackendFailure, o.recoveryCheckMs, o.maxServices)
    this.link = new RedisLink(
      o.client,
      o.commandTimeoutMs,
      (service, message) => this.view.message(service, message),
      () => {
        this.cache.clear()
        if (!this.closed) this.health.schedule()
      },
    )
    const connectTimeoutMs = Math.max(1_000, o.commandTimeoutMs * 4)
    this.health = new BackendHealth(
      o.failureThreshold,
      o.recoveryCheckMs,
      this.clock,
      this.logger,
      o.onBackendFailure,
      async () => {
        await this.link.connect(connectTimeoutMs)
        await this.link.cmd.ping()
      },
      (work) => this.track(work),
    )
    this.onBackendStateChange = this.health.onChange
    this.health.onChange(({ to }) => {
      this.cache.clear()
      if (to === 'redis') this.router.returning()
    })
    this.starting = this.link.connect(connectTimeoutMs).then(
      () => void (this.starting = undefined),
      (error: unknown) => {
        this.starting = undefined
        if (!this.closed) this.health.fallBack(error)
      },
    )
    this.track(this.starting)
  }

  /** `'redis'` while the shared breaker answers, `'fallback'` while Redis is unusable. */
  get backendState(): BackendState {
    return this.health.state
  }

  /**
   * Resolves once Redis is connected and usable: version >= 7, scripts, keys and pub/sub allowed.
   * Rejects (NOPERM, old version, unreachable) with an Error saying why; calls still work meanwhile.
   */
  async ready(): Promise<void> {
    await this.starting
    if (this.health.state === 'fallback') {
      throw new Error(`RedisCircuitBackend: Redis is unreachable: ${String(this.health.error)}`, {
        cause: this.health.error,
      })
    }
    const key = breakerKey(this.prefix, '__ready__')
    await verifyRedis(this.link, key, breakerChannel(key), (name, k, extra) =>
      this.script(name, k, READY_CONFIG, extra),
    )
  }

  admit(service: string, config: CircuitConfig): Admission | Promise<Admission> {
    if (this.health.state === 'fallback' || this.closed) return this.router.admit(service, config)
    if (this.router.isReturning(service)) return this.router.admitReturning(service, config, this.remote)
    if (this.reporting.size > 0) {
      // A failure this process reported may have opened the breaker: answer once Redis has said so
      // (no extra command; a hung Redis delays this call by the command timeout at most).
      const pending = this.reporting.get(service)
      if (pending !== undefined) return pending.then(() => this.admit(service, config))
    }
    const e = this.cache.fresh(service, this.clock.now())
    if (e !== undefined) {
      if (e.state === 'closed') return ALLOW
      const left = e.remainingMs - (this.clock.now() - e.at)
      if (left > 0) {
        return e.state === 'open'
          ? { kind: 'deny', retryAfterMs: left, state: 'open' }
          : { kind: 'deny', retryAfterMs: 0, state: 'half-open' }
      }
    }
    return this.remoteAdmit(service, config)
  }

  record(service: string, config: CircuitConfig, report: OutcomeReport): void | Promise<void> {
    const redisToken = this.router.recordLocal(service, config, report)
    if (this.health.state === 'fallback' || this.closed) return
    if (report.token !== undefined && redisToken === undefined) {
      // A local probe (while returning): Redis still counts the outcome as a plain call.
      return this.record(service, config, report.outcome === 'success' ? SUCCESS : FAILURE)
    }
    if (redisToken === undefined && report.outcome === 'success') {
      const e = this.cache.fresh(service, this.clock.now())
      if (e !== undefined && e.state === 'closed' && e.failures === 0) {
        if (config.failureRate !== undefined) this.countSuccess(service, config)
        return
      }
      this.track(this.remoteRecord(service, config, 'success', ''))
      return
    }
    const sent = this.remoteRecord(service, config, report.outcome, redisToken ?? '')
    if (report.outcome === 'failure') {
      const settled = sent.then(() => {
        if (this.reporting.get(service) === settled) this.reporting.delete(service)
      })
      this.reporting.set(service, settled)
    }
    return sent
  }

  release(service: string, config: CircuitConfig, token: string): void | Promise<void> {
    const redisToken = this.router.releaseLocal(service, config, token)
    if (redisToken === undefined || this.health.state === 'fallback' || this.closed) return
    return this.update(service, config, 'bwCbRelease', [redisToken])
  }

  renew(service: string, config: CircuitConfig, token: string): void | Promise<void> {
    const redisToken = this.router.renewLocal(service, config, token)
    if (redisToken === undefined || this.health.state === 'fallback' || this.closed) return
    return this.update(service, config, 'bwCbRenew', [redisToken])
  }

  cooldown(service: string, config: CircuitConfig, ms: number): void | Promise<void> {
    this.router.feed((local) => local.cooldown(service, config, ms))
    if (this.health.state === 'fallback' || this.closed) return
    return this.update(service, config, 'bwCbCooldown', [Math.ceil(ms)])
  }

  isolate(service: string, config: CircuitConfig): void | Promise<void> {
    this.router.feed((local) => local.isolate(service, config))
    if (this.health.state === 'fallback' || this.closed) return
    return this.update(service, config, 'bwCbIsolate', [])
  }

  reset(service: string, config: CircuitConfig): void | Promise<void> {
    this.router.feed((local) => local.reset(service, config))
    this.view.forgetMismatch(service)
    if (this.health.state === 'fallback' || this.closed) return
    return this.update(service, config, 'bwCbReset', [])
  }

  async snapshot(service: string, config: CircuitConfig): Promise<CircuitSnapshot> {
    if (this.health.state !== 'fallback' && !this.closed) {
      const r = await this.call(service, config, 'bwCbPeek', [])
      if (r !== undefined) {
        const retryAfterMs = r.state === 'open' ? r.remainingMs : 0
        return { state: r.state, failures: r.failures, retryAfterMs }
      }
    }
    return this.router.snapshot(service, config)
  }

  /**
   * Resolves once every Redis command sent so far (reports sent off the call path included) has
   * been answered and applied. For tests and orderly shutdowns.
   */
  async whenIdle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
  }

  /** Stops the background work and closes both connections; nothing is left running. */
  async close(): Promise<void> {
    this.closed = true
    this.health.stop()
    this.cancelFlush?.()
    this.cancelFlush = undefined
    await this.whenIdle()
    await this.link.close()
  }

  /** The admit round trip, used directly and by the fallback router while returning. */
  private readonly remote = (service: string, config: CircuitConfig): Promise<Admission> =>
    this.remoteAdmit(service, config)

  private async remoteAdmit(service: string, config: CircuitConfig): Promise<Admission> {
    const token = `${(++this.tokens).toString(36)}.${Math.floor(this.random() * 2 ** 48).toString(36)}`
    const r = await this.call(service, config, 'bwCbAdmit', [token])
    if (r === undefined) return this.router.admit(service, config)
    if (r.kind === 'allow') return ALLOW
    if (r.kind === 'probe') return { kind: 'probe', token: r.token }
    return r.state === 'open'
      ? { kind: 'deny', retryAfterMs: r.remainingMs, state: 'open' }
      : { kind: 'deny', retryAfterMs: 0, state: 'half-open' }
  }

  private async remoteRecord(
    service: string,
    config: CircuitConfig,
    outcome: 'success' | 'failure' | 'tally',
    token: string,
  ): Promise<void> {
    const tally = this.tallies.get(service)
    const successes = tally?.successes ?? 0
    if (tally !== undefined) this.tallies.delete(service)
    await this.call(service, config, 'bwCbRecord', [outcome, token, this.random(), successes])
  }

  /** Runs a state-changing script; never rejects. */
  private async update(
    service: string,
    config: CircuitConfig,
    name: ScriptName,
    extra: (string | number)[],
  ): Promise<void> {
    await this.call(service, config, name, extra)
  }

  /** One script round trip: learns the reply, counts errors; undefined when Redis failed. */
  private async call(
    service: string,
    config: CircuitConfig,
    name: ScriptName,
    extra: (string | number)[],
  ): Promise<ScriptReply | undefined> {
    // Until the first connection attempt settles, commands would fail for want of an offline queue.
    if (this.starting !== undefined) await this.starting
    const key = breakerKey(this.prefix, service)
    const channel = breakerChannel(key)
    this.link.watch(channel, service)
    let reply: ScriptReply
    try {
      const pending = this.script(name, key, config, extra)
      this.track(pending)
      reply = await pending
    } catch (error) {
      this.health.failed(error)
      return undefined
    }
    this.health.ok()
    if (reply.storedConfig !== '') this.view.mismatch(service, config, reply.storedConfig)
    const { gen, state, remainingMs, failures } = reply
    this.view.learn(service, gen, state, remainingMs, failures, this.link.listening(channel), true)
    return reply
  }

  private script(
    name: ScriptName,
    key: string,
    config: CircuitConfig,
    extra: readonly (string | number)[],
  ): Promise<ScriptReply> {
    const publish = this.link.cluster ? 'SPUBLISH' : 'PUBLISH'
    const args = [encodedConfig(config), this.keyTtlMs, publish, breakerChannel(key), ...extra]
    return runScript(this.link.cmd, name, key, args)
  }

  /** Failure-rate mode: successes are counted here and flushed with HINCRBY on a short interval. */
  private countSuccess(service: string, config: CircuitConfig): void {
    const tally = this.tallies.get(service)
    if (tally !== undefined) tally.successes++
    else this.tallies.set(service, { config, successes: 1 })
    this.cancelFlush ??= setTimer(this.clock, this.flushIntervalMs, () => {
      this.cancelFlush = undefined
      for (const [s, t] of this.tallies) this.track(this.remoteRecord(s, t.config, 'tally', ''))
    })
  }

  private track(work: Promise<unknown>): void {
    const settled = work.then(noop, noop)
    this.inflight.add(settled)
    void settled.then(() => this.inflight.delete(settled))
  }
}

/** Configuration used only by `ready()` to exercise the scripts on a scratch key. */
const READY_CONFIG: CircuitConfig = Object.freeze({
  threshold: 1,
  recoveryMs: 1,
  maxRecoveryMs: 1,
  halfOpenSuccesses: 1,
  probeLeaseMs: 1,
})
