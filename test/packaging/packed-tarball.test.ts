/**
 * W4: the package as a user installs it. The sources are built and packed (`npm pack`) in a
 * staging copy of the package, the tarball is unpacked into a consumer project's node_modules —
 * offline: its dependencies resolve from this checkout's node_modules — and every entry point is
 * loaded from ESM and from CommonJS, and type-checked by a strict TypeScript consumer.
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
// Inside the checkout (.tmp is ignored by git), so bare imports resolve from its node_modules.
const work = join(root, '.tmp', `packaging-${process.pid}`)
const staging = join(work, 'package')
const consumer = join(work, 'consumer')
const installed = join(consumer, 'node_modules', 'breakwater')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const ENTRY_POINTS = ['breakwater', 'breakwater/redis', 'breakwater/prometheus', 'breakwater/testing']
let tarball = ''

beforeAll(async () => {
  const major = Number(process.versions.node.split('.')[0])
  if (major < 22)
    throw new Error(`these tests need Node >= 22 (run them with npx vitest), got ${process.version}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  for (const entry of [
    'package.json',
    'README.md',
    'LICENSE',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    'dashboards',
  ]) {
    cpSync(join(root, entry), join(staging, entry), { recursive: true })
  }
  await run(process.execPath, [tsc, '-p', join(staging, 'tsconfig.build.json')], { cwd: staging })
  const npm = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], {
    cwd: staging,
  })
  tarball = join(work, npm.stdout.trim().split('\n').at(-1)!)
  mkdirSync(installed, { recursive: true })
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'])
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  )
}, 180_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)],
  )
}

describe('W4 the packed package', () => {
  it('W4 ships LICENSE, README and every entry point, no demo, and source maps whose sources it ships', () => {
    const shipped = files(installed).map((f) => relative(installed, f))
    expect(shipped).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']))
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
    for (const entry of ['index', 'redis', 'prometheus', 'testing']) {
      expect(shipped).toEqual(expect.arrayContaining([`dist/${entry}.js`, `dist/${entry}.d.ts`]))
    }
    expect(shipped.filter((f) => f.startsWith('dist/demo') || f.startsWith('src/demo'))).toEqual([])
    const maps = shipped.filter((f) => f.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(50)
    const unresolved = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[] }
      return sources.map((s) => resolve(dirname(join(installed, map)), s)).filter((s) => !existsSync(s))
    })
    expect(unresolved).toEqual([])
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, any>
    expect(pkg.license).toBe('MIT')
    expect(typeof pkg.repository?.url).toBe('string')
  })

  it('W4 ESM consumers import every entry point', async () => {
    writeFileSync(
      join(consumer, 'esm.mjs'),
      [
        ...ENTRY_POINTS.map((e, i) => `import * as m${i} from '${e}'`),
        `const { compose, retryGuard, wrapOpenAI } = m0`,
        `const fake = await m3.startFakeProvider()`,
        `await fake.close()`,
        `console.log(JSON.stringify([typeof compose(retryGuard({ maxAttempts: 1 })).execute, typeof wrapOpenAI,`,
        `  typeof m1.RedisCircuitBackend, typeof m2.instrument, typeof m3.testClock]))`,
      ].join('\n'),
    )
    const { stdout } = await run(process.execPath, ['esm.mjs'], { cwd: consumer })
    expect(JSON.parse(stdout)).toEqual(['function', 'function', 'function', 'function', 'function'])
  })

  it('W4 CommonJS consumers require() every entry point on Node 22', async () => {
    writeFileSync(
      join(consumer, 'cjs.cjs'),
      [
        `const loaded = ${JSON.stringify(ENTRY_POINTS)}.map((e) => require(e))`,
        `const [core, redis, prometheus, testing] = loaded`,
        `console.log(JSON.stringify([typeof core.llmGuard, typeof core.wrapAnthropic, typeof redis.RedisCircuitBackend,`,
        `  typeof prometheus.instrument, typeof testing.startFakeProvider]))`,
      ].join('\n'),
    )
    const { stdout } = await run(process.execPath, ['--no-warnings', 'cjs.cjs'], { cwd: consumer })
    expect(JSON.parse(stdout)).toEqual(['function', 'function', 'function', 'function', 'function'])
  })

  it('W4 a strict TypeScript consumer type-checks against the shipped declarations, from ESM and CommonJS', async () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2023',
          lib: ['es2023', 'dom'],
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
          skipLibCheck: true,
          noUncheckedIndexedAccess: true,
        },
        include: ['consumer.ts', 'consumer.cts'],
      }),
    )
    writeFileSync(
      join(consumer, 'consumer.ts'),
      [
        `import OpenAI from 'openai'`,
        `import { llmGuard, wrapOpenAI, breakwaterOptions, type ProviderResponse } from 'breakwater'`,
        `import { RedisCircuitBackend } from 'breakwater/redis'`,
        `import { instrument } from 'breakwater/prometheus'`,
        `import { startFakeProvider, testClock } from 'breakwater/testing'`,
        `const reports: ProviderResponse[] = []`,
        `const client: OpenAI = wrapOpenAI(new OpenAI({ apiKey: 'k' }), llmGuard(), { onResponse: (r) => { reports.push(r) } })`,
        `export const call = client.chat.completions.create({ model: 'm', messages: [] }, breakwaterOptions({ priority: 'background' }))`,
        `export const kinds = [typeof RedisCircuitBackend, typeof instrument, typeof startFakeProvider, testClock(0).now()]`,
      ].join('\n'),
    )
    writeFileSync(
      join(consumer, 'consumer.cts'),
      [
        `import breakwater = require('breakwater')`,
        `import testing = require('breakwater/testing')`,
        `export const guard: breakwater.Guard = breakwater.compose(breakwater.retryGuard({ maxAttempts: 2 }))`,
        `export const clock: testing.TestClock = testing.testClock()`,
      ].join('\n'),
    )
    const checked = await run(process.execPath, [tsc, '-p', join(consumer, 'tsconfig.json')], {
      cwd: consumer,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }))
    expect(checked.stdout).toBe('')
  }, 120_000)
})
