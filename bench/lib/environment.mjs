/** What the numbers were measured on, for the header of BENCHMARKS.md. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

function versionOf(name) {
  try {
    // Not require.resolve(`${name}/package.json`): packages whose exports omit it cannot be resolved that way.
    return JSON.parse(
      readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8'),
    ).version
  } catch {
    return 'not installed'
  }
}

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'))
    return line ? line.split(':')[1].trim() : os.cpus()[0]?.model
  } catch {
    return os.cpus()[0]?.model ?? 'unknown'
  }
}

function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

export function environment() {
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    commit: commit(),
    packages: {
      breakwater: own.version,
      cockatiel: versionOf('cockatiel'),
      opossum: versionOf('opossum'),
      'lru-cache': versionOf('lru-cache'),
    },
  }
}
