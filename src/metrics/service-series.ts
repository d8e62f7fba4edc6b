import type { Gauge } from 'prom-client'
import type { CircuitState } from '../circuit/circuit-backend.js'
import type { Health } from '../classify/classify-error.js'
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
export type DedupeResult = 'new' | 'joined' | 'cached'
const DEDUPE_RESULTS: readonly DedupeResult[] = ['new', 'joined', 'cached']

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
  /** Last state written to the gauge. */
  state: CircuitState = 'closed'
  /** The circuit guard asked for this service's state on each scrape. */
  circuit: StateSource | undefined
  private transitions: Map<string, CounterCell> | undefined
  private retries: Map<string, CounterCell> | undefined
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

  initCircuit(): void {
    if (this.calls !== undefined) return
    const service = this.name
    this.writeState(this.state)
    this.transitions = new Map()
    for (const [from, to] of TRANSITIONS) this.transition(from, to)
    const cells = {} as Record<Health, CounterCell>
    for (const outcome of OUTCOMES) cells[outcome] = this.f.calls.cell({ service, outcome })
    this.calls = cells
    this.duration = this.f.durations.cell({ service })
  }

  initRetry(): void {
    if (this.retries !== undefined) return
    this.retries = new Map()
    for (const reason of RETRY_REASONS) this.retry(reason)
    this.budget = this.f.budget.cell({ service: this.name })
  }

  initDedupe(): void {
    if (this.dedupe !== undefined) return
    const service = this.name
    const cells = {} as Record<DedupeResult, CounterCell>
    for (const result of DEDUPE_RESULTS) cells[result] = this.f.dedupe.cell({ service, result })
    this.dedupe = cells
  }

  retry(reason: string): CounterCell {
    let cell = this.retries!.get(reason)
    if (cell === undefined) {
      cell = this.f.retries.cell({ service: this.name, reason })
      this.retries!.set(reason, cell)
    }
    return cell
  }

  transition(from: CircuitState, to: CircuitState): CounterCell {
    const key = `${from}>${to}`
    let cell = this.transitions!.get(key)
    if (cell === undefined) {
      cell = this.f.transitions.cell({ service: this.name, from, to })
      this.transitions!.set(key, cell)
    }
    return cell
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
