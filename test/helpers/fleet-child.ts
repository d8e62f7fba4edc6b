/**
 * The child side of a test fleet (a process forked by a fleet test): tells the parent `ready`
 * once `ready()` resolved, then runs each command the parent sends; `{ cmd: 'stop' }` runs
 * `stop()` and leaves. A failure anywhere prints the error and exits 1, so the parent's test fails
 * with it instead of waiting.
 */
export interface FleetChild<C extends { cmd: string }> {
  ready(): Promise<void>
  run(command: Exclude<C, { cmd: 'stop' }>): Promise<void>
  stop(): Promise<void>
}

/** Sends a message to the parent; resolves once it is on its way. */
export const sendToParent = (message: unknown): Promise<void> =>
  new Promise((resolve) => process.send!(message, () => resolve()))

export function serveFleetChild<C extends { cmd: string }>(child: FleetChild<C>): void {
  const crash = (error: unknown): void => {
    console.error(error)
    process.exit(1)
  }
  process.on('message', (c: C) => {
    const step = c.cmd === 'stop' ? child.stop() : child.run(c as Exclude<C, { cmd: 'stop' }>)
    step.catch(crash)
  })
  child.ready().then(() => sendToParent({ type: 'ready' }), crash)
}
