import { describe, expect, it } from 'vitest'
import { requestKey } from '../../src/dedupe/request-key.js'

describe('U5 requestKey', () => {
  it('U5 requestKey hashes canonical JSON: key order does not matter, content does', () => {
    const a = { model: 'gpt', messages: [{ role: 'user', content: 'hi' }], temperature: 0 }
    const b = { temperature: 0, messages: [{ content: 'hi', role: 'user' }], model: 'gpt' }
    expect(requestKey(a)).toBe(requestKey(b))
    expect(requestKey(a)).toMatch(/^[0-9a-f]{64}$/)
    expect(requestKey({ ...a, temperature: 1 })).not.toBe(requestKey(a))
    // Array order is content.
    expect(requestKey([1, 2])).not.toBe(requestKey([2, 1]))
    // Undefined properties are dropped, as JSON drops them.
    expect(requestKey({ ...a, user: undefined })).toBe(requestKey(a))
    expect(requestKey({ d: new Date(0) })).toBe(requestKey({ d: '1970-01-01T00:00:00.000Z' }))
  })

  it('U5 the scope keeps the same request from different tenants apart', () => {
    const request = { model: 'gpt', prompt: 'same' }
    expect(requestKey(request, 'tenant-a')).not.toBe(requestKey(request, 'tenant-b'))
    expect(requestKey(request, 'tenant-a')).toBe(requestKey({ prompt: 'same', model: 'gpt' }, 'tenant-a'))
    expect(requestKey(request, '')).not.toBe(requestKey(request))
  })

  it('U5 values JSON would flatten or cannot encode are refused instead of colliding', () => {
    expect(() => requestKey({ m: new Map([[1, 2]]) })).toThrow(TypeError)
    expect(() => requestKey({ s: new Set([1]) })).toThrow(TypeError)
    expect(() => requestKey({ n: 1n })).toThrow(TypeError)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => requestKey(cyclic)).toThrow(/cyclic/)
    expect(() => requestKey({}, 42 as never)).toThrow(TypeError)
    // The same object twice is not a cycle.
    const shared = { x: 1 }
    expect(() => requestKey({ a: shared, b: shared })).not.toThrow()
  })
})
