import type { Gauge } from 'prom-client'
import type { CircuitState } from '../circuit/circuit-backend.js'
import type { Health } from '../classify/classify-error.js'
import type { BrokenCircuitReason } from '../core/errors/broken-circuit-error.js'
import type { GiveUpCause } from '../retry/retry-options.js'
import type { CounterCell, CounterCells, HistogramCell, HistogramCells } from './cells.js'

export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open']
const OUTCOMES: readonly Health[] = ['success', 'failure', 'ignore']
/** Every transition a breaker can make (closed → half-open never happens). */
const TRANSITIONS: readonly (readonly [CircuitState, CircuitState])[] = [
  ['closed', 'open'],
  ['open', 'half-open'],
  ['half-open', 'closed'],
  ['half-open', 'open'],
  ['open', 'closed'],
]
/** Reasons the default retry policy retries, plus 'result' (retryOnResult); others appear when first seen. */
const RETRY_REASONS = [
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'network',
  'conflict',
  'result',
]
const REJECT_REASONS: readonly BrokenCircuitReason[] = ['open', 'half-open', 'isolated', 'cooldown']
const GIVE_UP_CAUSES: readonly GiveUpCause[] = [
  'not_retryable',
  'max_attempts',
  'retry_after_too_long',
  'deadline',
  'budget_exhausted',
]
export type DedupeResult = 'new' | 'joined' | 'cached'
const DEDUPE_RESULTS: readonly DedupeResult[] = ['new', 'joined', 'cached']
export type TokenKind = 'input' | 'output'
/** The budgets a rate limit keeps (`ratelimit_limited_total{limit}`, `ratelimit_remaining{limit}`). */
export const RATE_LIMITS = ['requests', 'tokens'] as const

/** Something that can say a service's breaker state (a circuit guard). */
export interface StateSource {
  state(service: string): Promise<CircuitState>
}

/** The prom-client families a service has series in. */
export interface ServiceFamilies {
  readonly state: Gauge<string>
  readonly transitions: CounterCells
  readonly calls: CounterCells
  readonly durations: HistogramCells
  readonly retries: CounterCells
  readonly budget: CounterCells
  readonly dedupe: CounterCells
  readonly rejected: CounterCells
  readonly giveUps: CounterCells
  readonly tokens: CounterCells
  readonly firstToken: HistogramCells
  readonly limited: CounterCells
  readonly waits: HistogramCells
}

/**
 * The series of one service, created once and reused by every event: updating a metric is a
 * property read and an addition. Families are initialised to 0 when the service is first known
 * (or when the first guard of that kind is instrumented), so dashboards always find them.
 */
export class ServiceSeries {
  calls: Record<Health, CounterCell> | undefined
  duration: HistogramCell | undefined
  budget: CounterCell | undefined
  dedupe: Record<DedupeResult, CounterCell> | undefined
  tokens: Record<TokenKind, CounterCell> | undefined
  firstToken: HistogramCell | undefined
  limited: Record<(typeof RATE_LIMITS)[number], CounterCell> | undefined
  wait: HistogramCell | undefined
  /** Last state written to the gauge. */
  state: CircuitState = 'closed'
  /** The circuit guard asked for this service's state on each scrape. */
  circuit: StateSource | undefined
  private transitions: Map<string, CounterCell> | undefined
  private retries: Map<string, CounterCell> | undefined
  private rejections: Map<string, CounterCell> | undefined
  private giveUps: Map<string, CounterCell> | undefined
  private readonly stateLabels: Record<CircuitState, { service: string; state: CircuitState }>

  constructor(
    readonly name: string,
    private readonly f: ServiceFamilies,
  ) {
    this.stateLabels = {
      closed: Object.freeze({ service: name, state: 'closed' }),
      open: Object.freeze({ service: name, state: 'open' }),
      'half-open': Object.freeze({ service: name, state: 'half-open' }),
    }
  }

  /** `calls_total` and `call_duration_seconds`: counted by a breaker, or by the guard called when it has none. */
  initCalls(): void {
    if (this.calls !== undefined) return
    const service = this.name
    const cells = {} as Record<Health, CounterCell>
    for (const outcome of OUTCOMES) cells[outcome] = this.f.calls.cell({ service, outcome })
    this.calls = cells
    this.duration = this.f.durations.cell({ service })
  }

  initCircuit(): void {
    if (this.transitions !== undefined) return
    this.writeState(this.state)
    this.transitions = new Map()
    for (const [from, to] of TRANSITIONS) this.transition(from, to)
    this.rejections = new Map()
    for (const reason of REJECT_REASONS) this.rejected(reason)
    this.initCalls()
  }

  initRetry(): void {
    if (this.retries !== undefined) return
    this.retries = new Map()
    for (const reason of RETRY_REASONS) this.retry(reason)
    this.budget = this.f.budget.cell({ service: this.name })
    this.giveUps = new Map()
    for (const cause of GIVE_UP_CAUSES) this.giveUp(cause)
  }

  initDedupe(): void {
    if (this.dedupe !== undefined) return
    const service = this.name
    const cells = {} as Record<DedupeResult, CounterCell>
    for (const result of DEDUPE_RESULTS) cells[result] = this.f.dedupe.cell({ service, result })
    this.dedupe = cells
  }

  /** `tokens_total` and `time_to_first_token_seconds`, from the provider wrappers' reports. */
  initProvider(): void {
    if (this.tokens !== undefined) return
    const service = this.name
    this.tokens = {
      input: this.f.tokens.cell({ service, kind: 'input' }),
      output: this.f.tokens.cell({ service, kind: 'output' }),
    }
    this.firstToken = this.f.firstToken.cell({ service })
  }

  initRateLimit(): void {
    if (this.limited !== undefined) return
    const service = this.name
    this.limited = {
      requests: this.f.limited.cell({ service, limit: 'requests' }),
      tokens: this.f.limited.cell({ service, limit: 'tokens' }),
    }
    this.wait = this.f.waits.cell({ service })
  }

  retry(reason: string): CounterCell {
    return keyed(this.retries!, reason, () => this.f.retries.cell({ service: this.name, reason }))
  }

  rejected(reason: string): CounterCell {
    return keyed(this.rejections!, reason, () => this.f.rejected.cell({ service: this.name, reason }))
  }

  giveUp(stoppedBy: string): CounterCell {
    return keyed(this.giveUps!, stoppedBy, () =>
      this.f.giveUps.cell({ service: this.name, stopped_by: stoppedBy }),
    )
  }

  transition(from: CircuitState, to: CircuitState): CounterCell {
    return keyed(this.transitions!, `${from}>${to}`, () =>
      this.f.transitions.cell({ service: this.name, from, to }),
    )
  }

  /** Sets the state gauge: 1 for `state`, 0 for the others. */
  setState(state: CircuitState): void {
    if (state === this.state) return
    this.state = state
    this.writeState(state)
  }

  private writeState(current: CircuitState): void {
    for (const state of CIRCUIT_STATES) this.f.state.set(this.stateLabels[state], state === current ? 1 : 0)
  }
}

function keyed(map: Map<string, CounterCell>, key: string, make: () => CounterCell): CounterCell {
  let cell = map.get(key)
  if (cell === undefined) map.set(key, (cell = make()))
  return cell
}
