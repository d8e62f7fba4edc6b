import { EventEmitter } from '../../../core/events.js'
import type { CircuitConfig, CircuitState, StateChange } from '../../circuit-backend.js'
import type { BackendLogger, ConfigMismatch } from './redis-backend-options.js'
import { decodeConfig, encodeConfig } from './redis-keys.js'
import type { StateCache } from './state-cache.js'

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
    private readonly logger: BackendLogger,
  ) {}

  /** An invalidation message `gen|state|remainingMs|failures`: applied only if its generation is newer. */
  message(service: string, message: string): void {
    const [gen, state, remaining, failures] = message.split('|')
    const remainingMs = Number(remaining)
    const infinite = remainingMs < 0
    this.learn(
      service,
      Number(gen),
      state as CircuitState,
      infinite ? Infinity : remainingMs,
      Number(failures),
      true,
      false,
    )
  }

  learn(
    service: string,
    gen: number,
    state: CircuitState,
    remainingMs: number,
    failures: number,
    trusted: boolean,
    sameGenToo: boolean,
  ): void {
    const from = this.cache.last(service)?.state ?? 'closed'
    if (!this.cache.learn(service, gen, state, remainingMs, failures, this.now(), sameGenToo, trusted)) return
    if (from !== state) this.stateEmitter.emit({ service, from, to: state })
  }

  mismatch(service: string, config: CircuitConfig, stored: string): void {
    if (this.mismatches.get(service) === stored) return
    this.mismatches.set(service, stored)
    this.logger.warn(
      `breakwater: circuit "${service}" is configured differently in Redis (${stored}) than here (${encodeConfig(config)}); the stored configuration keeps applying until reset()`,
    )
    this.mismatchEmitter.emit({ service, local: config, stored: decodeConfig(stored) ?? stored })
  }

  /** After reset() stores this process's configuration, a later difference is news again. */
  forgetMismatch(service: string): void {
    this.mismatches.delete(service)
  }
}
