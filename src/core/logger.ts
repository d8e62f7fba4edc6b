/**
 * The one logging interface of every breakwater component: a message that stays the same for one
 * kind of happening, and structured fields for what varies (service, error, state), so a JSON
 * logger (pino, winston, bunyan, console.*) indexes them. `console` fits it as it is.
 */
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

/**
 * What a component's `logger` option accepts: a whole `Logger`, or any object with `warn()` at least
 * (`error` then goes to `warn`; `info` and `debug` are dropped) — see `resolveLogger`.
 */
export type LoggerOption = Pick<Logger, 'warn'> & Partial<Logger>

type Level = 'debug' | 'info' | 'warn' | 'error'

/** The default logger: `console`, with the fields as a second argument. */
export const consoleLogger: Logger = Object.freeze({
  debug: (message: string, fields?: LogFields) => console.debug(message, ...(fields ? [fields] : [])),
  info: (message: string, fields?: LogFields) => console.info(message, ...(fields ? [fields] : [])),
  warn: (message: string, fields?: LogFields) => console.warn(message, ...(fields ? [fields] : [])),
  error: (message: string, fields?: LogFields) => console.error(message, ...(fields ? [fields] : [])),
})

/**
 * Validates a component's `logger` option: undefined gives `consoleLogger`; otherwise an object
 * with a `warn()` method at least (a TypeError naming the owner otherwise). Missing levels fall
 * back so a minimal logger still hears what matters: `error` → `warn`; `info` and `debug` are
 * dropped. Methods are called on the given object (pino and winston need their `this`).
 */
export function resolveLogger(owner: string, logger: unknown): Logger {
  if (logger === undefined) return consoleLogger
  const given = logger as Partial<Record<Level, unknown>> | null
  if (typeof given !== 'object' || given === null || typeof given.warn !== 'function') {
    throw new TypeError(
      `${owner}: option "logger" must be an object with debug/info/warn/error(message, fields) methods (warn at least), got ${String(logger)}`,
    )
  }
  const call =
    (level: Level | undefined) =>
    (message: string, fields?: LogFields): void => {
      if (level === undefined) return
      const method = given[level] as (this: unknown, m: string, f?: LogFields) => void
      if (fields === undefined) method.call(given, message)
      else method.call(given, message, fields)
    }
  const has = (level: Level): boolean => typeof given[level] === 'function'
  return Object.freeze({
    debug: call(has('debug') ? 'debug' : undefined),
    info: call(has('info') ? 'info' : undefined),
    warn: call('warn'),
    error: call(has('error') ? 'error' : 'warn'),
  })
}

/** An error as log fields carry it: its message, name and code, never its whole object graph. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { error: error.message, errorName: error.name, ...(code !== undefined && { errorCode: code }) }
  }
  return { error: String(error) }
}

/**
 * A logger that adds `fields` to every entry (the entry's own fields win on a clash): a component
 * names itself once (`component`, `prefix`, …) and each log call adds only what varies.
 */
export function withFields(logger: Logger, fields: LogFields): Logger {
  const at =
    (level: Level) =>
    (message: string, own?: LogFields): void =>
      logger[level](message, own === undefined ? fields : { ...fields, ...own })
  return Object.freeze({ debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') })
}
