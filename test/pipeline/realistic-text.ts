/**
 * Seeded text that looks like what an agent conversation carries: source files, pretty JSON, logs
 * with stack traces, shell output, English prose, Chinese and Japanese prose. The same seed gives
 * the same text, so token counts and compaction runs can be compared across runs.
 */
import { seededRandom } from '../../src/testing/seeded-random.js'

export type TextKind = 'code' | 'prose' | 'json' | 'logs' | 'chinese' | 'japanese'
export const TEXT_KINDS: readonly TextKind[] = ['code', 'prose', 'json', 'logs', 'chinese', 'japanese']

type Random = () => number

const pick = <T>(r: Random, list: readonly T[]): T => list[Math.floor(r() * list.length)]!
const int = (r: Random, min: number, max: number): number => min + Math.floor(r() * (max - min + 1))
const hex = (r: Random, n: number): string =>
  Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('')

const NOUNS = [
  'session',
  'request',
  'client',
  'buffer',
  'token',
  'message',
  'worker',
  'queue',
  'config',
  'provider',
  'summary',
  'record',
  'event',
  'stream',
  'budget',
  'window',
  'handler',
  'cache',
  'breaker',
  'retry',
  'payload',
  'context',
  'result',
  'option',
  'signal',
  'timer',
  'entry',
]
const VERBS = [
  'create',
  'read',
  'parse',
  'load',
  'apply',
  'merge',
  'resolve',
  'flush',
  'update',
  'count',
  'split',
  'render',
]
const ADJECTIVES = ['pending', 'cached', 'shared', 'local', 'stale', 'active', 'raw', 'next', 'last', 'max']
const DIRS = [
  'src',
  'src/core',
  'src/api',
  'src/lib',
  'test',
  'packages/server/src',
  'app/services',
  'lib/utils',
]
const EXTS = ['ts', 'ts', 'tsx', 'js', 'json', 'md', 'py', 'go']
const WORDS = (
  'the a of to and in that is for it with as was on be by this are not or have from at which but ' +
  'can all their has one will been would more when there what so if out up about into than them ' +
  'some could time only new these two may first then any like our over such after also most ' +
  'change file test build release value error provider request limit retry window context user ' +
  'summary before because however every should never always without during'
).split(' ')

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)
const camel = (r: Random): string => `${pick(r, VERBS)}${cap(pick(r, ADJECTIVES))}${cap(pick(r, NOUNS))}`
const type = (r: Random): string => `${cap(pick(r, ADJECTIVES))}${cap(pick(r, NOUNS))}`

/** A file path like `src/core/session-cache.ts`. */
export function filePath(r: Random): string {
  return `${pick(r, DIRS)}/${pick(r, NOUNS)}-${pick(r, NOUNS)}.${pick(r, EXTS)}`
}

function code(r: Random, chars: number): string {
  const out: string[] = [
    `import { ${camel(r)}, type ${type(r)} } from './${pick(r, NOUNS)}-${pick(r, NOUNS)}.js'`,
    `import { ${camel(r)} } from '../${pick(r, NOUNS)}/index.js'`,
    '',
  ]
  let size = 0
  while (size < chars) {
    const t = type(r)
    const block = [
      `/** ${cap(pick(r, VERBS))}s the ${pick(r, NOUNS)} of a ${pick(r, NOUNS)}; ${pick(r, WORDS)} ${pick(r, WORDS)} ${pick(r, NOUNS)}. */`,
      `export interface ${t} {`,
      `  readonly ${pick(r, NOUNS)}Id: string`,
      `  ${pick(r, NOUNS)}Count: number`,
      `  ${pick(r, ADJECTIVES)}${cap(pick(r, NOUNS))}?: ${type(r)}[]`,
      '}',
      '',
      `export async function ${camel(r)}(${pick(r, NOUNS)}: ${t}, options: { ${pick(r, NOUNS)}Ms?: number } = {}): Promise<number> {`,
      `  const ${pick(r, NOUNS)} = options.${pick(r, NOUNS)}Ms ?? ${int(r, 1, 120)}_000`,
      `  if (${pick(r, NOUNS)}.${pick(r, NOUNS)}Count > ${int(r, 2, 999)}) {`,
      `    throw new RangeError(\`${pick(r, NOUNS)} must be at most ${int(r, 2, 999)}, got \${${pick(r, NOUNS)}}\`)`,
      '  }',
      `  for (const ${pick(r, NOUNS)} of ${pick(r, NOUNS)}.${pick(r, ADJECTIVES)}${cap(pick(r, NOUNS))} ?? []) {`,
      `    await ${camel(r)}(${pick(r, NOUNS)}, { ${pick(r, NOUNS)}: ${int(r, 0, 64)} })`,
      '  }',
      `  return ${pick(r, NOUNS)}.${pick(r, NOUNS)}Count * ${int(r, 2, 16)}`,
      '}',
      '',
    ].join('\n')
    out.push(block)
    size += block.length
  }
  return out.join('\n')
}

