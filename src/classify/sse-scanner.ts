/** One server-sent event: its `event:` name (if any) and its `data:` lines joined by newlines. */
export interface SseEvent {
  readonly event: string | undefined
  readonly data: string
}

/**
 * An incremental parser of a `text/event-stream` body: push the bytes as they arrive, get the
 * events they complete. Lines end in `\n`, `\r\n` or `\r`; an empty line ends an event; comment
 * lines (`:`) and fields other than `event` and `data` are skipped, as the SSE spec says.
 */
export class SseScanner {
  private readonly decoder = new TextDecoder()
  private pending = ''
  private event: string | undefined
  private data: string[] = []
  /** A `\r` ended the last chunk: a `\n` starting the next one belongs to the same line end. */
  private skipLf = false

  push(chunk: Uint8Array): SseEvent[] {
    let text = this.decoder.decode(chunk, { stream: true })
    if (this.skipLf && text.startsWith('\n')) text = text.slice(1)
    this.skipLf = false
    const out: SseEvent[] = []
    const all = this.pending === '' ? text : this.pending + text
    let start = 0
    for (;;) {
      const lf = all.indexOf('\n', start)
      const cr = all.indexOf('\r', start)
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr)
      if (end < 0) break
      this.line(all.slice(start, end), out)
      if (end === cr) {
        if (end + 1 < all.length) {
          if (all.charCodeAt(end + 1) === 10) start = end + 2
          else start = end + 1
          continue
        }
        this.skipLf = true
      }
      start = end + 1
    }
    this.pending = all.slice(start)
    return out
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0 || this.event !== undefined) {
        out.push({ event: this.event, data: this.data.join('\n') })
      }
      this.event = undefined
      this.data = []
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.event = value
    else if (field === 'data') this.data.push(value)
  }
}
