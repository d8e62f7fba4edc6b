import { expect, it } from 'vitest'

/** One invalid configuration: what it is, how to build it, the error type, and what the message must name. */
export type InvalidOptionRow = [
  what: string,
  make: () => unknown,
  error: typeof RangeError | typeof TypeError,
  mentions: RegExp,
]

/** Every row must throw at construction, with the right type, naming the option and the value. */
export function itRejectsEach(rows: readonly InvalidOptionRow[]): void {
  it.each(rows)('rejects %s', (_what, make, error, mentions) => {
    let thrown: unknown
    try {
      make()
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(error)
    expect((thrown as Error).message).toMatch(mentions)
  })
}
