import { EventEmitter } from '../../../core/events.js'
import type { Logger } from '../../../core/logger.js'
import type { CircuitConfig, CircuitState, StateChange } from '../../circuit-backend.js'
import type { ConfigMismatch } from './redis-backend-options.js'
import { decodeConfig, encodeConfig } from './redis-keys.js'
import type { CachedState, StateCache } from './state-cache.js'

/** What a script reply or an invalidation message says about a service's breaker. */
export interface LearnedState {
  readonly gen: number
  readonly state: CircuitState
  readonly remainingMs: number
  readonly failures: number
  readonly cooling: boolean
}

/** The state a service was in before an update, for telling what kind of change it was. */
export interface PreviousState {
  readonly state: CircuitState
  readonly cooling: boolean
}

/** Called for every update that was taken (a newer generation, or a refreshing reply). */
export type LearnListener = (
  service: string,
  now: CachedState,
  before: PreviousState | undefined,
  config: CircuitConfig | undefined,
) => void

/** Logged (warn) once per service and stored configuration that differs from a guard's. */
export const CONFIG_MISMATCH =
  'breakwater: circuit configured differently in Redis, the stored configuration applies until reset()'

/**
 * What this process knows of the shared breakers: it feeds the cache from script replies and
 * invalidation messages, raises `onStateChange` for every transition it learns of (from any
 * process), and reports a stored configuration that differs from a guard's, once per value.
 */
export class SharedView {
  private readonly mismatches = new Map<string, string>()
  private readonly stateEmitter = new EventEmitter<StateChange>()
  private readonly mismatchEmitter = new EventEmitter<ConfigMismatch>()
  readonly onStateChange = this.stateEmitter.addListener
  readonly onConfigMismatch = this.mismatchEmitter.addListener

  constructor(
    private readonly cache: StateCache,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly onLearn: LearnListener,
  ) {}

  /**
   * An invalidation message `gen|state|remainingMs|failures|cooling` (a message without the last
   * field, from an older version, is not a cooldown): applied only if its generation is newer.
   */
  message(service: string, message: string): void {
    const [gen, state, remaining, failures, cooling] = message.split('|')
    const remainingMs = Number(remaining)
    if (!Number.isFinite(remainingMs) || !isState(state)) return
    const update = {
      gen: Number(gen),
      state,
      remainingMs: remainingMs < 0 ? Infinity : remainingMs,
      failures: Number(failures),
      cooling: cooling === '1',
    }
    this.learn(service, update, true, false)
  }

  /** Takes an update into the cache; raises a transition if the state changed. */
  learn(
    service: string,
    update: LearnedState,
    trusted: boolean,
    sameGenToo: boolean,
    config?: CircuitConfig,
  ): void {
    const e = this.cache.last(service)
    const before = e === undefined ? undefined : { state: e.state, cooling: e.cooling }
    const { gen, state, remainingMs, failures, cooling } = update
    const entry = { gen, state, remainingMs, failures, cooling, trusted }
    if (!this.cache.learn(service, entry, this.now(), sameGenToo, config)) return
    const from = before?.state ?? 'closed'
    if (from !== state) this.stateEmitter.emit({ service, from, to: state })
    this.onLearn(service, this.cache.last(service)!, before, config)
  }

  /** A cached cooldown ran out: the service is closed here from now on (see StateCache.endCooldown). */
  endCooldown(service: string, e: CachedState): void {
    this.cache.endCooldown(e)
    this.stateEmitter.emit({ service, from: 'open', to: 'closed' })
  }

  /** The newest generation this process saw for a service (0 when none). */
  knownGen(service: string): number {
    return this.cache.last(service)?.gen ?? 0
  }

  /** What was last learned of a service, however old. */
  last(service: string): CachedState | undefined {
    return this.cache.last(service)
  }

  /** Redis lost state and there was nothing to put back: its older generation counts from now on. */
  rebase(service: string, gen: number): void {
    this.cache.rebase(service, gen)
  }

  mismatch(service: string, config: CircuitConfig, stored: string): void {
    if (this.mismatches.get(service) === stored) return
    this.mismatches.set(service, stored)
    this.logger.warn(CONFIG_MISMATCH, { service, stored, local: encodeConfig(config) })
    this.mismatchEmitter.emit({ service, local: config, stored: decodeConfig(stored) ?? stored })
  }

  /** After reset() stores this process's configuration, a later difference is news again. */
  forgetMismatch(service: string): void {
    this.mismatches.delete(service)
  }
}

function isState(s: string | undefined): s is CircuitState {
  return s === 'closed' || s === 'open' || s === 'half-open'
}
