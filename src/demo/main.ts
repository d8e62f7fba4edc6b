/** `npm run demo`: the scenario in this process, or across worker processes with --redis. */
import { runCli } from './cli.js'

// Ctrl-C ends the scenario early and still closes everything and prints the summary; a second
// Ctrl-C (the default handler again) kills the process.
const interrupt = new AbortController()
const onInterrupt = (): void => {
  console.error('\ninterrupted: ending the scenario early (Ctrl-C again to kill)')
  interrupt.abort()
}
process.once('SIGINT', onInterrupt)
process.exitCode = await runCli(process.argv.slice(2), undefined, interrupt.signal)
process.off('SIGINT', onInterrupt)
