/**
 * Trying rules before pushing them: `dryRun` explains what the live rules (or a draft) decide
 * for one hypothetical call, rule by rule; `replay` runs a draft over calls recorded in the audit
 * store and reports every decision that would change (engine/policy/dry-run.ts does both).
 */
import { queryAudit } from "../../engine/audit/query.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import type { PolicyConfig, PolicyTarget as Target } from "../../engine/config/types.js";
import { compileDocument } from "../../engine/config-store/config-document.js";
import { SentinelConfigError } from "../../engine/errors.js";
import { compilePolicy, PolicyRuleError, type CompiledPolicy, type Explanation } from "../../engine/policy/compile-policy.js";
import { dryRun, replay, type RecordedCall, type ReplayReport } from "../../engine/policy/dry-run.js";
import { builder } from "../builder.js";
import type { AdminContext } from "../context.js";
import { fromConfigError, invalid } from "../errors.js";
import { PolicyAction, PolicyInput, PolicyTarget, toPolicy } from "./policies.js";
import { currentTenant } from "./tenants.js";

const POLICY_ACTIONS = new Set(["allow", "deny", "alert", "redact", "confirm"]);

const CallInput = builder.inputType("CallInput", {
  description: "A hypothetical call; every input but the name is optional.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Tool, resource, prompt or model name." }),
    target: t.field({ type: PolicyTarget, defaultValue: "mcp.tool" }),
    user: t.string(),
    metadata: t.field({ type: "JSON", description: 'Flat object: { "role": "developer" }.' }),
    connection: t.string(),
    args: t.field({ type: "JSON" }),
    sourceIp: t.string(),
    findings: t.stringList({ description: "Content Guard pattern ids that matched." }),
    tokensIn: t.int(),
    tokensOut: t.int(),
    time: t.field({ type: "DateTime" }),
  }),
});

const TraceStep = builder.objectRef<Explanation["trace"][number]>("TraceStep").implement({
  fields: (t) => ({ ruleId: t.exposeString("ruleId"), outcome: t.exposeString("outcome"), detail: t.exposeString("detail") }),
});

const DryRun = builder.objectRef<Explanation>("DryRun").implement({
  fields: (t) => ({
    action: t.field({ type: PolicyAction, resolve: (e) => e.decision.action }),
    ruleId: t.string({ resolve: (e) => e.decision.ruleId }),
    reason: t.string({ resolve: (e) => e.decision.reason }),
    permitted: t.boolean({ resolve: (e) => e.decision.permitted }),
    matched: t.stringList({ description: "The deciding rule's conditions that held.", resolve: (e) => [...e.decision.matched] }),
    trace: t.field({ type: [TraceStep], description: "Every rule for the call's target, in evaluation order, up to the one that decided.", resolve: (e) => [...e.trace] }),
  }),
});

const Decided = builder.objectRef<{ action: string; ruleId: string; reason?: string }>("DecidedAs").implement({
  fields: (t) => ({ action: t.exposeString("action"), ruleId: t.exposeString("ruleId"), reason: t.exposeString("reason", { nullable: true }) }),
});
const Changed = builder.objectRef<ReplayReport["changed"][number]>("ReplayChange").implement({
  fields: (t) => ({
    traceId: t.exposeString("traceId", { nullable: true }),
    name: t.string({ resolve: (c) => c.call.name }),
    target: t.string({ resolve: (c) => c.call.target ?? "mcp.tool" }),
    user: t.string({ nullable: true, resolve: (c) => c.call.user ?? null }),
    before: t.field({ type: Decided, resolve: (c) => c.before }),
    after: t.field({ type: Decided, resolve: (c) => c.after }),
  }),
});
const Transition = builder.objectRef<{ transition: string; count: number }>("ReplayTransition").implement({
  fields: (t) => ({ transition: t.exposeString("transition", { description: "`allow → deny`" }), count: t.exposeInt("count") }),
});
const Replay = builder.objectRef<ReplayReport>("Replay").implement({
  fields: (t) => ({
    total: t.exposeInt("total", { description: "Recorded calls replayed." }),
    unchanged: t.exposeInt("unchanged"),
    transitions: t.field({ type: [Transition], resolve: (r) => Object.entries(r.transitions).map(([transition, count]) => ({ transition, count })) }),
    changed: t.field({ type: [Changed], resolve: (r) => [...r.changed] }),
  }),
});

