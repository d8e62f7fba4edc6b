/**
 * Summarises a V8 .cpuprofile: self time per function and per source line (positionTicks), as a
 * share of all samples. Usage: node bench/lib/cpu-profile-summary.mjs <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs'

const [file, topArg] = process.argv.slice(2)
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const counts = new Map()
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1)
const total = profile.samples.length
const short = (url) => url.replace(/^file:\/\/.*?\/(dist|node_modules|bench)\//, '$1/')

const fns = new Map()
const lines = new Map()
for (const [id, n] of counts) {
  const node = byId.get(id)
  const cf = node.callFrame
  const where = `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}`
  fns.set(where, (fns.get(where) ?? 0) + n)
  const ticks = node.positionTicks ?? []
  const sum = ticks.reduce((s, t) => s + t.ticks, 0)
  for (const t of ticks) {
    const key = `${short(cf.url)}:${t.line}`
    lines.set(key, (lines.get(key) ?? 0) + (n * t.ticks) / sum)
  }
}
const show = (title, map) => {
  console.log(`\n${title}`)
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
  }
}
show('self time by function', fns)
show('self time by line', lines)
