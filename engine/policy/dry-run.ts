/**
 * Dry run and replay: what a rule set would decide, without a gateway and without calling
 * anything. Dry run explains one hypothetical call; replay runs a draft rule set over recorded
 * calls and reports every decision that would change, and how.
 */
import type { Metadata } from "../auth/identity.js";
import type { PolicyTarget } from "../config/types.js";
import type { CompiledPolicy, Explanation, PolicyInput } from "./compile-policy.js";

/** A call as a person or a record describes it: plain data, every input optional but the name. */
export interface HypotheticalCall {
  readonly tenant: string;
  readonly target?: PolicyTarget;
  readonly name: string;
  readonly user?: string;
  readonly metadata?: Metadata;
  readonly connection?: string;
  readonly args?: Readonly<Record<string, unknown>>;
  readonly sourceIp?: string;
  readonly findings?: readonly string[];
  readonly tokens?: { readonly in: number; readonly out: number };
  readonly usage?: Readonly<Record<string, { readonly used: number; readonly limit: number }>>;
  /** ISO time or epoch milliseconds; time conditions see it. */
  readonly time?: string | number;
}

export function toInput(call: HypotheticalCall): PolicyInput {
  const usage = call.usage ?? {};
  return {
    tenant: call.tenant,
    user: call.user,
    metadata: call.metadata ?? {},
    connection: call.connection ?? "",
    target: call.target ?? "mcp.tool",
    name: call.name,
    sourceIp: call.sourceIp,
    args: call.args,
    findings: call.findings === undefined ? undefined : new Set(call.findings),
    tokens: call.tokens,
    usage: (id) => usage[id],
    now: call.time === undefined ? undefined : typeof call.time === "number" ? call.time : Date.parse(call.time),
  };
}

export function dryRun(policy: CompiledPolicy, call: HypotheticalCall): Explanation {
  return policy.explain(toInput(call));
}

/** A recorded call and what was decided for it then. */
export interface RecordedCall {
  readonly call: HypotheticalCall;
  readonly decision: { readonly action: string; readonly ruleId: string };
  readonly traceId?: string;
}

export interface ChangedDecision {
  readonly traceId: string | undefined;
  readonly call: HypotheticalCall;
  readonly before: { readonly action: string; readonly ruleId: string };
  readonly after: { readonly action: string; readonly ruleId: string; readonly reason: string };
}

export interface ReplayReport {
  readonly total: number;
  readonly unchanged: number;
  readonly changed: readonly ChangedDecision[];
  /** Counts per transition, e.g. "allow → deny": 3. */
  readonly transitions: Readonly<Record<string, number>>;
  /** Calls whose tenant has no rules in the draft (decided by default deny). */
  readonly unknownTenants: readonly string[];
}

export function replay(draft: ReadonlyMap<string, CompiledPolicy>, calls: readonly RecordedCall[]): ReplayReport {
  const changed: ChangedDecision[] = [];
  const transitions: Record<string, number> = {};
  const unknown = new Set<string>();
  for (const recorded of calls) {
    const policy = draft.get(recorded.call.tenant);
    if (policy === undefined) unknown.add(recorded.call.tenant);
    const after = policy?.evaluate(toInput(recorded.call)) ?? {
      action: "deny",
      ruleId: "default-deny",
      reason: `tenant "${recorded.call.tenant}" has no rules in the draft (deny by default)`,
    };
    // A different rule with the same action is a change too: the reason the call is allowed
    // or refused moved, which is what a reviewer of a rule change needs to see.
    if (after.action === recorded.decision.action && after.ruleId === recorded.decision.ruleId) continue;
    changed.push({ traceId: recorded.traceId, call: recorded.call, before: recorded.decision, after: { action: after.action, ruleId: after.ruleId, reason: after.reason } });
    const key = `${recorded.decision.action} → ${after.action}`;
    transitions[key] = (transitions[key] ?? 0) + 1;
  }
  return { total: calls.length, unchanged: calls.length - changed.length, changed, transitions, unknownTenants: [...unknown] };
}
