/**
 * Streams: CPU per chunk of a stream read through a wrapped client (wrapOpenAI / wrapAnthropic
 * under llmGuard: first-content detection, the hold, a touch per chunk, SSE scanning for usage)
 * vs the same stream read through the raw SDK client, in the same run. The fake provider runs in
 * a child process, so only the client's CPU is measured (process.cpuUsage of this process).
 */
import { fork } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { llmGuard, wrapAnthropic, wrapOpenAI } from 'breakwater'
import { median } from './lib/measure.mjs'

/** Words per streamed answer: one content event each. */
export const STREAMS_SETUP = { chunks: 2_000 }

const PROVIDER_CHILD = `
import { startFakeProvider } from 'breakwater/testing'
const words = Array.from({ length: Number(process.argv.at(-1)) }, (_, i) => 'w' + i).join(' ')
const fake = await startFakeProvider({ reply: () => words })
process.send(fake.url)
process.on('message', async () => { await fake.close(); process.exit(0) })
`

async function startProvider(chunks) {
  const child = fork('--input-type=module', ['-e', PROVIDER_CHILD, String(chunks)], {
    execArgv: [],
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const url = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`fake provider exited with ${code}`)))
  })
  return { url, stop: () => new Promise((resolve) => (child.once('exit', resolve), child.send('stop'))) }
}

/** CPU µs per chunk of reading one whole stream. */
async function perChunk(read) {
  const before = process.cpuUsage()
  const chunks = await read()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / chunks
}

export async function streams({ quick = false } = {}) {
  const rounds = quick ? 3 : 11
  const { chunks } = STREAMS_SETUP
  const provider = await startProvider(chunks)
  try {
    const guard = () => llmGuard({ dedupe: false })
    const openaiRaw = new OpenAI({ apiKey: 'sk-bench', baseURL: `${provider.url}/v1`, maxRetries: 0 })
    const anthropicRaw = new Anthropic({ apiKey: 'sk-bench', baseURL: provider.url, maxRetries: 0 })
    const clients = {
      openai: { raw: openaiRaw, wrapped: wrapOpenAI(openaiRaw, guard()) },
      anthropic: { raw: anthropicRaw, wrapped: wrapAnthropic(anthropicRaw, guard()) },
    }
    const readers = {
      openai: (client) => async () => {
        const stream = await client.chat.completions.create({
          model: 'gpt-bench',
          messages: [{ role: 'user', content: 'go' }],
          stream: true,
        })
        let n = 0
        for await (const _ of stream) n++
        return n
      },
      anthropic: (client) => async () => {
        const stream = await client.messages.create({
          model: 'claude-bench',
          max_tokens: 4_096,
          messages: [{ role: 'user', content: 'go' }],
          stream: true,
        })
        let n = 0
        for await (const _ of stream) n++
        return n
      },
    }
    const results = []
    for (const api of ['openai', 'anthropic']) {
      const samples = { raw: [], wrapped: [] }
      // Warm-up, then alternate so both see the same machine state.
      for (const mode of ['raw', 'wrapped']) await readers[api](clients[api][mode])()
      for (let i = 0; i < rounds; i++) {
        for (const mode of i % 2 === 0 ? ['raw', 'wrapped'] : ['wrapped', 'raw']) {
          samples[mode].push(await perChunk(readers[api](clients[api][mode])))
        }
      }
      const raw = median(samples.raw)
      const wrapped = median(samples.wrapped)
      results.push({ api, raw, wrapped, added: wrapped - raw, ratio: wrapped / raw, rounds })
    }
    return { chunks, rounds, results, load: loadavg()[0], cpus: cpus().length }
  } finally {
    await provider.stop()
  }
}

/** The streams section, in place of an older one or before "## Reproduce". */
export function withStreams(markdown, result) {
  const section = streamsSection(result).join('\n') + '\n'
  const old = /### Streams: CPU per chunk[\s\S]*?(?=\n### |\n## )/
  if (old.test(markdown)) return markdown.replace(old, () => `${section.trimEnd()}\n`)
  return markdown.replace('## Reproduce', () => `${section}\n## Reproduce`)
}

export function streamsSection(r) {
  const us = (x) => `${x.toFixed(2)} µs`
  const name = {
    openai: 'OpenAI chat stream (`openai`)',
    anthropic: 'Anthropic messages stream (`@anthropic-ai/sdk`)',
  }
  return [
    '### Streams: CPU per chunk',
    '',
    `One streamed answer of ${r.chunks.toLocaleString('en-US').replace(',', ' ')} content events, read to its end with \`for await\`,`,
    'through the raw SDK client and through the same client wrapped (`wrapOpenAI` / `wrapAnthropic`',
    'under `llmGuard({ dedupe: false })`: the guarded transport, first-content detection, the hold,',
    'a touch per chunk, SSE scanning for the final usage). The fake provider runs in a child process;',
    `CPU of the client process per chunk (user + system), median of ${r.rounds} alternating rounds (\`bench/streams.mjs\`;`,
    `load average ${r.load.toFixed(1)} on ${r.cpus} CPUs during the run).`,
    '',
    '| stream | raw SDK | wrapped | added per chunk | wrapped / raw |',
    '|---|---:|---:|---:|---:|',
    ...r.results.map(
      (x) => `| ${name[x.api]} | ${us(x.raw)} | ${us(x.wrapped)} | ${us(x.added)} | ${x.ratio.toFixed(2)} |`,
    ),
    '',
  ]
}

// Run alone: `npm run build && node bench/streams.mjs [--quick]`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await streams({ quick: process.argv.includes('--quick') })
  console.log(streamsSection(result).join('\n'))
}
