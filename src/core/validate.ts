import type { Clock } from './clock.js'

/**
 * Option validation. Every message names the owner, the option and the offending value, so a bad
 * configuration fails at construction with a sentence the user can act on.
 */

/** A value as an error message shows it: strings quoted, objects by kind. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (typeof value === 'function') return 'a function'
  return Object.prototype.toString.call(value)
}

function fail(
  kind: 'type' | 'range',
  owner: string,
  option: string,
  expected: string,
  value: unknown,
): never {
  const message = `${owner}: option "${option}" must be ${expected}, got ${show(value)}`
  throw kind === 'type' ? new TypeError(message) : new RangeError(message)
}

/** The longest delay a Node timer can hold (2^31 - 1 ms); longer ones would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647

export interface NumberBounds {
  /** Smallest allowed value (inclusive). */
  min?: number
  /** Values must be strictly greater than this. */
  above?: number
  /** Largest allowed value (inclusive). */
  max?: number
  /** Require a whole number. */
  integer?: boolean
}

function describe(b: NumberBounds): string {
  const parts = [b.integer ? 'an integer' : 'a finite number']
  if (b.above !== undefined) parts.push(`> ${b.above}`)
  if (b.min !== undefined) parts.push(`>= ${b.min}`)
  if (b.max !== undefined) parts.push(`<= ${b.max}`)
  return parts.join(' ')
}

/** Validates a required number. NaN, ±Infinity and non-numbers are rejected. */
export function requireNumber(
  owner: string,
  option: string,
  value: unknown,
  bounds: NumberBounds = {},
): number {
  if (typeof value !== 'number') fail('type', owner, option, describe(bounds), value)
  const ok =
    Number.isFinite(value) &&
    (!bounds.integer || Number.isInteger(value)) &&
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.above === undefined || value > bounds.above) &&
    (bounds.max === undefined || value <= bounds.max)
  if (!ok) fail('range', owner, option, describe(bounds), value)
  return value
}

/** Validates an optional number, returning `fallback` when it is undefined. */
export function optionalNumber(
  owner: string,
  option: string,
  value: unknown,
  fallback: number,
  bounds?: NumberBounds,
): number
export function optionalNumber(
  owner: string,
  option: string,
  value: unknown,
  fallback: undefined,
  bounds?: NumberBounds,
): number | undefined
export function optionalNumber(
  owner: string,
  option: string,
  value: unknown,
  fallback: number | undefined,
  bounds: NumberBounds = {},
): number | undefined {
  return value === undefined ? fallback : requireNumber(owner, option, value, bounds)
}

/** Validates an optional value that must be one of `allowed`. */
export function optionalOneOf<T extends string>(
  owner: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) {
    fail(
      typeof value === 'string' ? 'range' : 'type',
      owner,
      option,
      `one of ${allowed.map((a) => `"${a}"`).join(', ')}`,
      value,
    )
  }
  return value as T
}

/** Validates an optional function. */
export function optionalFunction<F extends (...args: never[]) => unknown>(
  owner: string,
  option: string,
  value: unknown,
): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') fail('type', owner, option, 'a function', value)
  return value as F
}

/** Validates an optional boolean. */
export function optionalBoolean(owner: string, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail('type', owner, option, 'a boolean', value)
  return value
}

/** Validates an optional non-empty string. */
export function optionalString(owner: string, option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0)
    fail('type', owner, option, 'a non-empty string', value)
  return value
}

/** Validates that the options argument is an object (or absent, when allowed). */
export function requireOptions<T extends object>(owner: string, value: unknown, optional = false): T {
  if (value === undefined && optional) return {} as T
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${owner}: options must be an object, got ${show(value)}`)
  }
  return value as T
}

/**
 * Validates an optional `clock` option by shape, so any implementation works. `needsSleep: false`
 * for users that only read the time.
 */
export function optionalClock(owner: string, value: unknown, needsSleep = true): Clock | undefined {
  if (value === undefined) return undefined
  const c = value as Partial<Clock> | null
  const ok =
    typeof c === 'object' &&
    c !== null &&
    typeof c.now === 'function' &&
    (!needsSleep || typeof c.sleep === 'function')
  if (!ok) {
    const expected = needsSleep ? 'a Clock (now and sleep)' : 'a Clock (with now())'
    fail('type', owner, 'clock', expected, value)
  }
  return value as Clock
}

/** Throws a RangeError naming the option, for cross-option rules (e.g. softLimit < hardLimit). */
export function invalidOption(owner: string, option: string, expected: string, value: unknown): never {
  fail('range', owner, option, expected, value)
}

/**
 * Validates an optional `random` option (a source of randomness in [0, 1), like `Math.random`).
 * What it returns is checked on every call: a NaN or out-of-range value would otherwise turn into
 * NaN or negative delays, so it is a TypeError at call time instead.
 */
export function optionalRandom(owner: string, value: unknown): (() => number) | undefined {
  const random = optionalFunction<() => unknown>(owner, 'random', value)
  if (random === undefined) return undefined
  return () => {
    const r = random()
    if (typeof r !== 'number' || !(r >= 0 && r < 1)) {
      throw new TypeError(`${owner}: option "random" must return a number in [0, 1), got ${show(r)}`)
    }
    return r
  }
}
