import type { Counter, Histogram, LabelValues } from 'prom-client'

/** Label values as prom-client takes them; one frozen object per series, reused for every update. */
export type Labels = LabelValues<string>

/** Durations kept per series before they are handed to prom-client, so memory stays bounded without scrapes. */
const HISTOGRAM_BATCH = 256

/**
 * One counter series. Events add to a plain number (no hashing, no allocation); the number is
 * handed to prom-client when the counter is collected, i.e. on each scrape.
 */
export class CounterCell {
  n = 0
  constructor(readonly labels: Labels) {}
}

/** One histogram series: observations are batched like counter increments. */
export class HistogramCell {
  private readonly values = new Float64Array(HISTOGRAM_BATCH)
  private length = 0

  constructor(
    readonly labels: Labels,
    private readonly histogram: Histogram<string>,
  ) {}

  observe(seconds: number): void {
    this.values[this.length++] = seconds
    if (this.length === HISTOGRAM_BATCH) this.flush()
  }

  flush(): void {
    const n = this.length
    this.length = 0
    for (let i = 0; i < n; i++) this.histogram.observe(this.labels, this.values[i]!)
  }
}

/** The cells of one counter; each new cell shows up as 0 at once (every known series is initialised). */
export class CounterCells {
  private readonly cells: CounterCell[] = []

  constructor(private readonly counter: Counter<string>) {}

  cell(labels: Labels): CounterCell {
    const cell = new CounterCell(Object.freeze(labels))
    this.counter.inc(cell.labels, 0)
    this.cells.push(cell)
    return cell
  }

  /** Moves pending increments into prom-client (its collect hook). */
  flush(): void {
    const counter = this.counter
    for (const cell of this.cells) {
      if (cell.n !== 0) {
        const n = cell.n
        cell.n = 0
        counter.inc(cell.labels, n)
      }
    }
  }
}

/** The cells of one histogram; with `zero`, each new cell shows up with zero counts at once. */
export class HistogramCells {
  private readonly cells: HistogramCell[] = []

  constructor(
    private readonly histogram: Histogram<string>,
    private readonly zero: boolean,
  ) {}

  cell(labels: Labels): HistogramCell {
    const cell = new HistogramCell(Object.freeze(labels), this.histogram)
    if (this.zero) this.histogram.zero(cell.labels)
    this.cells.push(cell)
    return cell
  }

  flush(): void {
    for (const cell of this.cells) cell.flush()
  }
}