/** The tenant's live rules, compiled as gateways compile them. */
async function livePolicy(ctx: AdminContext, tenant: string): Promise<CompiledPolicy> {
  await currentTenant(ctx, tenant);
  try {
    return compileDocument(await ctx.document(), "config").tenants.get(tenant)!.policy;
  } catch (err) {
    if (err instanceof SentinelConfigError) throw fromConfigError(err, undefined);
    throw err;
  }
}

async function draftPolicy(ctx: AdminContext, draft: PolicyConfig[]): Promise<CompiledPolicy> {
  const server = (await ctx.document()).server as { environment?: string } | undefined;
  try {
    return compilePolicy(draft, { environment: server?.environment });
  } catch (err) {
    if (err instanceof PolicyRuleError) throw invalid(`draft[${err.index}].${err.path}: ${err.message}`, { field: `draft[${err.index}].${err.path}` });
    throw err;
  }
}

/** A call record as replay input: what policy saw then, as far as the audit kept it. */
function recordedCall(r: AuditRecord): RecordedCall | undefined {
  if (r.tenant === undefined || r.name === undefined || r.decision === undefined || r.ruleId === undefined || !POLICY_ACTIONS.has(r.decision)) return undefined;
  return {
    call: {
      tenant: r.tenant,
      name: r.name,
      target: (r.target ?? "mcp.tool") as Target,
      user: r.user,
      metadata: r.role === undefined ? {} : { role: r.role },
      connection: r.connection,
      args: typeof r.arguments === "object" && r.arguments !== null ? (r.arguments as Record<string, unknown>) : undefined,
      findings: r.findings?.map((f) => f.type),
      // Policy judged the call before its result existed: it saw the input count and out 0.
      tokens: r.tokens?.in === undefined ? undefined : { in: r.tokens.in, out: 0 },
      time: r.time,
    },
    decision: { action: r.decision, ruleId: r.ruleId },
    traceId: r.id,
  };
}

builder.queryFields((t) => ({
  dryRun: t.field({
    type: DryRun,
    authScopes: (_root, args) => ({ tenantReader: String(args.tenant) }),
    description: "What the tenant's live rules (or `draft`) decide for a call, and why.",
    args: { tenant: t.arg.id({ required: true }), call: t.arg({ type: CallInput, required: true }), draft: t.arg({ type: [PolicyInput] }) },
    resolve: async (_root, args, ctx) => {
      const tenant = String(args.tenant);
      const policy = args.draft == null ? await livePolicy(ctx, tenant) : await draftPolicy(ctx, args.draft.map(toPolicy));
      const c = args.call;
      return dryRun(policy, {
        tenant,
        name: c.name,
        target: (c.target ?? "mcp.tool") as Target,
        user: c.user ?? undefined,
        metadata: (c.metadata ?? {}) as never,
        connection: c.connection ?? undefined,
        args: (c.args ?? undefined) as Record<string, unknown> | undefined,
        sourceIp: c.sourceIp ?? undefined,
        findings: c.findings ?? undefined,
        tokens: c.tokensIn == null && c.tokensOut == null ? undefined : { in: c.tokensIn ?? 0, out: c.tokensOut ?? 0 },
        time: c.time ?? undefined,
      });
    },
  }),
  replay: t.field({
    type: Replay,
    authScopes: (_root, args) => ({ tenantReader: String(args.tenant) }),
    description:
      "Runs `draft` over the tenant's recorded calls (the audit store, newest first) and reports the decisions that would change. Policy saw what the audit kept: the role of the caller's metadata, arguments per `audit.arguments`.",
    args: {
      tenant: t.arg.id({ required: true }),
      draft: t.arg({ type: [PolicyInput], required: true }),
      last: t.arg.int({ defaultValue: 1000, description: "At most this many recorded calls (up to 100,000)." }),
      from: t.arg({ type: "DateTime" }),
      to: t.arg({ type: "DateTime" }),
    },
    resolve: async (_root, args, ctx) => {
      const tenant = String(args.tenant);
      await currentTenant(ctx, tenant);
      const policy = await draftPolicy(ctx, args.draft.map(toPolicy));
      const want = Math.min(Math.max(args.last ?? 1000, 1), 100_000);
      const calls: RecordedCall[] = [];
      let cursor: string | undefined;
      do {
        const page = await queryAudit(ctx.services.store, { tenant, kind: "call", from: args.from ?? undefined, to: args.to ?? undefined, limit: 1000, cursor });
        for (const r of page.records) {
          const call = recordedCall(r);
          if (call !== undefined && calls.length < want) calls.push(call);
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined && calls.length < want);
      return replay(new Map([[tenant, policy]]), calls);
    },
  }),
}));
