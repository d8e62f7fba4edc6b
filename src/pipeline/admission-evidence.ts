import { ADMISSION_REASONS, type AdmissionDecision, type AdmissionReason } from './admission.js'

type Rejection = Exclude<AdmissionReason, 'allowed'>

/** Counts over many admission decisions and runs, for dashboards and logs. */
export interface AdmissionEvidence {
  readonly schema: 'breakwater.compaction.evidence.v1'
  readonly decisions: number
  readonly admitted: number
  /** Rejections by reason; every reason is present, 0 when it never happened. */
  readonly rejected: Readonly<Record<Rejection, number>>
  /** Outcomes of compaction runs (background and manual). */
  readonly runs: { readonly completed: number; readonly failed: number; readonly rejected: number }
}

/** Accumulates evidence. */
export class EvidenceCounter {
  private decisions = 0
  private admitted = 0
  private readonly rejected = Object.fromEntries(
    ADMISSION_REASONS.filter((r) => r !== 'allowed').map((r) => [r, 0]),
  ) as Record<Rejection, number>
  private readonly runs = { completed: 0, failed: 0, rejected: 0 }

  decision(d: AdmissionDecision): void {
    this.decisions++
    if (d.allowed) this.admitted++
    else this.rejected[d.reason as Rejection]++
  }

  run(outcome: 'completed' | 'failed' | 'rejected'): void {
    this.runs[outcome]++
  }

  snapshot(): AdmissionEvidence {
    return {
      schema: 'breakwater.compaction.evidence.v1',
      decisions: this.decisions,
      admitted: this.admitted,
      rejected: { ...this.rejected },
      runs: { ...this.runs },
    }
  }
}
