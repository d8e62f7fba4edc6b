/**
 * Reads a provider's requested wait from response headers: `retry-after-ms` first, then
 * `retry-after` (seconds, or an HTTP date relative to `now`). Headers may be a fetch `Headers`, a
 * `Map`, or a plain object with any key case.
 */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  const h = headers as { get?: (key: string) => unknown }
  if (typeof h.get === 'function') {
    const value = h.get(name)
    return typeof value === 'string' ? value : undefined
  }
  const record = headers as Record<string, unknown>
  const direct = record[name]
  if (typeof direct === 'string') return direct
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === name) {
      const value = record[key]
      if (typeof value === 'string') return value
      if (Array.isArray(value) && typeof value[0] === 'string') return value[0]
    }
  }
  return undefined
}

/** The wait in ms the headers ask for, or undefined when they ask for none (or garbage). */
export function retryAfterMs(headers: unknown, now: number = Date.now()): number | undefined {
  const ms = headerValue(headers, 'retry-after-ms')
  if (ms !== undefined) {
    const value = Number(ms)
    if (ms.trim() !== '' && Number.isFinite(value) && value >= 0) return value
  }
  const after = headerValue(headers, 'retry-after')
  if (after === undefined || after.trim() === '') return undefined
  const seconds = Number(after)
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined
  const date = Date.parse(after)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}
