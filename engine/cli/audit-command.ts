/**
 * `sentinel audit …` and `sentinel migrate`.
 *
 *   sentinel audit verify [--source spool|store|kafka-file] [FILE] [--from N|ISO] [--to N|ISO]
 *                         [--public-key PEM …] [--require-signed] [--json]
 *   sentinel audit query --tenant T [--from ISO] [--to ISO] [--user U] [--tool NAME]
 *                        [--decision D] [--limit N] [--cursor C]
 *   sentinel audit dead-letters list|replay [--id ID]
 *   sentinel audit export-kafka --brokers B --topic T --out FILE [--timeout-ms N]
 *   sentinel migrate
 *
 * Common: --data-dir DIR (default .sentinel), --config FILE (default the data dir's active
 * config), --dir AUDIT_DIR, --database-url URL (the store is Postgres instead of the config's).
 * Exit status: 0 success, 1 verification failed (or a dead letter still failing), 2 usage.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { makeChannel } from "../audit/alerts/channels.js";
import { listDeadLetters, markResolved } from "../audit/alerts/dead-letter.js";
import { deliverAlert } from "../audit/alerts/deliver.js";
import { resolveAudit, type ResolvedAudit } from "../audit/audit-config.js";
import { exportKafkaTopic } from "../audit/kafka-export.js";
import { queryAudit } from "../audit/query.js";
import { ed25519Verifiers, publicKeyPath, type SignatureVerifier } from "../audit/signer.js";
import { ChainVerifier, formatReport } from "../audit/verify.js";
import { verifyKafkaFile, verifySpool, verifyStore } from "../audit/verify-sources.js";
import { loadConfigFile } from "../config/load-config.js";
import type { SentinelConfig } from "../config/types.js";
import { migrate } from "../store/migrate.js";
import { openRawStore, openStore, type StoreSpec } from "../store/open-store.js";
import { activeConfigPath } from "./data-dir.js";

export class AuditUsageError extends Error {}

const OPTIONS = {
  "data-dir": { type: "string", default: ".sentinel" },
  config: { type: "string" },
  dir: { type: "string" },
  "database-url": { type: "string" },
  source: { type: "string", default: "spool" },
  from: { type: "string" },
  to: { type: "string" },
  "public-key": { type: "string", multiple: true },
  "require-signed": { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  tenant: { type: "string" },
  user: { type: "string" },
  tool: { type: "string" },
  decision: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  id: { type: "string" },
  brokers: { type: "string" },
  topic: { type: "string" },
  out: { type: "string" },
  "timeout-ms": { type: "string", default: "10000" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

function loadConfig(v: Values): SentinelConfig | undefined {
  const file = v.config ?? activeConfigPath(resolve(v["data-dir"]));
  if (v.config === undefined && !existsSync(file)) return undefined;
  return loadConfigFile(file);
}

function auditSettings(v: Values): ResolvedAudit {
  const resolved = resolveAudit(loadConfig(v)?.audit, resolve(v["data-dir"]), "embedded");
  if (resolved === undefined) throw new AuditUsageError("audit is disabled in this config (audit.enabled: false)");
  return v.dir === undefined ? resolved : { ...resolved, dir: resolve(v.dir), signingKeyFile: resolve(v.dir, "signing-key.pem") };
}

function storeSpec(v: Values): StoreSpec {
  if (v["database-url"] !== undefined) return { kind: "postgres", url: v["database-url"] };
  const spec = auditSettings(v).store;
  if (spec === undefined) throw new AuditUsageError("no store is configured (audit.sinks.store); pass --database-url");
  return spec;
}

function verifiers(v: Values): Map<string, SignatureVerifier> {
  const files = v["public-key"] ?? [publicKeyPath(auditSettings(v).signingKeyFile)];
  const out = new Map<string, SignatureVerifier>();
  for (const f of files) {
    if (!existsSync(f)) throw new AuditUsageError(`no public key at ${f}; pass --public-key FILE`);
    // A spool's list holds every key it has signed with, one PEM block each.
    for (const key of ed25519Verifiers(readFileSync(f, "utf8"))) out.set(key.keyId, key);
  }
  return out;
}

function bound(text: string | undefined, which: "from" | "to"): { seq?: number; time?: string } {
  if (text === undefined) return {};
  if (/^\d+$/.test(text)) return { seq: Number(text) };
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new AuditUsageError(`--${which} takes a seq number or an ISO time, not "${text}"`);
  return { time: new Date(t).toISOString() };
}

async function verify(v: Values, positionals: string[], out: (s: string) => void): Promise<number> {
  const from = bound(v.from, "from");
  const to = bound(v.to, "to");
  const verifier = new ChainVerifier(verifiers(v), { fromSeq: from.seq, toSeq: to.seq, fromTime: from.time, toTime: to.time }, v["require-signed"]);
  const warnings: string[] = [];
  switch (v.source) {
    case "spool":
      verifySpool(auditSettings(v).dir, verifier, warnings);
      break;
    case "store": {
      const store = await openStore(storeSpec(v));
      try {
        await verifyStore(store, verifier);
      } finally {
        await store.close();
      }
      break;
    }
    case "kafka-file": {
      const file = positionals[0];
      if (file === undefined) throw new AuditUsageError("--source kafka-file needs the exported FILE (sentinel audit export-kafka)");
      verifyKafkaFile(file, verifier, warnings);
      break;
    }
    default:
      throw new AuditUsageError(`--source must be spool, store or kafka-file, not "${v.source}"`);
  }
  const report = verifier.report();
  report.warnings.push(...warnings);
  out((v.json ? JSON.stringify(report, null, 2) : formatReport(report)) + "\n");
  return report.ok ? 0 : 1;
}

async function deadLetters(v: Values, sub: string | undefined, out: (s: string) => void): Promise<number> {
  const settings = auditSettings(v);
  const entries = listDeadLetters(settings.dir).filter((e) => v.id === undefined || e.id === v.id);
  if (sub === "list") {
    if (v.json) out(JSON.stringify(entries, null, 2) + "\n");
    else if (entries.length === 0) out("no dead letters\n");
    else for (const e of entries) out(`${e.id}  ${e.channel}  ${e.failedAt}  ${e.attempts} attempts  ${e.error}\n    ${e.alert.title}\n`);
    return 0;
  }
  if (sub !== "replay") throw new AuditUsageError("usage: sentinel audit dead-letters list|replay [--id ID]");
  const channels = new Map((settings.alerts?.channels ?? []).map((c) => [c.id, makeChannel(c)]));
  let failed = 0;
  for (const e of entries) {
    const channel = channels.get(e.channel);
    if (channel === undefined) {
      out(`${e.id}: channel ${e.channel} is no longer configured; kept\n`);
      failed++;
      continue;
    }
    const result = await deliverAlert(channel, e.alert, settings.alerts!.retry);
    if (result.ok) {
      markResolved(settings.dir, e.id);
      out(`${e.id}: delivered to ${e.channel}\n`);
    } else {
      failed++;
      out(`${e.id}: still failing (${result.error}); kept\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

export async function runAuditCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, sub, ...rest] = positionals;
  switch (command) {
    case "verify":
      return verify(v, sub === undefined ? rest : [sub, ...rest], out);
    case "dead-letters":
      return deadLetters(v, sub, out);
    case "query": {
      if (v.tenant === undefined) throw new AuditUsageError("audit query needs --tenant");
      const store = await openStore(storeSpec(v));
      try {
        const page = await queryAudit(store, {
          tenant: v.tenant, from: v.from, to: v.to, user: v.user, name: v.tool, cursor: v.cursor,
          decision: v.decision as never, limit: v.limit === undefined ? undefined : Number(v.limit),
        });
        for (const r of page.records) out(JSON.stringify(r) + "\n");
        if (page.nextCursor !== undefined) process.stderr.write(`next page: --cursor ${page.nextCursor}\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    case "export-kafka": {
      if (v.brokers === undefined || v.topic === undefined || v.out === undefined) throw new AuditUsageError("export-kafka needs --brokers, --topic and --out");
      const n = await exportKafkaTopic({ brokers: v.brokers, topic: v.topic, file: v.out, timeoutMs: Number(v["timeout-ms"]) });
      out(`exported ${n} records from ${v.topic} to ${v.out}\n`);
      return 0;
    }
    default:
      throw new AuditUsageError("usage: sentinel audit verify|query|dead-letters|export-kafka … (see sentinel --help)");
  }
}

export async function runMigrateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
  const spec = storeSpec(v);
  const store = await openRawStore(spec).catch(async (err: Error) => {
    throw new Error(`cannot open the ${spec.kind} store: ${err.message}`);
  });
  try {
    const applied = await migrate(store);
    out(applied.length === 0 ? `the ${spec.kind} store is up to date\n` : `applied ${applied.join(", ")} to the ${spec.kind} store\n`);
  } finally {
    await store.close();
  }
  return 0;
}
