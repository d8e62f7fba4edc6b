/**
 * Freezes plain objects and arrays in place, all the way down, and returns the value. One result
 * is handed to every caller that shared a call (and to later callers from the cache), so none of
 * them may change what the others see. Only plain data is frozen: class instances (a Response, a
 * Date, a typed array) are left as they are — freezing them would break them or throw.
 * An object that is already frozen is taken as is; that is also what stops cycles.
 */
export function deepFreeze<T>(value: T): T {
  // Frozen first: a value shared before (a kept result, a constant) stops at one cheap check.
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && isPlain(value)) {
    // Freeze first, then descend: a cycle back to this object then stops at the frozen check.
    Object.freeze(value)
    // Data properties only: reading an accessor would run a getter, which may throw or have effects.
    const descriptors = Object.getOwnPropertyDescriptors(value) as Record<string, PropertyDescriptor>
    for (const key of Object.keys(descriptors)) {
      const descriptor = descriptors[key]!
      if ('value' in descriptor) deepFreeze(descriptor.value)
    }
  }
  return value
}

function isPlain(value: object): boolean {
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}
