/**
 * Server-Sent Events, both ways: a parser for upstream streams (WHATWG rules: any of CRLF, LF
 * or CR ends a line, `data` lines join with LF, a blank line dispatches, `:` lines are comments)
 * and an encoder for downstream streams.
 */

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  retry?: number;
}

export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private id: string | undefined;
  private event: string | undefined;
  private retry: number | undefined;
  private sawField = false;
  private afterCR = false;
  private readonly decoder = new TextDecoder();

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: Uint8Array): void {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    let start = 0;
    // A CR that ended the previous chunk already ended its line; an LF right after it is the
    // second half of that CRLF, not an empty line.
    if (this.afterCR && this.buffer.charCodeAt(0) === 10) start = 1;
    this.afterCR = false;
    for (let i = start; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i));
      if (c === 13) {
        if (i === this.buffer.length - 1) this.afterCR = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === "") {
      if (this.sawField) {
        const ev: SseEvent = { data: this.data.join("\n") };
        if (this.id !== undefined) ev.id = this.id;
        if (this.event !== undefined) ev.event = this.event;
        if (this.retry !== undefined) ev.retry = this.retry;
        this.onEvent(ev);
      }
      this.data = [];
      this.event = undefined;
      this.retry = undefined;
      this.id = undefined;
      this.sawField = false;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "event":
        this.event = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        return;
    }
    this.sawField = true;
  }
}

/** Encodes one event; `data` may span lines. */
export function encodeSse(event: SseEvent): string {
  let out = "";
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`;
  for (const line of event.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}
