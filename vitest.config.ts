import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    // README examples import the package by name; in tests that name means the sources.
    alias: [
      { find: /^breakwater\/redis$/, replacement: src('redis.ts') },
      { find: /^breakwater\/prometheus$/, replacement: src('prometheus.ts') },
      { find: /^breakwater\/testing$/, replacement: src('testing.ts') },
      { find: /^breakwater$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/leak-guard.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
