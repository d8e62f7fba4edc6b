/**
 * Calls a listener the user (or a metrics adapter) gave, so that one that throws cannot break the
 * call or the guard that reports to it: its error becomes a process warning of type
 * `BreakwaterListenerError`, `detail` saying which listener it was.
 */
export function callListener<T>(listener: (value: T) => void, value: T, detail: string): void {
  try {
    listener(value)
  } catch (error) {
    process.emitWarning(error instanceof Error ? error : new Error(String(error)), {
      type: 'BreakwaterListenerError',
      detail,
    })
  }
}
