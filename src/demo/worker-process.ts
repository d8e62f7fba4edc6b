import { type ChildProcess, fork } from 'node:child_process'
import { WORKER_CONFIG_ENV, type FromWorker, type ToWorker, type WorkerConfig } from './fleet-protocol.js'
import { type StatsSnapshot, zeroCounters } from './stats.js'

/** The file a worker runs and the Node flags it needs. Default: the built `worker-main.js` beside this file. */
export interface WorkerEntry {
  path: string
  execArgv?: string[]
}

export type WorkerResult = Extract<FromWorker, { type: 'done' }>

export const emptySnapshot = (): StatsSnapshot => ({
  counters: zeroCounters(),
  inFlight: 0,
  queued: 0,
  states: {},
  transitions: [],
})

/** The parent's handle on one forked worker: its latest snapshot, and promises for ready and done. */
export class WorkerProcess {
  readonly child: ChildProcess
  latest: StatsSnapshot = emptySnapshot()
  /** Resolves with the worker's /metrics URL; rejects if it exits first. */
  readonly ready: Promise<string>
  /** Resolves with its totals; rejects if it exits without them. */
  readonly done: Promise<WorkerResult>
  private lastError: string | undefined

  constructor(
    readonly config: WorkerConfig,
    entry: WorkerEntry,
  ) {
    this.child = fork(entry.path, [], {
      env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
      execArgv: entry.execArgv ?? [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const name = `worker ${config.index + 1}`
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve(m.metricsUrl)
      })
      this.child.once('exit', (code) => reject(this.exitError(name, code, 'before it was ready')))
    })
    // Spawning or messaging failed (the exit that follows rejects the promises): keep the reason.
    this.child.on('error', (error) => (this.lastError ??= error.message))
    this.done = new Promise((resolve, reject) => {
      this.child.on('message', (m: FromWorker) => {
        if (m.type === 'snapshot') this.latest = m.snapshot
        else if (m.type === 'error') this.lastError = m.message
        else if (m.type === 'done') {
          this.latest = m.snapshot
          resolve(m)
        }
      })
      this.child.once('exit', (code) => reject(this.exitError(name, code, 'without its results')))
    })
    // Awaited later (or not at all when another worker fails first): never an unhandled rejection.
    this.ready.catch(() => {})
    this.done.catch(() => {})
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message)
  }

  /** Asks the worker to stop, then kills it if it has not exited after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.send({ type: 'stop' })
    let timer: NodeJS.Timeout | undefined
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL')
        resolve()
      }, graceMs)
    })
    await Promise.race([exited, killed])
    clearTimeout(timer)
    await exited
  }

  private exitError(name: string, code: number | null, when: string): Error {
    const why = this.lastError === undefined ? '' : `: ${this.lastError}`
    return new Error(`${name} exited with code ${String(code)} ${when}${why}`)
  }
}
