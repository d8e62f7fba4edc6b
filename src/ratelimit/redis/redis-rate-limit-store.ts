import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../../core/clock.js'
import { BackendHealth, type BackendState } from '../../redis-common/backend-health.js'
import { openCommandConnection } from '../../redis-common/command-connection.js'
import { closeConnection, connectBounded } from '../../redis-common/connection.js'
import { InflightWork } from '../../redis-common/inflight-work.js'
import { notUsable, requireReachable, requireRedis7 } from '../../redis-common/ready-checks.js'
import { defineScripts, runScript } from '../../redis-common/scripts.js'
import { scratchKey, serviceKey } from '../../redis-common/service-key.js'
import { DEFAULT_MAX_RATE_LIMIT_SERVICES } from '../memory-store.js'
import type {
  BudgetObservation,
  BudgetReply,
  RateLimitBudget,
  RateLimitStore,
  TakeRequest,
} from '../rate-limit-store.js'
import { FallbackShare } from './fallback-share.js'
import {
  commonArgs,
  parseReply,
  RATE_LIMIT_SCRIPTS,
  type RateLimitScript,
  takeArgs,
} from './rate-limit-scripts.js'
import { type RedisRateLimitStoreOptions, UNLIMITED_SPARE_CALLS } from './redis-store-options.js'
import { resolveStoreOptions } from './resolve-store-options.js'
import { SharedView } from './shared-view.js'

const OWNER = 'RedisRateLimitStore'

