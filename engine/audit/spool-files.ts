/**
 * The spool's files: segment files named by the seq of their first record
 * (`seg-0000000000000001.ndjson`, one record per line), the chain id, and the lock that keeps two
 * processes from appending to one chain.
 */
import { randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, fstatSync, writeFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { AuditRecord } from "./record.js";

const SEGMENT = /^seg-(\d{16})\.ndjson$/;

export const segmentName = (firstSeq: number): string => `seg-${String(firstSeq).padStart(16, "0")}.ndjson`;

export interface SegmentFile {
  readonly firstSeq: number;
  readonly path: string;
}

export function listSegments(dir: string): SegmentFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => SEGMENT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ firstSeq: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.firstSeq - b.firstSeq);
}

/** The chain id of a spool, created with it. */
export function chainId(dir: string): string {
  const file = join(dir, "chain.id");
  if (!existsSync(file)) {
    try {
      writeFileSync(file, randomUUID() + "\n", { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  return readFileSync(file, "utf8").trim();
}

export class SpoolLockedError extends Error {
  override readonly name = "SpoolLockedError";
}

/** True when a live process holds the spool's lock. */
export function lockHolder(dir: string): number | undefined {
  const file = join(dir, "spool.lock");
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? pid : undefined;
  }
}

/**
 * Takes the spool lock: a file holding our pid. A lock left by a dead process (kill -9) is taken
 * over; one held by a live process is an error, since two writers would fork the chain.
 */
export function takeLock(dir: string): () => void {
  const file = join(dir, "spool.lock");
  const holder = lockHolder(dir);
  if (holder !== undefined && holder !== process.pid) {
    throw new SpoolLockedError(`the audit spool ${dir} is in use by process ${holder}`);
  }
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    if (lockHolder(dir) === process.pid) unlinkSync(file);
  };
}

export interface ParsedLine {
  readonly record: AuditRecord;
  readonly line: string;
  /** Byte offset just past this line's newline. */
  readonly end: number;
}

/**
 * Reads the complete lines of a segment. Stops at the first line that is torn (no newline, or
 * not JSON): after a crash mid-write that is where the valid spool ends.
 */
export function readSegment(path: string): { lines: ParsedLine[]; validBytes: number; size: number } {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    const lines: ParsedLine[] = [];
    let start = 0;
    while (start < got) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      const line = buf.toString("utf8", start, nl);
      let record: AuditRecord;
      try {
        record = JSON.parse(line) as AuditRecord;
      } catch {
        break;
      }
      lines.push({ record, line, end: nl + 1 });
      start = nl + 1;
    }
    return { lines, validBytes: start, size };
  } finally {
    closeSync(fd);
  }
}
