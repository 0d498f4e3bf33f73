/**
 * The hash chain. Each record's hash is SHA-256 over the canonical encoding of the record without
 * its `hash` member; that encoding includes `prev`, the previous record's hash, and `seq`, so
 * changing, removing or reordering any record breaks every link after it. Checkpoint records
 * carry an Ed25519 signature over the chain head, which makes the chain up to that point
 * unforgeable by anyone without the signing key (a bare hash chain can be recomputed).
 */
import { createHash, randomUUID } from "node:crypto";
import { canonicalJson, canonicalRecordJson } from "./canonical.js";
import type { AuditRecord, UnsealedRecord } from "./record.js";
import type { Signer } from "./signer.js";

export const GENESIS_HASH = "0".repeat(64);

export interface ChainHead {
  readonly chain: string;
  readonly seq: number;
  readonly hash: string;
}

/** The hash a record should have: over every member but `hash`. */
export function recordHash(record: Omit<AuditRecord, "hash"> | AuditRecord): string {
  const { hash: _omit, ...rest } = record as AuditRecord;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}

/**
 * Seals a record onto the chain and returns it with its canonical line (the spool's bytes). The
 * record object is completed in place, not copied: the flusher owns it, and copying a record of
 * twenty-odd members per seal cost more than hashing it.
 */
export function seal(unsealed: UnsealedRecord, head: ChainHead): { record: AuditRecord; line: string } {
  const record = unsealed as { -readonly [K in keyof AuditRecord]: AuditRecord[K] };
  record.chain = head.chain;
  record.seq = head.seq + 1;
  record.prev = head.hash;
  const canonical = canonicalRecordJson(record as unknown as Record<string, unknown>);
  record.hash = createHash("sha256").update(canonical).digest("hex");
  // The line is the canonical body with the hash appended as its last member; readers never
  // rely on member order (verification re-canonicalises what it reads).
  const line = canonical.slice(0, -1) + `,"hash":"${record.hash}"}`;
  return { record, line };
}

/** The bytes a checkpoint signature covers; domain-separated so it can sign nothing else. */
export function checkpointMessage(chain: string, covers: number, head: string): Buffer {
  return Buffer.from(`sentinel-audit-checkpoint/v1\n${chain}\n${covers}\n${head}`, "utf8");
}

/** A checkpoint record over `head`: its Ed25519 signature covers the whole chain up to it. */
export function checkpointRecord(head: ChainHead, signer: Signer): UnsealedRecord {
  return {
    v: 1,
    kind: "checkpoint",
    id: randomUUID(),
    time: new Date().toISOString(),
    checkpoint: { covers: head.seq, head: head.hash, keyId: signer.keyId, alg: "Ed25519", sig: signer.sign(checkpointMessage(head.chain, head.seq, head.hash)) },
  };
}
