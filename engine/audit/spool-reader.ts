/**
 * Reads sealed records back out of the spool for one sink, from its cursor on, never past what
 * the spool has fsynced. Each reader keeps its own file position, so sinks progress
 * independently and a slow one never holds back another.
 */
import { closeSync, openSync, read } from "node:fs";
import { promisify } from "node:util";
import type { AuditRecord } from "./record.js";
import type { Spool } from "./spool.js";

const readAsync = promisify(read);

export interface SpooledRecord {
  readonly record: AuditRecord;
  /** The record exactly as spooled (canonical members, hash last). */
  readonly line: string;
}

export class SpoolReader {
  private segmentFirst = -1;
  /** File offset of the first byte not yet consumed in the current segment. */
  private offset = 0;
  private chunk = 1 << 20;

  constructor(
    private readonly spool: Spool,
    /** The first seq this reader has not handed out yet. */
    private nextSeq: number,
  ) {}

  /** Up to `max` records from the cursor on; none when the consumer is caught up. */
  async read(max: number): Promise<SpooledRecord[]> {
    const out: SpooledRecord[] = [];
    const limit = this.spool.syncedSeq;
    while (out.length < max && this.nextSeq <= limit) {
      const segs = this.spool.segmentFiles;
      if (segs.length === 0) break;
      let idx = segs.findLastIndex((s) => s.firstSeq <= this.nextSeq);
      if (idx < 0) {
        // What the cursor points at was pruned: resume at the oldest record kept.
        idx = 0;
        this.nextSeq = segs[0]!.firstSeq;
      }
      if (segs[idx]!.firstSeq !== this.segmentFirst) {
        this.segmentFirst = segs[idx]!.firstSeq;
        this.offset = 0;
      }
      const consumed = await this.readChunk(segs[idx]!.path, limit, max, out);
      if (consumed === 0) {
        // Nothing more here for now. Move on only once every record of this segment is
        // consumed; a record not yet fsynced is waited for, never skipped.
        if (idx === segs.length - 1 || this.nextSeq < segs[idx + 1]!.firstSeq) break;
        this.segmentFirst = segs[idx + 1]!.firstSeq;
        this.offset = 0;
      }
    }
    return out;
  }

  private async readChunk(path: string, limit: number, max: number, out: SpooledRecord[]): Promise<number> {
    const fd = openSync(path, "r");
    try {
      for (;;) {
        const buf = Buffer.allocUnsafe(this.chunk);
        const { bytesRead } = await readAsync(fd, buf, 0, buf.length, this.offset);
        let start = 0;
        while (out.length < max) {
          const nl = buf.indexOf(10, start);
          if (nl < 0 || nl >= bytesRead) break;
          const line = buf.toString("utf8", start, nl);
          const record = JSON.parse(line) as AuditRecord;
          // Written but not fsynced yet: leave it for a later read.
          if (record.seq > limit) break;
          start = nl + 1;
          if (record.seq >= this.nextSeq) {
            out.push({ record, line });
            this.nextSeq = record.seq + 1;
          }
        }
        if (start === 0 && bytesRead === buf.length) {
          // One line longer than the buffer: grow and read again.
          this.chunk *= 2;
          continue;
        }
        this.offset += start;
        return start;
      }
    } finally {
      closeSync(fd);
    }
  }
}
