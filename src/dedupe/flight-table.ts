import type { Flight } from './flight.js'

/**
 * Flights by key. One flight at a time sits in a slot of its own, outside the map, so calls made
 * one after another (an agent loop) never touch the hash table: a Map set and delete per call was
 * the largest part of a keyed call's cost. Flights that overlap it go to the map.
 */
export class FlightTable {
  private soloFlight: Flight | undefined = undefined
  private readonly rest = new Map<string, Flight>()

  /** The flight in the slot of its own, if any. */
  get solo(): Flight | undefined {
    return this.soloFlight
  }

  get size(): number {
    return this.rest.size + (this.soloFlight === undefined ? 0 : 1)
  }

  get(key: string): Flight | undefined {
    const solo = this.soloFlight
    if (solo !== undefined && solo.key === key) return solo
    return this.rest.size === 0 ? undefined : this.rest.get(key)
  }

  /** Adds the flight of a key that has none. */
  add(flight: Flight): void {
    if (this.soloFlight === undefined) this.soloFlight = flight
    else this.rest.set(flight.key, flight)
  }

  /** Removes `flight` if it is still its key's flight (a newer one for the key stays). */
  remove(flight: Flight): void {
    if (this.soloFlight === flight) this.soloFlight = undefined
    else if (this.rest.get(flight.key) === flight) this.rest.delete(flight.key)
  }
}
