/** Entry point of a `--redis` worker process, forked by the demo (see fleet.ts). */
import { WORKER_CONFIG_ENV, type FromWorker, type ToWorker, type WorkerConfig } from './fleet-protocol.js'
import { runFleetWorker } from './fleet-worker.js'

const send = (message: FromWorker): Promise<void> =>
  new Promise((resolve) => {
    if (!process.connected) return resolve()
    process.send!(message, () => resolve())
  })

const stop = new AbortController()
let started: (startMs: number) => void = () => {}
const start = new Promise<number>((resolve) => (started = resolve))
process.on('message', (message: ToWorker) => {
  if (message.type === 'start') started(message.startMs)
  else stop.abort()
})
process.once('disconnect', () => stop.abort()) // the parent is gone: stop, do not linger
// Ctrl-C reaches the whole process group: the parent decides, and tells the workers to stop.
process.on('SIGINT', () => {})

try {
  const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? 'null') as WorkerConfig | null
  if (config === null) throw new Error(`${WORKER_CONFIG_ENV} is not set: this file is started by the demo`)
  await runFleetWorker(config, { send, start, stop: stop.signal })
} catch (error) {
  process.exitCode = 1
  console.error(
    `breakwater demo worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  )
  await send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
} finally {
  if (process.connected) process.disconnect()
}
