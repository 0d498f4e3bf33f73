/**
 * Policies: a tenant's rules, first match wins, deny by default. CRUD, reorder and
 * enable/disable change one rule; `pushPolicies` replaces the whole rule set at once (the end
 * of a draft → dry run → replay → push review); every change is a config version, so each
 * rule has a history and can be rolled back to how it was in any version.
 */
import { canonicalJson } from "../../engine/audit/canonical.js";
import type { AnyOfConfig, ConditionConfig, PolicyConfig } from "../../engine/config/types.js";
import { deleteTenantItem } from "../tenant-items.js";
import { builder, changePayload } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import type { AdminContext } from "../context.js";
import { addItem, applyPatch, compact, findItem, findTenant, listOf, maybeTenant, pick } from "../document.js";
import { invalid, notFound } from "../errors.js";
import { TenantRef, currentTenant } from "./tenants.js";

export const PolicyTarget = builder.enumType("PolicyTarget", {
  values: {
    MCP_TOOL: { value: "mcp.tool" },
    MCP_RESOURCE: { value: "mcp.resource" },
    MCP_PROMPT: { value: "mcp.prompt" },
    LLM_MODEL: { value: "llm.model" },
    LLM_ENDPOINT: { value: "llm.endpoint" },
  } as const,
});
export const PolicyAction = builder.enumType("PolicyAction", { values: ["allow", "deny", "alert", "redact", "confirm"] as const });
const ConditionOp = builder.enumType("ConditionOp", {
  values: ["eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "between", "contains", "startsWith", "endsWith", "matches", "glob", "exists", "cidr"] as const,
});

type Condition = ConditionConfig | AnyOfConfig;

const ConditionRef = builder.objectRef<Condition>("Condition");
ConditionRef.implement({
  description: "A condition (`field` `op` `value`), or `anyOf` a list of them.",
  fields: (t) => ({
    field: t.string({ nullable: true, resolve: (c) => ("field" in c ? c.field : null) }),
    op: t.field({ type: ConditionOp, nullable: true, resolve: (c) => ("op" in c ? c.op : null) }),
    value: t.field({ type: "JSON", nullable: true, resolve: (c) => ("field" in c ? (c.value ?? null) : null) }),
    anyOf: t.field({ type: [ConditionRef], nullable: true, resolve: (c) => ("anyOf" in c ? c.anyOf : null) }),
  }),
});

export const PolicyRef = builder.objectRef<PolicyConfig>("Policy").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    description: t.exposeString("description", { nullable: true }),
    target: t.field({ type: PolicyTarget, resolve: (p) => p.target }),
    pattern: t.exposeString("pattern", { description: "A glob on the canonical name." }),
    conditions: t.field({ type: [ConditionRef], resolve: (p) => p.conditions ?? [] }),
    action: t.field({ type: PolicyAction, resolve: (p) => p.action }),
    order: t.exposeInt("order", { nullable: true }),
    enabled: t.boolean({ resolve: (p) => p.enabled !== false }),
    scope: t.field({ type: "JSON", nullable: true, resolve: (p) => p.scope ?? null }),
  }),
});

builder.objectField(TenantRef, "policies", (t) => t.field({ type: [PolicyRef], description: "In document order.", resolve: (tenant) => tenant.policies ?? [] }));

const ConditionLeafInput = builder.inputType("ConditionLeafInput", {
  fields: (t) => ({ field: t.string({ required: true }), op: t.field({ type: ConditionOp, required: true }), value: t.field({ type: "JSON" }) }),
});
const ConditionInput = builder.inputType("ConditionInput", {
  description: "Either `field`, `op` and `value`, or `anyOf`.",
  fields: (t) => ({
    field: t.string(),
    op: t.field({ type: ConditionOp }),
    value: t.field({ type: "JSON" }),
    anyOf: t.field({ type: [ConditionLeafInput] }),
  }),
});