/**
 * Budgets shared by a fleet through Redis (DESIGN §3 L2): one hash per service,
 * `<prefix>:rl:{<service>}` (the service is the hash tag, so a Cluster works), one Lua script per
 * operation on it, timed by Redis server time. A take carries the budget for the calls waiting and
 * a small spare lease, so most calls cost no command; what a provider reports rides along with the
 * next take unless it matters at once. Redis trouble never reaches a caller: after
 * `failureThreshold` errors each process answers from its own share of the budget until a
 * background check finds Redis usable again.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly prefix: string
  readonly commandTimeoutMs: number
  readonly keyTtlMs: number
  readonly leaseMs: number
  readonly leaseFraction: number
  private readonly cmd: Redis | Cluster
  private readonly clock: Clock
  private readonly health: BackendHealth
  private readonly view = new SharedView(DEFAULT_MAX_RATE_LIMIT_SERVICES)
  private readonly share: FallbackShare
  private readonly work = new InflightWork()
  private readonly activeProcessMs: number
  /** Names this process in the services' hashes, for the count of active processes. */
  private readonly processId = `${process.pid}.${Math.floor(Math.random() * 2 ** 32).toString(36)}`
  /** Switches between the fleet budget in Redis and the per-process share. */
  readonly onBackendStateChange: BackendHealth['onChange']

  constructor(options: RedisRateLimitStoreOptions) {
    const o = resolveStoreOptions(options)
    this.prefix = o.prefix
    this.commandTimeoutMs = o.commandTimeoutMs
    this.keyTtlMs = o.keyTtlMs
    this.leaseMs = o.leaseMs
    this.leaseFraction = o.leaseFraction
    this.activeProcessMs = o.activeProcessMs
    this.clock = o.clock
    const now = (): number => this.clock.now()
    this.share = new FallbackShare(this.view, o.fallbackShare, now, DEFAULT_MAX_RATE_LIMIT_SERVICES)
    this.cmd = openCommandConnection(o.client, {
      name: 'breakwater-ratelimit',
      commandTimeoutMs: o.commandTimeoutMs,
    })
    defineScripts(this.cmd, RATE_LIMIT_SCRIPTS)
    const { connectTimeoutMs } = o
    this.health = new BackendHealth(
      o,
      'share',
      async (key) => {
        await connectBounded(this.cmd, connectTimeoutMs)
        // A script, not PING, on the key that failed last (its shard): the check proves the
        // scripts run there (D7). Peek writes nothing, so a service's key is safe to check on.
        const on = key ?? scratchKey(this.prefix, 'rl')
        await this.script('bwRlPeek', on, commonArgs(READY_BUDGET, 1, undefined, 0))
      },
      this.work.track,
    )
    this.onBackendStateChange = this.health.onChange
    this.health.onChange(({ to }) => {
      if (to === 'redis') this.share.clear()
    })
    this.health.start(connectBounded(this.cmd, connectTimeoutMs))
  }

  /** `'redis'` while the fleet budget answers, `'fallback'` while each process uses its share. */
  get backendState(): BackendState {
    return this.health.state
  }

  /**
   * Resolves once Redis is connected and usable: version >= 7, and this user may run the scripts
   * on rate limit keys. Rejects with an Error saying why; calls are answered meanwhile. It
   * touches only `<prefix>:rl:{%ready}`, never a service's key (D7).
   */
  async ready(): Promise<void> {
    await this.health.starting
    requireReachable(OWNER, this.health)
    await requireRedis7(this.cmd, OWNER)
    const key = scratchKey(this.prefix, 'rl')
    try {
      await this.script('bwRlLearn', key, commonArgs(READY_BUDGET, 60_000, undefined, 0))
    } catch (error) {
      throw notUsable(
        OWNER,
        'the rate limit scripts cannot run on its keys (check the ACL: EVALSHA, EVAL, HSET, HDEL, PEXPIRE)',
        error,
      )
    }
  }

  /** The service's hash. */
  key(service: string): string {
    return serviceKey(this.prefix, 'rl', service)
  }

  take(service: string, budget: RateLimitBudget, request: TakeRequest): BudgetReply | Promise<BudgetReply> {
    if (this.health.local) return this.share.take(service, budget, request, this.leaseMs)
    return this.remoteTake(service, budget, request)
  }

  learn(service: string, budget: RateLimitBudget, observation: BudgetObservation): void | Promise<void> {
    if (this.health.local) return this.share.learn(service, budget, observation)
    const now = this.clock.now()
    if (!this.view.urgent(service, budget, observation, now))
      return this.view.defer(service, observation, now)
    const sent = this.remote(service, budget, 'bwRlLearn', observation, 0, []).then((r) => {
      if (r === undefined) this.share.learn(service, budget, observation)
    })
    this.work.track(sent)
    return sent
  }

  async peek(service: string, budget: RateLimitBudget): Promise<BudgetReply> {
    if (!this.health.local) {
      const r = await this.remote(service, budget, 'bwRlPeek', undefined, 0, [])
      if (r !== undefined) return r
    }
    return this.share.peek(service, budget)
  }

  /** Resolves once every command sent so far has been answered. For tests and orderly shutdowns. */
  async whenIdle(): Promise<void> {
    await this.work.idle()
  }

  /** Stops the background check and closes the connection; nothing is left running. */
  async close(): Promise<void> {
    this.health.stop()
    await this.whenIdle()
    await closeConnection(this.cmd)
  }

  private async remoteTake(
    service: string,
    budget: RateLimitBudget,
    request: TakeRequest,
  ): Promise<BudgetReply> {
    // Until the first connection attempt settles, commands would fail for want of an offline queue.
    if (this.health.starting !== undefined) await this.health.starting
    const now = this.clock.now()
    const pending = this.view.takePending(service, now, budget.windowMs)
    const extra = takeArgs(
      request,
      this.spare(service, budget, request),
      this.processId,
      this.activeProcessMs,
    )
    const reply = await this.remote(
      service,
      budget,
      'bwRlTake',
      pending?.observation,
      pending?.ageMs ?? 0,
      extra,
    )
    if (reply !== undefined) return reply
    if (pending !== undefined) this.share.learn(service, budget, pending.observation)
    return this.share.take(service, budget, request, this.leaseMs)
  }

  /** Spare lease sizes: a share of each limit as last heard (or configured); some calls' worth without one. */
  private spare(
    service: string,
    budget: RateLimitBudget,
    request: TakeRequest,
  ): { requests: number; tokens: number } {
    const v = this.view.get(service)
    const limitR = v !== undefined && v.limitR > 0 ? v.limitR : (budget.requests ?? 0)
    const limitT = v !== undefined && v.limitT > 0 ? v.limitT : (budget.tokens ?? 0)
    const f = this.leaseFraction
    if (f === 0) return { requests: 0, tokens: 0 }
    return {
      requests: limitR > 0 ? limitR * f : UNLIMITED_SPARE_CALLS,
      tokens: limitT > 0 ? limitT * f : UNLIMITED_SPARE_CALLS * request.need.tokens,
    }
  }

  /** One script round trip; the reply is learned, a Redis error counted (undefined: answer locally). */
  private async remote(
    service: string,
    budget: RateLimitBudget,
    name: RateLimitScript,
    observation: BudgetObservation | undefined,
    ageMs: number,
    extra: readonly string[],
  ): Promise<BudgetReply | undefined> {
    if (this.health.starting !== undefined) await this.health.starting
    if (this.health.local) return undefined
    const args = [...commonArgs(budget, this.keyTtlMs, observation, ageMs), ...extra]
    const key = this.key(service)
    let raw: unknown
    try {
      const sent = this.script(name, key, args)
      this.work.track(sent)
      raw = await sent
    } catch (error) {
      this.health.failed(error, key)
      return undefined
    }
    this.health.ok()
    const { reply, processes } = parseReply(raw, this.leaseMs)
    this.view.heard(service, reply, processes, this.clock.now())
    return reply
  }

  private script(name: RateLimitScript, key: string, args: readonly string[]): Promise<unknown> {
    return runScript(this.cmd, name, key, args)
  }
}

/** The budget `ready()` and the background check exercise the scripts with, on a scratch key. */
const READY_BUDGET: RateLimitBudget = Object.freeze({ requests: 1, tokens: 1, windowMs: 1_000 })
