import { systemClock, type Clock } from '../../core/clock.js'
import { EventEmitter } from '../../core/events.js'
import { optionalNumber, optionalRandom, requireOptions } from '../../core/validate.js'
import {
  admitCall,
  ALLOW,
  type BreakerRecord,
  coolDown,
  isIdle,
  isolateRecord,
  newRecord,
  recordOutcome,
  releaseProbe,
  renewProbe,
  resetRecord,
  snapshotOf,
  tick,
} from '../breaker-state.js'
import type {
  Admission,
  CircuitBackend,
  CircuitConfig,
  CircuitSnapshot,
  CircuitState,
  OutcomeReport,
  StateChange,
} from '../circuit-backend.js'
import { optionalClock } from '../check-shapes.js'

const OWNER = 'InMemoryCircuitBackend'
/** Default bound on the services one in-memory backend keeps. */
export const DEFAULT_MAX_SERVICES = 1_000

const CLOSED: CircuitSnapshot = Object.freeze({ state: 'closed', failures: 0, retryAfterMs: 0 })

export interface InMemoryCircuitBackendOptions {
  /**
   * Most services whose breaker state is kept. Adding one more forgets the least recently used
   * service that is closed with nothing counted; failing that, the least recently used closed one
   * (its failure count is lost); failing that, the least recently used of all, so memory stays
   * bounded even when every kept breaker is open. An integer >= 1. Default 1 000.
   */
  maxServices?: number
  /** Source of time for open periods, probe leases and failure-rate windows. Default `systemClock`. */
  clock?: Clock
  /** Source of randomness in [0, 1) for the jitter of backed-off open periods. Default `Math.random`. */
  random?: () => number
}

/**
 * Breaker state in this process's memory: every method answers synchronously, so a call through
 * a closed breaker allocates nothing here. Shared by every guard given the same instance.
 */
export class InMemoryCircuitBackend implements CircuitBackend {
  readonly maxServices: number
  private readonly clock: Clock
  private readonly random: () => number
  /** Insertion order is recency order: the first entry is the least recently used. */
  private readonly records = new Map<string, BreakerRecord>()
  /** The most recently used service, so a run of calls to one service skips the re-ordering. */
  private newest: string | undefined = undefined
  private probes = 0
  private readonly emitter = new EventEmitter<StateChange>()
  readonly onStateChange = this.emitter.addListener
  private readonly nextToken = (): string => `probe-${++this.probes}`

  constructor(options?: InMemoryCircuitBackendOptions) {
    const o = requireOptions<InMemoryCircuitBackendOptions>(OWNER, options, true)
    this.maxServices = optionalNumber(OWNER, 'maxServices', o.maxServices, DEFAULT_MAX_SERVICES, {
      integer: true,
      min: 1,
    })
    this.clock = optionalClock(OWNER, o.clock) ?? systemClock
    this.random = optionalRandom(OWNER, o.random) ?? Math.random
  }

  /** Services currently kept. */
  get size(): number {
    return this.records.size
  }

  /** True while the service's state is kept (it has not been forgotten to respect `maxServices`). */
  has(service: string): boolean {
    return this.records.has(service)
  }

  admit(service: string, config: CircuitConfig): Admission {
    const r = this.touch(service)
    // Closed needs no time reading at all: the common case is a Map lookup and a shared constant.
    if (r.state === 'closed') return ALLOW
    const now = this.clock.now()
    this.tick(service, r, now)
    return admitCall(r, config, now, this.nextToken)
  }

  record(service: string, config: CircuitConfig, report: OutcomeReport): void {
    let r = this.records.get(service)
    if (r === undefined) {
      // A success for a forgotten service changes nothing; a failure starts counting afresh.
      if (report.outcome === 'success') return
      r = this.touch(service)
    } else if (
      r.state === 'closed' &&
      r.failures === 0 &&
      report.outcome === 'success' &&
      config.failureRate === undefined
    ) {
      return // nothing to change: skip the clock
    }
    const now = this.clock.now()
    this.tick(service, r, now)
    const before = r.state
    recordOutcome(r, config, report, now, this.random)
    this.changed(service, before, r.state)
  }

  release(service: string, _config: CircuitConfig, token: string): void {
    const r = this.records.get(service)
    if (r === undefined) return
    this.tick(service, r, this.clock.now())
    releaseProbe(r, token)
  }

  renew(service: string, config: CircuitConfig, token: string): void {
    const r = this.records.get(service)
    if (r === undefined) return
    const now = this.clock.now()
    this.tick(service, r, now)
    renewProbe(r, config, token, now)
  }

  cooldown(service: string, config: CircuitConfig, ms: number): void {
    this.apply(service, (r, now) => coolDown(r, config, ms, now))
  }

  isolate(service: string, _config: CircuitConfig): void {
    this.apply(service, isolateRecord)
  }

  reset(service: string, _config: CircuitConfig): void {
    if (this.records.has(service)) this.apply(service, resetRecord)
  }

  snapshot(service: string, _config: CircuitConfig): CircuitSnapshot {
    const r = this.records.get(service)
    if (r === undefined) return CLOSED
    const now = this.clock.now()
    this.tick(service, r, now)
    return snapshotOf(r, now)
  }

  /** Runs a state-changing rule on the service's record and reports the transition. */
  private apply(service: string, rule: (r: BreakerRecord, now: number) => void): void {
    const r = this.touch(service)
    const now = this.clock.now()
    this.tick(service, r, now)
    const before = r.state
    rule(r, now)
    this.changed(service, before, r.state)
  }

  private tick(service: string, r: BreakerRecord, now: number): void {
    const before = r.state
    tick(r, now)
    this.changed(service, before, r.state)
  }

  private changed(service: string, from: CircuitState, to: CircuitState): void {
    if (from !== to) this.emitter.emit({ service, from, to })
  }

  /** The service's record, created if needed, marked most recently used. */
  private touch(service: string): BreakerRecord {
    let r = this.records.get(service)
    if (r === undefined) {
      if (this.records.size >= this.maxServices) this.evictOne()
      r = newRecord()
      this.records.set(service, r)
      this.newest = service
    } else if (service !== this.newest) {
      this.records.delete(service)
      this.records.set(service, r)
      this.newest = service
    }
    return r
  }

  private evictOne(): void {
    let closed: string | undefined
    let oldest: string | undefined
    for (const [service, r] of this.records) {
      oldest ??= service
      if (isIdle(r)) {
        this.records.delete(service)
        return
      }
      if (closed === undefined && r.state === 'closed') closed = service
    }
    const victim = closed ?? oldest
    if (victim !== undefined) this.records.delete(victim)
  }
}
