import type { Clock } from '../../../core/clock.js'
import type { Event } from '../../../core/events.js'
import { BackendHealth } from '../../../redis-common/backend-health.js'
import { InflightWork } from '../../../redis-common/inflight-work.js'
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
import { admissionOf, AdmitFlights, coveredByCache, denial } from './admissions.js'
import { BreakerCommands } from './breaker-commands.js'
import { FallbackRouter } from './fallback-router.js'
import { LostState } from './lost-state.js'
import { PendingFailures } from './pending-failures.js'
import { plainReport } from './plain-report.js'
import type {
  BackendFailureMode,
  BackendState,
  ConfigMismatch,
  RedisCircuitBackendOptions,
} from './redis-backend-options.js'
import { checkKey } from './redis-keys.js'
import { RedisLink } from './redis-link.js'
import { resolveRedisBackendOptions } from './resolve-options.js'
import { SharedView } from './shared-view.js'
import { StateCache } from './state-cache.js'
import { SubscriptionLoss } from './subscriptions-lost.js'
import { SuccessTallies } from './success-tallies.js'
import { verifyRedis } from './verify-redis.js'

/**
 * Circuit breaker state shared by a fleet through Redis (DESIGN §3 D1–D7). One hash per service,
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
  private readonly view: SharedView
  private readonly commands: BreakerCommands
  private readonly tallies: SuccessTallies
  private readonly work = new InflightWork()
  private readonly flights = new AdmitFlights()
  /** Reports not yet answered that may open the breaker (failures, cooldowns): the next admission waits. */
  private readonly pending = new PendingFailures()
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
    this.clock = o.clock
    const { random, logger, connectTimeoutMs } = o
    const local = o.localBackend ?? new InMemoryCircuitBackend({ clock: this.clock, random })
    this.router = new FallbackRouter(local, o.onBackendFailure, o.recoveryCheckMs, o.maxServices)
    this.cache = new StateCache(o.maxCacheAgeMs, o.maxServices)
    this.view = new SharedView(this.cache, () => this.clock.now(), logger, this.router.mirror)
    this.onStateChange = this.view.onStateChange
    this.onConfigMismatch = this.view.onConfigMismatch
    const { commandTimeoutMs, subscriptionCheckMs } = o
    const linkOptions = { commandTimeoutMs, connectTimeoutMs, subscriptionCheckMs, clock: this.clock }
    // The background check reconnects a lost subscriber.
    const loss = new SubscriptionLoss(this.cache, logger, () => this.health.schedule())
    this.link = new RedisLink(
      o.client,
      { ...linkOptions, track: this.work.track },
      {
        message: (service, message) => this.view.message(service, message),
        lost: loss.lost,
      },
    )
    this.health = new BackendHealth(
      o,
      o.onBackendFailure,
      async (key) => {
        await this.link.check(key ?? checkKey(this.prefix), connectTimeoutMs)
        loss.restored(this.health.state === 'redis')
      },
      this.work.track,
    )
    this.onBackendStateChange = this.health.onChange
    this.tallies = new SuccessTallies(this.clock, o.flushIntervalMs, (service, config) =>
      this.work.track(this.commands.record(service, config, 'tally', '')),
    )
    this.commands = new BreakerCommands(
      this.link,
      this.health,
      this.view,
      this.prefix,
      this.keyTtlMs,
      random,
      () => this.health.starting,
      (service) => this.tallies.take(service),
      this.work.track,
    )
    const lost = new LostState(this.commands, this.router, this.view, logger)
    this.commands.onLoss = lost.handle
    this.health.onChange(({ to }) => {
      this.cache.invalidateAll()
      if (to === 'redis') this.work.track(this.router.returning().then((open) => lost.afterReturn(open)))
    })
    this.health.start(this.link.connect(connectTimeoutMs))
  }

  /** `'redis'` while the shared breaker answers, `'fallback'` while Redis is unusable. */
  get backendState(): BackendState {
    return this.health.state
  }

  /**
   * Resolves once Redis is connected and usable: version >= 7, scripts, keys and pub/sub allowed.
   * Rejects (NOPERM, old version, unreachable) with an Error saying why; calls still work meanwhile.
   * It touches only `<prefix>:cb:{%ready}`, never a service's key (D7).
   */
  async ready(): Promise<void> {
    await this.health.starting
    await verifyRedis(this.link, this.health, this.commands, this.prefix)
  }

  admit(service: string, config: CircuitConfig): Admission | Promise<Admission> {
    if (this.health.local) return this.router.admit(service, config)
    if (this.router.isReturning(service)) return this.router.admitReturning(service, config, this.remote)
    // A failure or cooldown this process reported may have opened the breaker: answer once Redis
    // has said so (no extra command; a hung Redis delays this call by the command timeout at most).
    const pending = this.pending.of(service)
    if (pending !== undefined) return pending.then(() => this.admit(service, config))
    const now = this.clock.now()
    const e = this.cache.fresh(service, now)
    if (e !== undefined) {
      if (e.state === 'closed') return ALLOW
      const left = e.remainingMs - (now - e.at)
      if (left > 0) return denial(e.state, left, e.cooling)
      // A provider's cooldown ran out: closed here and now, as the script would close it — no
      // round trip per waiter, and no probe gate (D6).
      if (e.cooling) {
        this.view.endCooldown(service, e)
        return ALLOW
      }
    }
    return this.flights.run(service, () => this.remoteAdmit(service, config))
  }

  record(service: string, config: CircuitConfig, report: OutcomeReport): void | Promise<void> {
    const redisToken = this.router.recordLocal(service, config, report)
    if (this.health.local) return
    if (report.token !== undefined && redisToken === undefined) {
      // A local probe (while returning): Redis still counts the outcome as a plain call.
      return this.record(service, config, plainReport(report.outcome))
    }
    if (redisToken === undefined && report.outcome === 'success') {
      const e = this.cache.fresh(service, this.clock.now())
      if (e !== undefined && e.state === 'closed' && e.failures === 0) {
        if (config.failureRate !== undefined) this.tallies.count(service, config)
        return
      }
      this.work.track(this.commands.record(service, config, 'success', ''))
      return
    }
    const sent = this.commands.record(service, config, report.outcome, redisToken ?? '')
    if (report.outcome === 'failure') this.pending.add(service, sent)
    return sent
  }

  release(service: string, config: CircuitConfig, token: string): void | Promise<void> {
    const redisToken = this.router.releaseLocal(service, config, token)
    if (redisToken === undefined || this.health.local) return
    return this.commands.update(service, config, 'bwCbRelease', [redisToken])
  }

  renew(service: string, config: CircuitConfig, token: string): void | Promise<void> {
    const redisToken = this.router.renewLocal(service, config, token)
    if (redisToken === undefined || this.health.local) return
    return this.commands.update(service, config, 'bwCbRenew', [redisToken])
  }

  cooldown(service: string, config: CircuitConfig, ms: number): void | Promise<void> {
    this.router.feed((local) => local.cooldown(service, config, ms))
    if (this.health.local) return
    // Redis keeps the longer of the two: a burst of 429s answered together costs one command.
    if (coveredByCache(this.cache.fresh(service, this.clock.now()), this.clock.now(), ms, config)) return
    const sent = this.commands.update(service, config, 'bwCbCooldown', [Math.ceil(ms)])
    this.pending.add(service, sent)
    return sent
  }

  isolate(service: string, config: CircuitConfig): void | Promise<void> {
    this.router.feed((local) => local.isolate(service, config))
    if (this.health.local) return
    return this.commands.update(service, config, 'bwCbIsolate', [])
  }

  reset(service: string, config: CircuitConfig): void | Promise<void> {
    this.router.feed((local) => local.reset(service, config))
    this.view.forgetMismatch(service)
    if (this.health.local) return
    return this.commands.update(service, config, 'bwCbReset', [])
  }

  async snapshot(service: string, config: CircuitConfig): Promise<CircuitSnapshot> {
    if (!this.health.local) {
      const r = await this.commands.call(service, config, 'bwCbPeek', [])
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
    await this.work.idle()
  }

  /** Stops the background work and closes every connection; nothing is left running. */
  async close(): Promise<void> {
    this.health.stop()
    this.tallies.stop()
    await this.whenIdle()
    await this.link.close()
    await this.whenIdle()
  }

  /** The admit round trip, used directly and by the fallback router while returning. */
  private readonly remote = (service: string, config: CircuitConfig): Promise<Admission> =>
    this.remoteAdmit(service, config)

  private async remoteAdmit(service: string, config: CircuitConfig): Promise<Admission> {
    const r = await this.commands.admit(service, config)
    return r === undefined ? this.router.admit(service, config) : admissionOf(r)
  }
}
