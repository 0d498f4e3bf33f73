/**
 * Building blocks for audit tests: a signer, sealed chains of call records, and an audit log
 * over a temporary spool. Real files, real crypto; nothing is mocked.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, type AuditLogOptions } from "../../engine/audit/audit-log.js";
import { CallTrace } from "../../engine/audit/call-trace.js";
import { GENESIS_HASH, seal, type ChainHead } from "../../engine/audit/chain.js";
import type { AuditRecord, UnsealedRecord } from "../../engine/audit/record.js";
import type { Shipper } from "../../engine/audit/shipper.js";
import { ed25519Signer, ed25519Verifier, type SignatureVerifier, type Signer } from "../../engine/audit/signer.js";
import { Spool } from "../../engine/audit/spool.js";

export function testKeys(): { signer: Signer; verifier: SignatureVerifier; keys: Map<string, SignatureVerifier> } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const signer = ed25519Signer(privateKey);
  const verifier = ed25519Verifier(publicKey.export({ type: "spki", format: "pem" }).toString());
  return { signer, verifier, keys: new Map([[verifier.keyId, verifier]]) };
}

export const tempDir = (prefix = "sentinel-audit-test-"): string => mkdtempSync(join(tmpdir(), prefix));

export function callRecord(i: number, extra: Partial<UnsealedRecord> = {}): UnsealedRecord {
  return {
    v: 1,
    kind: "call",
    id: `trace-${i}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
    tenant: i % 2 === 0 ? "acme" : "globex",
    user: `user-${i % 3}`,
    name: i % 4 === 0 ? "repo.delete" : "repo.read",
    target: "mcp.tool",
    decision: i % 4 === 0 ? "deny" : "allow",
    outcome: { status: "ok", httpStatus: 200 },
    timings: { total: 100 + i },
    ...extra,
  };
}

/** A sealed chain of `n` call records, without checkpoints. */
export function sealedChain(n: number, chain = "chain-a"): AuditRecord[] {
  let head: ChainHead = { chain, seq: 0, hash: GENESIS_HASH };
  const out: AuditRecord[] = [];
  for (let i = 1; i <= n; i++) {
    const { record } = seal(callRecord(i), head);
    head = { chain, seq: record.seq, hash: record.hash };
    out.push(record);
  }
  return out;
}

/** A call as the pipeline records it: identity, decision, outcome, timings, arguments. Shared by tests and bench/micro/audit.bench.ts. */
export function traceFor(i: number, fill: Partial<CallTrace> = {}): CallTrace {
  const t = new CallTrace(`trace-${i}`, 0);
  t.tenant = "acme";
  t.keyId = "ci-agent";
  t.user = "alice@acme.com";
  t.role = "developer";
  t.session = "7d0c5a0e-3b8e-4d43-9d3c-2b8f0d7f6a11";
  t.connection = "github-prod";
  t.method = "tools/call";
  t.target = "mcp.tool";
  t.name = i % 10 === 0 ? "repo.delete" : "repo.read";
  t.decision = i % 10 === 0 ? "deny" : "allow";
  t.ruleId = i % 10 === 0 ? "deletes-admin-only" : "repo-read-developers";
  t.reason = `${t.decision === "deny" ? "denied" : "allowed"} by rule "${t.ruleId}"`;
  t.args = { repo: "acme/api", ref: "main", paths: ["src/index.ts", "README.md"] };
  t.outcome = { httpStatus: 200, status: "ok" };
  t.resolveUs = 4;
  t.policyUs = 2;
  t.forwardUs = 850;
  t.totalUs = 870;
  Object.assign(t, fill);
  return t;
}

export const LOG_DEFAULTS: AuditLogOptions = {
  argumentsMode: "redacted",
  durability: "written",
  checkpointEvery: 100,
  checkpointIntervalMs: 60_000,
  maxSpoolBytes: 1 << 30,
  log: () => undefined,
};

export function openTestLog(dir: string, signer: Signer, options: Partial<AuditLogOptions> = {}, shippers: Shipper[] = []): AuditLog {
  const spool = Spool.open(dir, { segmentBytes: 1 << 20 });
  return new AuditLog(spool, signer, { ...LOG_DEFAULTS, ...options }, shippers);
}
