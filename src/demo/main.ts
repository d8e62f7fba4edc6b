/** `npm run demo`: the scenario in this process, or across worker processes with --redis. */
import { runCli } from './cli.js'

process.exitCode = await runCli(process.argv.slice(2))
