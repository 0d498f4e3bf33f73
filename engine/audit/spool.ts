/**
 * The durable spool: a write-ahead log of sealed records in segment files, appended in batches.
 *
 * A batch is written with write(2) on the event loop: it lands in the OS page cache in
 * microseconds, and from then on it survives a kill -9 of the gateway (the kernel owns the
 * bytes). fsync(2), the slow part that makes it survive a power loss, runs on the libuv thread
 * pool; one is in flight at a time and covers every batch written before it started (group
 * commit). `writtenSeq` and `syncedSeq` say how far each guarantee reaches. Sinks are fed only
 * synced records, so no sink can ever hold a record the spool could still lose.
 */
import { closeSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from "node:fs";
import { GENESIS_HASH, recordHash, type ChainHead } from "./chain.js";
import { chainId, listSegments, readSegment, segmentName, takeLock, type SegmentFile } from "./spool-files.js";
import { join } from "node:path";

export interface SpoolOptions {
  /** A segment is closed and a new one started once it reaches this size. */
  readonly segmentBytes: number;
}

export class Spool {
  writtenSeq: number;
  syncedSeq: number;
  /** The last write error, until a write succeeds again. */
  failure: Error | undefined = undefined;
  private fd: number;
  private segmentSize: number;
  private segments: SegmentFile[];
  private sizes = new Map<number, number>();
  private backlog: Array<{ buf: Buffer; firstSeq: number; lastSeq: number; started: boolean }> = [];
  private syncing: Promise<void> | undefined;
  private readonly unlock: () => void;

  private constructor(
    readonly dir: string,
    readonly head: ChainHead,
    private readonly options: SpoolOptions,
    unlock: () => void,
  ) {
    this.unlock = unlock;
    this.writtenSeq = head.seq;
    this.syncedSeq = head.seq;
    this.segments = listSegments(dir);
    for (const s of this.segments) this.sizes.set(s.firstSeq, statSync(s.path).size);
    const last = this.segments.at(-1);
    if (last === undefined) {
      this.fd = -1;
      this.segmentSize = 0;
    } else {
      this.fd = openSync(last.path, "a");
      this.segmentSize = this.sizes.get(last.firstSeq)!;
    }
  }

  /**
   * Opens (or creates) the spool in `dir`, takes its lock, and recovers the chain head. A torn
   * last line (a crash in the middle of a write) is cut off: it was never acknowledged.
   */
  static open(dir: string, options: SpoolOptions, warn: (line: string) => void = () => undefined): Spool {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const unlock = takeLock(dir);
    const chain = chainId(dir);
    const segments = listSegments(dir);
    let head: ChainHead = { chain, seq: 0, hash: GENESIS_HASH };
    for (let i = segments.length - 1; i >= 0; i--) {
      const seg = segments[i]!;
      const { lines, validBytes, size } = readSegment(seg.path);
      if (validBytes < size) {
        warn(`audit spool: cutting a torn tail of ${size - validBytes} bytes from ${seg.path}`);
        const fd = openSync(seg.path, "r+");
        ftruncateSync(fd, validBytes);
        fsyncSync(fd);
        closeSync(fd);
      }
      const last = lines.at(-1)?.record;
      if (last === undefined) {
        // An empty segment (created just before a crash) is dropped, unless it is the only one.
        if (i > 0) unlinkSync(seg.path);
        continue;
      }
      if (recordHash(last) !== last.hash) throw new Error(`audit spool: the last record in ${seg.path} (seq ${last.seq}) fails its hash; run sentinel audit verify`);
      head = { chain, seq: last.seq, hash: last.hash };
      break;
    }
    return new Spool(dir, head, options, unlock);
  }

  /** Bytes on disk across all segments. */
  get bytes(): number {
    let n = 0;
    for (const v of this.sizes.values()) n += v;
    return n;
  }

  /**
   * Appends a batch of encoded records (`firstSeq..lastSeq`). Returns false when the write
   * failed; the bytes are kept and `retry()` writes them later, in order, so a full or failing
   * disk delays records but never drops or reorders them.
   */
  append(buf: Buffer, firstSeq: number, lastSeq: number): boolean {
    this.backlog.push({ buf, firstSeq, lastSeq, started: false });
    return this.retry();
  }

  retry(): boolean {
    try {
      while (this.backlog.length > 0) {
        const item = this.backlog[0]!;
        // A partially written batch must finish in the segment it started in.
        if (this.fd < 0 || (this.segmentSize >= this.options.segmentBytes && !item.started)) this.rotate(item.firstSeq);
        while (item.buf.length > 0) {
          const n = writeSync(this.fd, item.buf);
          item.started = true;
          this.segmentSize += n;
          this.sizes.set(this.segments.at(-1)!.firstSeq, this.segmentSize);
          item.buf = item.buf.subarray(n);
        }
        this.backlog.shift();
        this.writtenSeq = item.lastSeq;
      }
      this.failure = undefined;
      return true;
    } catch (err) {
      this.failure = err as Error;
      return false;
    }
  }

  get pendingWrite(): boolean {
    return this.backlog.length > 0;
  }

  private rotate(firstSeq: number): void {
    if (this.fd >= 0) {
      // Rare (once per segment): the old segment is synced before it is closed so that
      // syncedSeq can never claim records that sit only in a closed file's page cache.
      fsyncSync(this.fd);
      closeSync(this.fd);
    }
    const path = join(this.dir, segmentName(firstSeq));
    this.fd = openSync(path, "a", 0o600);
    // The new file's directory entry must be durable too, or a power loss could lose the file.
    const dirFd = openSync(this.dir, "r");
    fsyncSync(dirFd);
    closeSync(dirFd);
    this.segments.push({ firstSeq, path });
    this.segmentSize = 0;
    this.sizes.set(firstSeq, 0);
  }

  /** fsyncs everything written so far; concurrent callers share one fsync at a time. */
  sync(): Promise<void> {
    if (this.syncing !== undefined) return this.syncing.then(() => (this.writtenSeq > this.syncedSeq ? this.sync() : undefined));
    const target = this.writtenSeq;
    if (target <= this.syncedSeq || this.fd < 0) return Promise.resolve();
    const fd = this.fd;
    this.syncing = new Promise<void>((resolve, reject) => {
      fsync(fd, (err) => {
        this.syncing = undefined;
        if (err && (err as NodeJS.ErrnoException).code !== "EBADF") return reject(err);
        // EBADF: the segment was rotated (and synced) meanwhile.
        this.syncedSeq = Math.max(this.syncedSeq, target);
        resolve();
      });
    });
    return this.syncing;
  }

  /** Segment files in order, with the seq range each holds (for readers and pruning). */
  get segmentFiles(): readonly SegmentFile[] {
    return this.segments;
  }

  /** Deletes whole segments every consumer is done with; never the one being written. */
  prune(upToSeq: number): number {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[1]!.firstSeq - 1 <= upToSeq) {
      const seg = this.segments.shift()!;
      unlinkSync(seg.path);
      this.sizes.delete(seg.firstSeq);
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.sync().catch(() => undefined);
    if (this.fd >= 0) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
    }
    this.unlock();
  }
}
