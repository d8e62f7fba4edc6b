/**
 * A component's first connection attempt (D5). Its dedicated connection has no offline queue, so
 * a command sent before the attempt settles would fail: commands wait for `pending` instead. If the
 * attempt fails, `failed` is told (the component starts on its fallback).
 */
export class FirstConnection {
  private attempt: Promise<void> | undefined

  constructor(
    attempt: Promise<void>,
    failed: (error: unknown) => void,
    track: (work: Promise<unknown>) => void,
  ) {
    this.attempt = attempt.then(
      () => void (this.attempt = undefined),
      (error: unknown) => {
        this.attempt = undefined
        failed(error)
      },
    )
    track(this.attempt)
  }

  /** The attempt while it has not settled (it never rejects), else undefined. */
  get pending(): Promise<void> | undefined {
    return this.attempt
  }
}
