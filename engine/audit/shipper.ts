/**
 * Ships records from the spool to one sink: read from the sink's cursor, write, persist the new
 * cursor, repeat. A failing sink is retried with capped exponential backoff while its records wait
 * in the spool, which is the back-pressure: nothing is dropped and no call waits. The cursor is
 * persisted after the sink acknowledged, so a crash between the two resends a batch, never
 * skips one (sinks deduplicate on (chain, seq)).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AuditSink } from "./sink.js";
import { SpoolReader, type SpooledRecord } from "./spool-reader.js";
import type { Spool } from "./spool.js";

export interface ShipperOptions {
  readonly batchSize: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly log: (line: string) => void;
}

export const cursorPath = (spoolDir: string, sink: string): string => join(spoolDir, "cursors", `${sink}.json`);

export function readCursor(spoolDir: string, sink: string): number {
  const file = cursorPath(spoolDir, sink);
  if (!existsSync(file)) return 0;
  return (JSON.parse(readFileSync(file, "utf8")) as { seq: number }).seq;
}

function writeCursor(spoolDir: string, sink: string, seq: number): void {
  const file = cursorPath(spoolDir, sink);
  mkdirSync(join(spoolDir, "cursors"), { recursive: true, mode: 0o700 });
  // Write-then-rename: a crash leaves the old cursor or the new one, never half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify({ seq, at: new Date().toISOString() }), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export class Shipper {
  /** The last seq the sink acknowledged. */
  acked: number;
  failures = 0;
  lastError: string | undefined = undefined;
  private readonly reader: SpoolReader;
  private pending: SpooledRecord[] = [];
  private running = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private started = false;

  constructor(
    readonly sink: AuditSink,
    private readonly spool: Spool,
    private readonly options: ShipperOptions,
  ) {
    this.acked = readCursor(spool.dir, sink.name);
    this.reader = new SpoolReader(spool, this.acked + 1);
  }

  /** Records in the spool the sink does not hold yet. */
  get lag(): number {
    return Math.max(0, this.spool.syncedSeq - this.acked);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** New records were synced. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /** Ships what is synced, then stops; waits at most `timeoutMs` for a sink that is down. */
  async stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lag > 0 && Date.now() < deadline && this.failures === 0) await new Promise((r) => setTimeout(r, 10));
    this.running = false;
    this.wake();
    // A write to a sink that is down may hang (Kafka retries forever): do not wait past the deadline.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 100).unref())]);
    await this.sink.close?.();
  }

  private async run(): Promise<void> {
    let backoff = this.options.minBackoffMs;
    while (this.running) {
      try {
        if (!this.started) {
          await this.sink.start?.();
          this.started = true;
        }
        if (this.pending.length === 0) this.pending = await this.reader.read(this.options.batchSize);
        if (this.pending.length === 0) {
          await new Promise<void>((resolve) => {
            this.wakeUp = resolve;
            // Also poll: a wake-up can race with the read above.
            setTimeout(resolve, 250).unref();
          });
          continue;
        }
        const n = await this.sink.write(this.pending);
        if (n > 0) {
          this.acked = this.pending[n - 1]!.record.seq;
          writeCursor(this.spool.dir, this.sink.name, this.acked);
          this.pending = this.pending.slice(n);
        }
        if (n < this.pending.length + n && this.pending.length > 0) throw new Error(`sink ${this.sink.name} took ${n} of ${n + this.pending.length} records`);
        if (this.failures > 0) this.options.log(`audit sink ${this.sink.name}: recovered after ${this.failures} failed attempts`);
        this.failures = 0;
        this.lastError = undefined;
        backoff = this.options.minBackoffMs;
      } catch (err) {
        this.failures++;
        this.lastError = (err as Error).message;
        this.sink.onError?.(err as Error);
        if (this.failures === 1 || this.failures % 20 === 0) {
          this.options.log(`audit sink ${this.sink.name}: ${(err as Error).message}; ${this.lag} records wait in the spool (retry in ${backoff} ms)`);
        }
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(this.options.maxBackoffMs, backoff * 2);
      }
    }
  }
}
