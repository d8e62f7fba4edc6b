import type { Counter, Histogram, LabelValues } from 'prom-client'
import { BucketHistogram } from './bucket-histogram.js'

/** Label values as prom-client takes them; one frozen object per series, reused for every update. */
export type Labels = LabelValues<string>

/**
 * One counter series. Events add to a plain number (no hashing, no allocation); the number is
 * handed to prom-client when the counter is collected, i.e. on each scrape.
 */
export class CounterCell {
  n = 0
  constructor(readonly labels: Labels) {}
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

/** Where a duration is recorded: a series handle of our own histogram, or a bound prom-client call. */
export interface HistogramCell {
  observe(seconds: number): void
}

/** Hands out one cell per label set of a histogram. */
export class HistogramCells {
  constructor(private readonly histogram: Histogram<string> | BucketHistogram) {}

  cell(labels: Labels): HistogramCell {
    const h = this.histogram
    // Ours: a series handle, created at zero (every known series is initialised).
    if (h instanceof BucketHistogram) return h.seriesFor(labels)
    // Registered by someone else (another copy of breakwater): observed through its own API, not zeroed.
    const frozen = Object.freeze(labels)
    return { observe: (seconds) => h.observe(frozen, seconds) }
  }
}