const policyFields = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0], required: boolean) => ({
  description: t.string(),
  target: t.field({ type: PolicyTarget, required }),
  pattern: t.string({ required }),
  conditions: t.field({ type: [ConditionInput] }),
  action: t.field({ type: PolicyAction, required }),
  order: t.int({ description: "Rules run by ascending order, then document position." }),
  enabled: t.boolean(),
  scope: t.field({ type: "JSON", description: "{ org, environment }" }),
});
export const PolicyInput = builder.inputType("PolicyInput", { fields: (t) => ({ id: t.id({ required: true }), ...policyFields(t, true) }) });
const PolicyPatch = builder.inputType("PolicyPatch", { description: "Absent fields keep their value; null removes one.", fields: (t) => policyFields(t, false) });

type ConditionInputShape = { field?: string | null; op?: string | null; value?: unknown; anyOf?: Array<{ field: string; op: string; value?: unknown }> | null };

function toConditions(list: readonly ConditionInputShape[] | null | undefined, at: string): Condition[] | undefined {
  if (list == null) return undefined;
  return list.map((c, i) => {
    if (c.anyOf != null) {
      if (c.field != null || c.op != null) throw invalid(`${at}[${i}]: give either field and op, or anyOf`, { field: `conditions[${i}]` });
      return { anyOf: c.anyOf.map((leaf) => compact({ field: leaf.field, op: leaf.op, value: leaf.value ?? undefined }) as ConditionConfig) };
    }
    if (c.field == null || c.op == null) throw invalid(`${at}[${i}]: a condition needs field and op (or anyOf)`, { field: `conditions[${i}]` });
    return compact({ field: c.field, op: c.op, value: c.value ?? undefined }) as ConditionConfig;
  });
}

type PolicyInputShape = { id: string | number; conditions?: ConditionInputShape[] | null } & Record<string, unknown>;

export function toPolicy(input: PolicyInputShape): PolicyConfig {
  const conditions = toConditions(input.conditions, "conditions");
  return compact({ ...pick(input, ["description", "target", "pattern", "action", "order", "enabled", "scope"]), id: String(input.id), conditions }) as unknown as PolicyConfig;
}

const PolicyPayload = changePayload("PolicyPayload", "policy", PolicyRef);
const PoliciesPayload = builder.objectRef<{ policies: PolicyConfig[]; version: number }>("PoliciesPayload").implement({
  fields: (t) => ({ policies: t.field({ type: [PolicyRef], resolve: (p) => p.policies }), version: t.exposeInt("version") }),
});

/** Runs `fn` on the located rule of a tenant inside a config mutation. */
function onPolicy<T>(ctx: AdminContext, args: { tenant: string | number; id: string | number; expectedVersion?: number | null; comment?: string | null }, fn: (p: PolicyConfig) => T) {
  return mutateConfig(ctx, args, (doc, at) => {
    const list = listOf(findTenant(doc, String(args.tenant)), "policies");
    const found = findItem(list.items, list.path, (p) => p.id, String(args.id), "policy");
    at(found.path);
    return fn(found.item);
  });
}

const writer = (_root: unknown, args: { tenant: string | number }) => ({ tenantWriter: String(args.tenant) });
const reader = (_root: unknown, args: { tenant: string | number }) => ({ tenantReader: String(args.tenant) });

builder.queryFields((t) => ({
  policies: t.field({
    type: [PolicyRef],
    authScopes: reader,
    args: { tenant: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await currentTenant(ctx, String(args.tenant))).policies ?? [],
  }),
  policy: t.field({
    type: PolicyRef,
    authScopes: reader,
    args: { tenant: t.arg.id({ required: true }), id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) =>
      (await currentTenant(ctx, String(args.tenant))).policies?.find((p) => p.id === String(args.id)) ?? Promise.reject(notFound(`policy "${args.id}"`)),
  }),
}));

