/**
 * The child side of a test fleet (a process forked by a fleet test): tells the parent `ready`
 * once `ready()` resolved, then runs each command the parent sends; `{ cmd: 'stop' }` runs
 * `stop()` and leaves. A failure anywhere prints the error and exits 1, so the parent's test fails
 * with it instead of waiting.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const register = fileURLToPath(new URL('./register-ts.mjs', import.meta.url))
/** Node flags that run a test's TypeScript child as it is. */
export const TS_LOADER = ['--experimental-transform-types', '--no-warnings', '--import', register]

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

/** The parent side: forks `path` (TypeScript, run as it is) with `env` added to this process's. */
export function forkFleetChild(path: string, env: Record<string, string>): ChildProcess {
  return fork(path, [], {
    execArgv: TS_LOADER,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

/** Sends `{ cmd: 'stop' }` to every child still running and resolves once all have exited. */
export async function stopFleetChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.removeAllListeners('exit')
          if (child.exitCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.send({ cmd: 'stop' })
        }),
    ),
  )
}
