/** Messages between the fleet harness and its worker processes (see fleet-worker.ts). */

/** What the parent sends a worker. */
export type ToWorker =
  | 'stop'
  | { type: 'go' }
  /** `count` backend admissions; with `afterCooldown`, once the cooldown this process sees has ended. */
  | { type: 'admit'; count: number; afterCooldown?: boolean }
  | { type: 'isolate' }
  | { type: 'reset' }
  | { type: 'status' }

/** One call a worker made, as it ended for its caller. */
export interface CallReport {
  type: 'call'
  caller: number
  /** 'ok'; 'rejected' (BrokenCircuitError); 'failed' (the provider's error); 'error' (anything else). */
  outcome: 'ok' | 'rejected' | 'failed' | 'error'
  /** The BrokenCircuitError's reason. */
  reason?: string
  /** The provider's HTTP status. */
  status?: number
  error?: string
}

/** What a worker sends the parent. */
export type FromWorker =
  | { type: 'ready' }
  | CallReport
  | { type: 'burst-done' }
  | { type: 'admitted'; kinds: string[]; waited: number }
  | { type: 'done' }
  | { type: 'status'; backend: string; state: string }
  | { type: 'log'; level: string; line: string }