builder.mutationFields((t) => ({
  createPolicy: t.field({
    type: PolicyPayload,
    authScopes: writer,
    args: {
      tenant: t.arg.id({ required: true }),
      input: t.arg({ type: PolicyInput, required: true }),
      position: t.arg.int({ description: "Index in the rule list (first match wins); default the end." }),
      expectedVersion: t.arg.int(),
      comment: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const policy = toPolicy(args.input);
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "policies");
        at(addItem(list.items, list.path, (p) => p.id, policy, "policy", args.position));
      });
      return { value: policy, version: done.version.version };
    },
  }),
  updatePolicy: t.field({
    type: PolicyPayload,
    authScopes: writer,
    args: { tenant: t.arg.id({ required: true }), id: t.arg.id({ required: true }), patch: t.arg({ type: PolicyPatch, required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const patch = { ...pick(args.patch, ["description", "target", "pattern", "action", "order", "enabled", "scope"]) };
      if (args.patch.conditions !== undefined) patch.conditions = args.patch.conditions === null ? null : toConditions(args.patch.conditions, "conditions");
      const done = await onPolicy(ctx, args, (p) => applyPatch(p, patch));
      return { value: done.result, version: done.version.version };
    },
  }),
  setPolicyEnabled: t.field({
    type: PolicyPayload,
    authScopes: writer,
    args: { tenant: t.arg.id({ required: true }), id: t.arg.id({ required: true }), enabled: t.arg.boolean({ required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await onPolicy(ctx, args, (p) => {
        // Enabled is the default: the document keeps `enabled: false` only where it matters.
        if (args.enabled) delete p.enabled;
        else p.enabled = false;
        return p;
      });
      return { value: done.result, version: done.version.version };
    },
  }),
  deletePolicy: deleteTenantItem(t, "policies", (p) => p.id, "policy"),
  reorderPolicies: t.field({
    type: PoliciesPayload,
    authScopes: writer,
    description: "Makes `ids` (every rule of the tenant, once) the evaluation order. Explicit `order` values are cleared, so the list order is the order.",
    args: { tenant: t.arg.id({ required: true }), ids: t.arg.idList({ required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const ids = args.ids.map(String);
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "policies");
        at(list.path);
        const byId = new Map(list.items.map((p) => [p.id, p]));
        if (ids.length !== byId.size || new Set(ids).size !== ids.length || ids.some((id) => !byId.has(id))) {
          throw invalid(`ids must name every rule of tenant "${args.tenant}" exactly once (${[...byId.keys()].join(", ")})`, { field: "ids" });
        }
        const next = ids.map((id) => byId.get(id)!);
        for (const p of next) delete p.order;
        list.items.splice(0, list.items.length, ...next);
        return next;
      });
      return { policies: done.result, version: done.version.version };
    },
  }),
  pushPolicies: t.field({
    type: PoliciesPayload,
    authScopes: writer,
    description: "Replaces the tenant's whole rule set in one version (dry-run and replay it first).",
    args: { tenant: t.arg.id({ required: true }), policies: t.arg({ type: [PolicyInput], required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const next = args.policies.map(toPolicy);
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const tenant = findTenant(doc, String(args.tenant));
        tenant.item.policies = next;
        at(`${tenant.path}.policies`);
      });
      return { policies: next, version: done.version.version };
    },
  }),
  rollbackPolicy: t.field({
    type: PoliciesPayload,
    authScopes: writer,
    description: "Puts one rule back as it was in config `version` (removing it if it did not exist then), as a new version.",
    args: { tenant: t.arg.id({ required: true }), id: t.arg.id({ required: true }), version: t.arg.int({ required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const old = await ctx.services.versions.get(args.version);
      if (old === undefined) throw notFound(`config version ${args.version}`);
      const then = maybeTenant(old.document, String(args.tenant))?.policies ?? [];
      const thenIndex = then.findIndex((p) => p.id === String(args.id));
      const done = await mutateConfig(ctx, { ...args, comment: args.comment ?? `rollback of rule ${args.tenant}/${args.id} to version ${args.version}` }, (doc, at) => {
        const tenant = findTenant(doc, String(args.tenant));
        const list = listOf(tenant, "policies");
        const now = list.items.findIndex((p) => p.id === String(args.id));
        if (thenIndex < 0 && now < 0) throw notFound(`policy "${args.id}" (in version ${args.version} or now)`);
        if (now >= 0) list.items.splice(now, 1);
        if (thenIndex >= 0) list.items.splice(now >= 0 ? now : Math.min(thenIndex, list.items.length), 0, structuredClone(then[thenIndex]!));
        at(list.path);
        return list.items;
      });
      return { policies: done.result, version: done.version.version };
    },
  }),
}));

type RevisionChange = "ADDED" | "CHANGED" | "REMOVED";
interface Revision {
  readonly version: number;
  readonly author: string;
  readonly comment: string | undefined;
  readonly createdAt: string;
  readonly change: RevisionChange;
  readonly policy: PolicyConfig | undefined;
}

const RevisionChangeEnum = builder.enumType("PolicyRevisionChange", { values: ["ADDED", "CHANGED", "REMOVED"] as const });
const PolicyRevision = builder.objectRef<Revision>("PolicyRevision").implement({
  description: "A config version that changed one rule.",
  fields: (t) => ({
    version: t.exposeInt("version"),
    author: t.exposeString("author"),
    comment: t.exposeString("comment", { nullable: true }),
    createdAt: t.field({ type: "DateTime", resolve: (r) => r.createdAt }),
    change: t.field({ type: RevisionChangeEnum, resolve: (r) => r.change }),
    policy: t.field({ type: PolicyRef, nullable: true, description: "The rule as of this version; null when it was removed.", resolve: (r) => r.policy ?? null }),
  }),
});

/** The versions (newest first) in which a rule changed, from the newest `scan` versions. */
async function policyHistory(ctx: AdminContext, tenant: string, id: string, limit: number, scan: number): Promise<Revision[]> {
  const out: Revision[] = [];
  const ruleIn = (doc: Record<string, unknown>) => maybeTenant(doc, tenant)?.policies?.find((p) => p.id === id);
  let newer: { version: Awaited<ReturnType<typeof ctx.services.versions.get>>; rule: PolicyConfig | undefined } | undefined;
  let before: number | undefined;
  let scanned = 0;
  const push = (v: NonNullable<typeof newer>["version"], rule: PolicyConfig | undefined, older: PolicyConfig | undefined) => {
    if (v === undefined) return;
    if (canonicalJson(rule ?? null) === canonicalJson(older ?? null)) return;
    const change: RevisionChange = older === undefined ? "ADDED" : rule === undefined ? "REMOVED" : "CHANGED";
    out.push({ version: v.version, author: v.author, comment: v.comment, createdAt: v.createdAt, change, policy: rule });
  };
  while (out.length < limit && scanned < scan) {
    const page = await ctx.services.versions.list({ before, limit: Math.min(100, scan - scanned), documents: true });
    if (page.length === 0) break;
    for (const v of page) {
      const rule = ruleIn(v.document);
      if (newer !== undefined) push(newer.version, newer.rule, rule);
      newer = { version: v, rule };
      if (out.length >= limit) break;
    }
    scanned += page.length;
    before = page.at(-1)!.version;
    if (page.at(-1)!.version === 1 && newer !== undefined && out.length < limit) {
      push(newer.version, newer.rule, undefined);
      break;
    }
  }
  return out.slice(0, limit);
}

builder.queryField("policyHistory", (t) =>
  t.field({
    type: [PolicyRevision],
    authScopes: reader,
    description: "The versions in which a rule was added, changed or removed, newest first (looking back at most `scan` versions).",
    args: { tenant: t.arg.id({ required: true }), id: t.arg.id({ required: true }), limit: t.arg.int({ defaultValue: 20 }), scan: t.arg.int({ defaultValue: 500 }) },
    resolve: (_root, args, ctx) => policyHistory(ctx, String(args.tenant), String(args.id), Math.max(1, args.limit ?? 20), Math.min(Math.max(1, args.scan ?? 500), 10_000)),
  }),
);
