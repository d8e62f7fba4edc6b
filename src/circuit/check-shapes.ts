import type { CircuitBackend } from './circuit-backend.js'

const BACKEND_MEMBERS = [
  'admit',
  'record',
  'release',
  'renew',
  'cooldown',
  'isolate',
  'reset',
  'snapshot',
  'onStateChange',
] as const

/** Validates an optional Clock option (checked by shape, so any implementation works). */
export { optionalClock } from '../core/validate.js'

/** Validates an optional CircuitBackend by shape, so a backend from another copy of breakwater works too. */
export function optionalBackend(owner: string, value: unknown): CircuitBackend | undefined {
  if (value === undefined) return undefined
  const expected = `${owner}: option "backend" must be a CircuitBackend`
  if (typeof value !== 'object' || value === null) throw new TypeError(`${expected}, got ${String(value)}`)
  const b = value as Record<string, unknown>
  const missing = BACKEND_MEMBERS.find((m) => typeof b[m] !== 'function')
  if (missing !== undefined) throw new TypeError(`${expected}, got an object without ${missing}()`)
  return value as CircuitBackend
}