function json(r: Random, chars: number): string {
  const items: unknown[] = []
  let size = 0
  while (size < chars) {
    const item = {
      id: `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}`,
      name: `${pick(r, ADJECTIVES)}-${pick(r, NOUNS)}`,
      createdAt: `2026-0${int(r, 1, 9)}-1${int(r, 0, 9)}T0${int(r, 0, 9)}:${int(r, 10, 59)}:${int(r, 10, 59)}.${int(r, 100, 999)}Z`,
      count: int(r, 0, 100_000),
      ratio: Math.round(r() * 10_000) / 10_000,
      enabled: r() < 0.5,
      tags: [pick(r, NOUNS), pick(r, ADJECTIVES)],
      owner: { login: `${pick(r, NOUNS)}${int(r, 1, 99)}`, type: 'User', siteAdmin: false },
      path: filePath(r),
    }
    items.push(item)
    size += JSON.stringify(item, null, 2).length + 4
  }
  return JSON.stringify({ total: items.length, page: 1, items }, null, 2)
}

function logs(r: Random, chars: number): string {
  const lines: string[] = []
  let size = 0
  let t = Date.UTC(2026, 2, 14, 9, 0, 0)
  while (size < chars) {
    t += int(r, 1, 900)
    const stamp = new Date(t).toISOString()
    let line: string
    if (r() < 0.08) {
      line = [
        `${stamp} ERROR [worker-${int(r, 1, 8)}] ${cap(pick(r, VERBS))} ${pick(r, NOUNS)} failed: TypeError: Cannot read properties of undefined (reading '${pick(r, NOUNS)}Id')`,
        `    at ${camel(r)} (/app/${filePath(r)}:${int(r, 1, 400)}:${int(r, 1, 80)})`,
        `    at async ${camel(r)} (/app/${filePath(r)}:${int(r, 1, 400)}:${int(r, 1, 80)})`,
        `    at async Promise.all (index ${int(r, 0, 9)})`,
        `    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)`,
      ].join('\n')
    } else {
      line = `${stamp} ${pick(r, ['INFO ', 'INFO ', 'DEBUG', 'WARN '])} [worker-${int(r, 1, 8)}] ${pick(r, ['GET', 'POST', 'PUT'])} /api/v${int(r, 1, 3)}/${pick(r, NOUNS)}s/${hex(r, 12)} status=${pick(r, [200, 200, 201, 204, 404, 429, 500])} durationMs=${int(r, 1, 4_000)} requestId=${hex(r, 16)} bytes=${int(r, 10, 90_000)}`
    }
    lines.push(line)
    size += line.length + 1
  }
  return lines.join('\n')
}

function prose(r: Random, chars: number): string {
  const sentences: string[] = []
  let size = 0
  while (size < chars) {
    const n = int(r, 8, 22)
    const words = Array.from({ length: n }, () => (r() < 0.15 ? pick(r, NOUNS) : pick(r, WORDS)))
    const s = `${cap(words.join(' '))}${pick(r, ['.', '.', '.', ',', '?'])}`
    sentences.push(s)
    size += s.length + 1
  }
  return sentences.join(' ')
}

