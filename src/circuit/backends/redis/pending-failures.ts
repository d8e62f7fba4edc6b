/**
 * This process's reports not yet answered by Redis that may open the breaker (a failure, a
 * cooldown), per service: the next admission for that service waits for Redis's answer instead of
 * trusting the cache (no extra command; a hung Redis delays it by the command timeout at most).
 */
export class PendingFailures {
  private readonly pending = new Map<string, Promise<void>>()

  /** Settles once the service's last failure report is answered; undefined when none is pending. */
  of(service: string): Promise<void> | undefined {
    // One size check on the hot path while nothing is pending.
    return this.pending.size > 0 ? this.pending.get(service) : undefined
  }

  /** A report was sent (`sent` never rejects); it is forgotten once answered. */
  add(service: string, sent: Promise<void>): void {
    const settled = sent.then(() => {
      if (this.pending.get(service) === settled) this.pending.delete(service)
    })
    this.pending.set(service, settled)
  }
}
