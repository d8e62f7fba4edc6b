import { describe, expect, it } from 'vitest'
import { parseDuration, parseRateLimitHeaders } from '../../src/classify/rate-limit-headers.js'

const NOW = Date.parse('2026-12-01T12:00:00Z')

describe('L3 rate-limit headers', () => {
  it('L3 reads Go-style durations as OpenAI sends them', () => {
    expect(parseDuration('6m0s')).toBe(360_000)
    expect(parseDuration('1s')).toBe(1_000)
    expect(parseDuration('120ms')).toBe(120)
    expect(parseDuration('1m30.5s')).toBe(90_500)
    expect(parseDuration('2h3m')).toBe(7_380_000)
    expect(parseDuration('0s')).toBe(0)
    expect(parseDuration('1.5s')).toBe(1_500)
    expect(parseDuration('250us')).toBe(0.25)
    expect(parseDuration('7')).toBe(7_000) // a bare number is seconds
    for (const bad of ['', ' ', '-1s', '1x', 's', '1m-2s', 'soon']) expect(parseDuration(bad)).toBeUndefined()
  })

  it('L3 OpenAI x-ratelimit-{limit,remaining,reset}-{requests,tokens}, from a Headers instance', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-limit-tokens': '30000',
      'x-ratelimit-remaining-tokens': '29000',
      'x-ratelimit-reset-tokens': '2s',
    })
    expect(parseRateLimitHeaders(headers, NOW)).toEqual({
      provider: 'openai',
      requests: { limit: 500, remaining: 499, resetMs: 120 },
      tokens: { limit: 30_000, remaining: 29_000, resetMs: 2_000 },
    })
  })

  it('L3 Anthropic anthropic-ratelimit-*-{limit,remaining,reset} with RFC 3339 resets, from a plain object in any case', () => {
    const headers = {
      'anthropic-ratelimit-requests-limit': '50',
      'Anthropic-RateLimit-Requests-Remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-12-01T12:00:01.200Z',
      'anthropic-ratelimit-tokens-limit': '48000',
      'anthropic-ratelimit-tokens-remaining': '47000',
      'anthropic-ratelimit-tokens-reset': '2026-12-01T12:00:30Z',
      'anthropic-ratelimit-input-tokens-limit': '40000',
      'anthropic-ratelimit-input-tokens-remaining': '39000',
      'anthropic-ratelimit-input-tokens-reset': '2026-12-01T12:00:02+00:00',
      'anthropic-ratelimit-output-tokens-limit': '8000',
      'anthropic-ratelimit-output-tokens-remaining': '8000',
      'anthropic-ratelimit-output-tokens-reset': '2026-12-01T11:59:00Z', // in the past: reset now
    }
    expect(parseRateLimitHeaders(headers, NOW)).toEqual({
      provider: 'anthropic',
      requests: { limit: 50, remaining: 49, resetMs: 1_200 },
      tokens: { limit: 48_000, remaining: 47_000, resetMs: 30_000 },
      inputTokens: { limit: 40_000, remaining: 39_000, resetMs: 2_000 },
      outputTokens: { limit: 8_000, remaining: 8_000, resetMs: 0 },
    })
  })

  it('L3 partial and malformed headers: values that do not parse are left out; none at all is undefined', () => {
    expect(
      parseRateLimitHeaders(
        new Map([
          ['x-ratelimit-remaining-requests', '3'],
          ['x-ratelimit-limit-requests', 'lots'],
          ['x-ratelimit-reset-requests', 'soon'],
        ]),
        NOW,
      ),
    ).toEqual({ provider: 'openai', requests: { remaining: 3 } })
    expect(parseRateLimitHeaders({ 'anthropic-ratelimit-requests-reset': 'tomorrow' }, NOW)).toBeUndefined()
    expect(parseRateLimitHeaders({ 'content-type': 'application/json' }, NOW)).toBeUndefined()
    expect(parseRateLimitHeaders(undefined, NOW)).toBeUndefined()
    expect(parseRateLimitHeaders({ 'x-ratelimit-remaining-tokens': '-5' }, NOW)).toBeUndefined()
  })
})
