import type { OutcomeReport } from '../../circuit-backend.js'

const SUCCESS: OutcomeReport = Object.freeze({ outcome: 'success' })
const FAILURE: OutcomeReport = Object.freeze({ outcome: 'failure' })

/** A report of an outcome without a probe token, as a call admitted while closed makes (shared, frozen). */
export function plainReport(outcome: OutcomeReport['outcome']): OutcomeReport {
  return outcome === 'success' ? SUCCESS : FAILURE
}
