/**
 * Reads recorded calls for replay from JSON Lines: either the replay shape
 * `{ "call": {…}, "decision": { "action", "ruleId" }, "traceId" }` or an audit record as the
 * audit store and the Kafka feed carry it (`kind: "call"`, `id`, `tenant`, `user`, `metadata` |
 * `role`, `connection`, `target`, `name`, `arguments`, `decision`, `ruleId`, `time`). Audit
 * records of calls no policy decided (`refuse`, `pass`) and of admin changes are skipped.
 * A bad line is an error naming its number.
 */
import type { Metadata } from "../auth/identity.js";
import type { PolicyTarget } from "../config/types.js";
import type { RecordedCall } from "./dry-run.js";

export class RecordedCallError extends Error {
  override readonly name = "RecordedCallError";
}

export function parseRecordedCalls(text: string, source: string): RecordedCall[] {
  const out: RecordedCall[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new RecordedCallError(`${source}:${i + 1}: not valid JSON`);
    }
    const recorded = toRecorded(value);
    if (typeof recorded === "string") throw new RecordedCallError(`${source}:${i + 1}: ${recorded}`);
    if (recorded !== undefined) out.push(recorded);
  });
  return out;
}

const POLICY_ACTIONS = new Set(["allow", "deny", "alert", "redact", "confirm"]);

/** Audit records (from the store or the Kafka feed) as replayable calls. */
export function fromAuditRecords(records: ReadonlyArray<Record<string, unknown>>): RecordedCall[] {
  return records.map(toRecorded).filter((r): r is RecordedCall => r !== undefined && typeof r !== "string");
}

function toRecorded(v: Record<string, unknown>): RecordedCall | string | undefined {
  // Audit records: only calls that policy decided can be replayed against another policy.
  if (typeof v.kind === "string" && (v.kind !== "call" || !POLICY_ACTIONS.has(String(v.decision)))) return undefined;
  if (typeof v.call === "object" && v.call !== null) {
    const decision = v.decision as { action?: unknown; ruleId?: unknown } | undefined;
    if (typeof decision?.action !== "string" || typeof decision.ruleId !== "string") return 'needs "decision": { "action", "ruleId" }';
    const call = v.call as RecordedCall["call"];
    if (typeof call.tenant !== "string" || typeof call.name !== "string") return 'the call needs "tenant" and "name"';
    return { call, decision: { action: decision.action, ruleId: decision.ruleId }, traceId: typeof v.traceId === "string" ? v.traceId : undefined };
  }
  if (typeof v.tenant !== "string" || typeof v.name !== "string") return 'needs "tenant" and "name"';
  const action = typeof v.decision === "string" ? v.decision : (v.decision as { action?: unknown } | undefined)?.action;
  const ruleId = typeof v.ruleId === "string" ? v.ruleId : (v.decision as { ruleId?: unknown } | undefined)?.ruleId;
  if (typeof action !== "string" || typeof ruleId !== "string") return 'needs "decision" and "ruleId"';
  const metadata = (typeof v.metadata === "object" && v.metadata !== null ? v.metadata : typeof v.role === "string" ? { role: v.role } : {}) as Metadata;
  return {
    call: {
      tenant: v.tenant,
      name: v.name,
      target: (typeof v.target === "string" ? v.target : "mcp.tool") as PolicyTarget,
      user: typeof v.user === "string" ? v.user : undefined,
      metadata,
      connection: typeof v.connection === "string" ? v.connection : undefined,
      args: objectOr(v.args ?? v.arguments),
      sourceIp: typeof v.sourceIp === "string" ? v.sourceIp : undefined,
      time: typeof v.time === "string" || typeof v.time === "number" ? v.time : undefined,
    },
    decision: { action, ruleId },
    traceId: typeof v.traceId === "string" ? v.traceId : typeof v.id === "string" ? v.id : undefined,
  };
}

const objectOr = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
