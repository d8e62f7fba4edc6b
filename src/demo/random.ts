/** The demo's seeded choices: the same `--seed` gives the agents the same tasks, think times and tool outputs. */
export { seededRandom } from '../testing/seeded-random.js'

/** A whole number in [min, max]. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

/** One element of a non-empty list. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!
}
