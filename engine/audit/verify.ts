/**
 * Verifies audit records, chain by chain, in seq order: every record's hash, every link to the
 * record before it, seq continuity (a gap is a deleted record), and every checkpoint's Ed25519
 * signature over the head it covers. It stops at the first failure and names that record and
 * the reason. Records after the last checkpoint are hash-chained but not yet signed: reported,
 * and a failure only with `requireSigned`.
 */
import { checkpointMessage, GENESIS_HASH, recordHash } from "./chain.js";
import type { AuditRecord } from "./record.js";
import type { SignatureVerifier } from "./signer.js";

export interface VerifyRange {
  readonly fromSeq?: number;
  readonly toSeq?: number;
  readonly fromTime?: string;
  readonly toTime?: string;
}

export interface VerifyFailure {
  readonly chain: string;
  readonly seq: number;
  readonly id: string | undefined;
  readonly reason: string;
}

export interface ChainReport {
  readonly chain: string;
  records: number;
  firstSeq: number;
  lastSeq: number;
  checkpoints: number;
  /** The highest seq covered by a valid signature (0: none). */
  signedThrough: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly chains: ChainReport[];
  readonly failure?: VerifyFailure;
  readonly warnings: string[];
}

const HEX64 = /^[0-9a-f]{64}$/;

export class ChainVerifier {
  private readonly chains = new Map<string, ChainReport & { last: AuditRecord | undefined }>();
  private failure: VerifyFailure | undefined;

  constructor(
    private readonly keys: ReadonlyMap<string, SignatureVerifier>,
    private readonly range: VerifyRange = {},
    private readonly requireSigned = false,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  inRange(r: Pick<AuditRecord, "seq" | "time">): boolean {
    const { fromSeq, toSeq, fromTime, toTime } = this.range;
    return (fromSeq === undefined || r.seq >= fromSeq) && (toSeq === undefined || r.seq <= toSeq) && (fromTime === undefined || r.time >= fromTime) && (toTime === undefined || r.time <= toTime);
  }

  /** Checks the next record of its chain; records must arrive in seq order per chain. `problem`: a fault its source found. */
  push(r: AuditRecord, problem?: string): boolean {
    if (this.failure !== undefined) return false;
    const fail = (reason: string) => {
      this.failure = { chain: String(r.chain), seq: r.seq, id: r.id, reason };
      return false;
    };
    if (r.v !== 1 || typeof r.chain !== "string" || !Number.isSafeInteger(r.seq) || !HEX64.test(String(r.prev)) || !HEX64.test(String(r.hash))) {
      return fail("not a version 1 audit record (chain, seq, prev or hash missing or malformed)");
    }
    let c = this.chains.get(r.chain);
    if (c === undefined) {
      c = { chain: r.chain, records: 0, firstSeq: r.seq, lastSeq: r.seq - 1, checkpoints: 0, signedThrough: 0, last: undefined };
      this.chains.set(r.chain, c);
      if (this.range.fromSeq !== undefined && r.seq > this.range.fromSeq) {
        return fail(`records ${this.range.fromSeq}..${r.seq - 1} are missing (the range starts at ${this.range.fromSeq})`);
      }
      if (r.seq === 1 && r.prev !== GENESIS_HASH) return fail("the first record of the chain does not start from the genesis hash");
    }
    if (recordHash(r) !== r.hash) return fail("its content does not match its hash: the record was altered");
    const last = c.last;
    if (last !== undefined) {
      if (r.seq <= last.seq) return fail(`seq ${r.seq} comes after seq ${last.seq}: duplicated or out of order`);
      if (r.seq !== last.seq + 1) return fail(`records ${last.seq + 1}..${r.seq - 1} are missing (deleted?) before it`);
      if (r.prev !== last.hash) return fail(`its prev hash does not match record ${last.seq}: the record before it was altered or replaced`);
    }
    // A source-specific problem (a store row whose columns disagree with its body) comes after
    // the hash and link checks, so an edited body is reported as what it is.
    if (problem !== undefined) return fail(problem);
    if (r.kind === "checkpoint") {
      const cp = r.checkpoint;
      if (cp === undefined) return fail("a checkpoint without checkpoint details");
      if (cp.covers !== r.seq - 1 || cp.head !== r.prev) return fail(`the checkpoint covers seq ${cp.covers}, not the record before it`);
      const key = this.keys.get(cp.keyId);
      if (key === undefined) return fail(`signed with key ${cp.keyId}, which is not among the verifying keys`);
      if (!key.verify(checkpointMessage(r.chain, cp.covers, cp.head), cp.sig)) return fail("the checkpoint signature is invalid");
      c.checkpoints++;
      c.signedThrough = r.seq;
    }
    c.records++;
    c.lastSeq = r.seq;
    c.last = r;
    return true;
  }

  report(): VerifyReport {
    const warnings: string[] = [];
    const chains = [...this.chains.values()].map(({ last: _last, ...rest }) => rest);
    let failure = this.failure;
    for (const c of chains) {
      if (c.lastSeq > c.signedThrough && failure === undefined) {
        const msg = `chain ${c.chain}: records ${c.signedThrough + 1}..${c.lastSeq} are not covered by a signed checkpoint yet`;
        if (this.requireSigned) failure = { chain: c.chain, seq: c.signedThrough + 1, id: undefined, reason: msg };
        else warnings.push(msg);
      }
    }
    return { ok: failure === undefined, chains, ...(failure === undefined ? {} : { failure }), warnings };
  }
}

export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const c of report.chains) {
    lines.push(`chain ${c.chain}: ${c.records} records (seq ${c.firstSeq}..${c.lastSeq}), ${c.checkpoints} signed checkpoints, signed through seq ${c.signedThrough}`);
  }
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  if (report.failure !== undefined) {
    const f = report.failure;
    lines.push(`FAILED at chain ${f.chain} seq ${f.seq}${f.id === undefined ? "" : ` (id ${f.id})`}: ${f.reason}`);
  } else lines.push(report.chains.length === 0 ? "no records in range" : "OK: chain and signatures verified");
  return lines.join("\n");
}