const ZH = (
  '我们 需要 修改 这个 文件 的 配置 以便 服务 能够 正常 启动 。 用户 报告 说 请求 在 高峰 时段 经常 超时 ， ' +
  '所以 应该 检查 重试 策略 和 断路器 的 阈值 。 这个 函数 负责 读取 会话 记录 并 计算 令牌 数量 ， ' +
  '如果 上下文 窗口 超过 限制 就 需要 压缩 历史 消息 。 测试 结果 显示 有 三个 用例 失败 ， 原因 是 ' +
  '缓存 没有 及时 更新 。 接下来 我 会 先 阅读 日志 ， 然后 修复 问题 并 重新 运行 全部 测试 。 ' +
  '数据库 连接 池 的 大小 目前 设置 为 二十 ， 在 并发 较 高 的 情况 下 可能 不够 用 。 请 不要 修改 公共 接口 ， ' +
  '保持 向后 兼容 。 部署 之前 必须 通过 代码 审查 和 集成 测试 。'
).split(' ')
const JA = (
  'この ファイル の 設定 を 変更 して 、 サービス が 正しく 起動 する よう に します 。 ユーザー から 、 ' +
  'ピーク 時 に リクエスト が タイムアウト する と いう 報告 が ありました 。 リトライ の 方針 と ' +
  'サーキットブレーカー の しきい値 を 確認 する 必要 が あります 。 この 関数 は セッション の 記録 を 読み込み 、 ' +
  'トークン 数 を 計算 します 。 コンテキスト ウィンドウ を 超える 場合 は 、 古い メッセージ を 要約 します 。 ' +
  'テスト の 結果 、 三つ の ケース が 失敗 しました 。 原因 は キャッシュ が 更新 されて いない こと です 。 ' +
  '次 に ログ を 読んで から 問題 を 修正 し 、 すべて の テスト を 再度 実行 します 。 公開 API は 変更 しないで ください 。'
).split(' ')

function cjk(r: Random, chars: number, vocabulary: readonly string[]): string {
  let out = ''
  while (out.length < chars) {
    const start = int(r, 0, vocabulary.length - 20)
    out += vocabulary.slice(start, start + int(r, 6, 20)).join('')
    if (r() < 0.3) out += '\n'
  }
  return out
}

/** `chars` characters (about) of text of one kind, from `seed`. */
export function realisticText(kind: TextKind, chars: number, seed: number): string {
  const r = seededRandom(seed)
  switch (kind) {
    case 'code':
      return code(r, chars)
    case 'prose':
      return prose(r, chars)
    case 'json':
      return json(r, chars)
    case 'logs':
      return logs(r, chars)
    case 'chinese':
      return cjk(r, chars, ZH)
    case 'japanese':
      return cjk(r, chars, JA)
  }
}

/** Output of a shell command: a test run, a diff or a build, with an error now and then. */
export function shellOutput(chars: number, seed: number): string {
  const r = seededRandom(seed)
  const lines: string[] = [`$ ${pick(r, ['npm test', 'git diff', 'npx tsc --noEmit', 'npm run build'])}`]
  let size = 0
  while (size < chars) {
    const roll = r()
    const line =
      roll < 0.05
        ? `FAIL ${filePath(r)} > ${pick(r, NOUNS)} ${pick(r, VERBS)}s the ${pick(r, NOUNS)}\nAssertionError: expected ${int(r, 0, 99)} to be ${int(r, 100, 999)}`
        : roll < 0.5
          ? ` ✓ ${filePath(r)} (${int(r, 1, 40)} tests) ${int(r, 2, 900)}ms`
          : roll < 0.8
            ? `${pick(r, ['+', '-', ' '])}  ${code(r, 1).split('\n')[int(r, 3, 12)] ?? ''}`
            : logs(r, 60).split('\n')[0]!
    lines.push(line)
    size += line.length + 1
  }
  return lines.join('\n')
}
