/**
 * `sentinel policy test` and `sentinel policy replay`.
 *
 *   sentinel policy test   [-f FILE | --data-dir DIR] --tenant T --name N [--target mcp.tool]
 *                          [--user U] [--meta key=value …] [--connection C] [--args JSON]
 *                          [--ip IP] [--tokens-in N] [--tokens-out N] [--time ISO] [--json]
 *   sentinel policy replay -f DRAFT --calls CALLS.jsonl [--last N] [--json]
 *   sentinel policy replay -f DRAFT --from-audit --tenant T [--last N] [--data-dir DIR | --database-url URL]
 *
 * `test` explains one hypothetical call against the live config (the data dir's) or a draft;
 * `replay` runs a draft over recorded calls (a JSON Lines file, or the last N calls in the audit
 * store) and lists the decisions that would change.
 * Exit status: test 0 when the call would be permitted, 1 when refused; replay 0 when nothing
 * changes, 1 when something would.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveAudit } from "../audit/audit-config.js";
import { queryAudit } from "../audit/query.js";
import { openStore, type StoreSpec } from "../store/open-store.js";
import { loadConfigFile } from "../config/load-config.js";
import type { PolicyTarget } from "../config/types.js";
import { dryRun, replay, type HypotheticalCall } from "../policy/dry-run.js";
import { compilePolicySource } from "../policy/policy-snapshot.js";
import { fromAuditRecords, parseRecordedCalls } from "../policy/recorded-calls.js";
import { activeConfigPath } from "./data-dir.js";
import { loadDataDirConfig } from "./live-config.js";

const TARGETS = ["mcp.tool", "mcp.resource", "mcp.prompt", "llm.model", "llm.endpoint"];

export class PolicyUsageError extends Error {}

export async function runPolicyCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: "string", short: "f" },
      "data-dir": { type: "string", default: ".sentinel" },
      tenant: { type: "string" },
      name: { type: "string" },
      tool: { type: "string" },
      target: { type: "string", default: "mcp.tool" },
      user: { type: "string" },
      meta: { type: "string", multiple: true },
      connection: { type: "string" },
      args: { type: "string" },
      ip: { type: "string" },
      "tokens-in": { type: "string" },
      "tokens-out": { type: "string" },
      time: { type: "string" },
      calls: { type: "string" },
      "from-audit": { type: "boolean", default: false },
      "database-url": { type: "string" },
      last: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const file = values.file ?? `the live config of ${values["data-dir"]}`;
  const config = values.file !== undefined ? loadConfigFile(values.file) : await loadDataDirConfig(values["data-dir"]);
  const policies = compilePolicySource({
    environment: config.server.environment,
    tenants: config.tenants.map((t) => ({ id: t.id, policies: t.policies ?? [] })),
  });

  switch (positionals[0]) {
    case "test": {
      const name = values.name ?? values.tool;
      if (values.tenant === undefined || name === undefined) throw new PolicyUsageError("policy test needs --tenant and --name (or --tool)");
      if (!TARGETS.includes(values.target)) throw new PolicyUsageError(`--target must be one of ${TARGETS.join(", ")}`);
      const policy = policies.get(values.tenant);
      if (policy === undefined) throw new PolicyUsageError(`${file} has no tenant "${values.tenant}"`);
      const call: HypotheticalCall = {
        tenant: values.tenant,
        target: values.target as PolicyTarget,
        name,
        user: values.user,
        metadata: Object.fromEntries((values.meta ?? []).map(splitMeta)),
        connection: values.connection,
        args: values.args === undefined ? undefined : parseJsonObject(values.args, "--args"),
        sourceIp: values.ip,
        tokens: values["tokens-in"] === undefined && values["tokens-out"] === undefined ? undefined : { in: Number(values["tokens-in"] ?? 0), out: Number(values["tokens-out"] ?? 0) },
        time: values.time,
      };
      const { decision, trace } = dryRun(policy, call);
      if (values.json) out(JSON.stringify({ decision, trace }, null, 2) + "\n");
      else {
        out(`${decision.action.toUpperCase()}  ${values.target} "${name}"  rule ${decision.ruleId}\n  ${decision.reason}\n\ntrace:\n`);
        for (const step of trace) out(`  ${step.ruleId.padEnd(28)} ${step.outcome.padEnd(22)} ${step.detail}\n`);
      }
      return decision.permitted ? 0 : 1;
    }
    case "replay": {
      if (values.file === undefined || (values.calls === undefined) === !values["from-audit"]) {
        throw new PolicyUsageError("policy replay needs -f DRAFT and either --calls FILE or --from-audit --tenant T");
      }
      const last = values.last === undefined ? undefined : Number(values.last);
      if (last !== undefined && (!Number.isInteger(last) || last < 1)) throw new PolicyUsageError("--last takes a positive whole number");
      let calls;
      if (values["from-audit"]) {
        if (values.tenant === undefined) throw new PolicyUsageError("--from-audit needs --tenant");
        calls = await auditedCalls(values["data-dir"], values["database-url"], values.tenant, last ?? 1000);
      } else {
        calls = parseRecordedCalls(readFileSync(values.calls!, "utf8"), values.calls!);
        if (last !== undefined) calls = calls.slice(-last);
      }
      const report = replay(policies, calls);
      if (values.json) out(JSON.stringify(report, null, 2) + "\n");
      else {
        out(`${report.total} calls replayed against ${values.file}: ${report.changed.length} would change, ${report.unchanged} unchanged\n`);
        for (const [transition, n] of Object.entries(report.transitions)) out(`  ${transition}: ${n}\n`);
        for (const c of report.changed) {
          out(`  ${c.traceId ?? "-"}  ${c.call.target ?? "mcp.tool"} "${c.call.name}" by ${c.call.user ?? "?"}: ${c.before.action} (${c.before.ruleId}) → ${c.after.action} (${c.after.ruleId})\n`);
        }
      }
      return report.changed.length === 0 ? 0 : 1;
    }
    default:
      throw new PolicyUsageError("usage: sentinel policy test|replay …");
  }
}

/** The tenant's last `n` policy-decided calls from the audit store, oldest first. */
async function auditedCalls(dataDir: string, databaseUrl: string | undefined, tenant: string, n: number) {
  let spec: StoreSpec | undefined;
  if (databaseUrl !== undefined) spec = { kind: "postgres", url: databaseUrl };
  else {
    const live = activeConfigPath(dataDir);
    const audit = existsSync(live) ? loadConfigFile(live).audit : undefined;
    spec = resolveAudit(audit, resolve(dataDir), "embedded")?.store;
  }
  if (spec === undefined) throw new PolicyUsageError("no audit store is configured; pass --database-url");
  const store = await openStore(spec);
  try {
    const records: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    // Pages come newest first; calls no policy decided are skipped, so page until n are found.
    while (records.length < n) {
      const page = await queryAudit(store, { tenant, kind: "call", limit: 1000, cursor });
      for (const r of page.records) if (records.length < n) records.push(r as unknown as Record<string, unknown>);
      if (page.nextCursor === undefined) break;
      cursor = page.nextCursor;
    }
    return fromAuditRecords(records.reverse()).slice(-n);
  } finally {
    await store.close();
  }
}

function splitMeta(pair: string): [string, string] {
  const eq = pair.indexOf("=");
  if (eq <= 0) throw new PolicyUsageError(`--meta takes key=value, not "${pair}"`);
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}

function parseJsonObject(text: string, flag: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new PolicyUsageError(`${flag} is not valid JSON`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new PolicyUsageError(`${flag} must be a JSON object`);
  return v as Record<string, unknown>;
}
