/**
 * README examples are part of the test suite: every ```ts block runs as written (blocks fenced
 * as ```ts no-run are type sketches and are skipped by design).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis, type RedisServer } from '../helpers/redis-server.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const readme = readFileSync(`${root}README.md`, 'utf8')
const outDir = `${root}test/docs/.examples`

interface Example {
  heading: string
  code: string
  line: number
}

function examples(markdown: string): Example[] {
  const found: Example[] = []
  let heading = 'README'
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const title = /^#{1,4}\s+(.*)/.exec(line)
    if (title) heading = title[1]!
    if (line.trim() === '```ts') {
      const start = i + 1
      const body: string[] = []
      for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!)
      found.push({ heading, code: body.join('\n'), line: start })
    }
  }
  return found
}

const blocks = examples(readme)
mkdirSync(outDir, { recursive: true })

// The Redis examples talk to a real server, started here on a free loopback port.
let redis: RedisServer | undefined
beforeAll(async () => {
  redis = await startRedis()
  process.env.REDIS_URL = redis.url
})
afterAll(async () => {
  rmSync(outDir, { recursive: true, force: true })
  await redis?.stop()
})

describe('README examples run as written', () => {
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThan(3)
  })

  it.each(blocks.map((b, i) => [`${b.heading} (README.md:${b.line})`, b, i] as const))(
    '%s',
    async (_name, block, i) => {
      const file = `${outDir}/example-${i}.ts`
      writeFileSync(file, `${block.code}\nexport {}\n`)
      await import(/* @vite-ignore */ file)
    },
  )
})
