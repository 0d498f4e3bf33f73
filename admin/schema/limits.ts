/**
 * Limits (sliding-window request, token and dollar caps), token caps and prices, with current
 * usage. Usage is read from the counters of the gateway in this process (`sentinel start`);
 * a standalone admin has no counters to read and says so (SENTINEL_ADMIN_UNAVAILABLE).
 */
import type { LimitConfig, PricesConfig, TokenCapsConfig } from "../../engine/config/types.js";
import type { LimitedCall } from "../../engine/limits/compile-limits.js";
import type { Usage } from "../../engine/limits/usage.js";
import { canonicalName } from "../../engine/policy/canonical.js";
import { deleteTenantItem } from "../tenant-items.js";
import { builder } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import type { AdminContext } from "../context.js";
import { applyPatch, compact, findTenant, listOf, pick } from "../document.js";
import { notFound, unavailable } from "../errors.js";
import { TenantRef } from "./tenants.js";

const LimitScope = builder.enumType("LimitScope", { values: ["tenant", "user", "session", "connection", "tool", "model"] as const });
const LimitMetric = builder.enumType("LimitMetric", { values: ["requests", "tokens", "dollars"] as const });
const LimitWindow = builder.enumType("LimitWindow", { values: ["minute", "hour", "day"] as const });

const UsageRef = builder.objectRef<Usage>("LimitUsage").implement({
  fields: (t) => ({
    used: t.exposeFloat("used", { description: "In the metric's unit: requests, tokens or dollars." }),
    max: t.exposeFloat("max"),
    fraction: t.float({ resolve: (u) => (u.max <= 0 ? 1 : u.used / u.max) }),
    text: t.exposeString("text", { description: '"62% of 100 req/min", "$14.20 of a $25/hr cap".' }),
  }),
});

interface TenantLimit {
  readonly tenant: string;
  readonly limit: LimitConfig;
}

function usageOf(ctx: AdminContext, tenant: string, limitId: string, who: Omit<LimitedCall, "tenant" | "session" | "connection"> & { session?: string; connection?: string }): Usage {
  const gateway = ctx.services.gateway;
  if (gateway === undefined) throw unavailable("limit usage lives in the gateway processes; this admin runs without one (use the admin of sentinel start)");
  const limits = gateway.runtime.tenants.get(tenant)?.safeguards?.limits;
  const limit = limits?.get(limitId);
  if (limits === undefined || limit === undefined) throw notFound(`limit "${limitId}" in the running gateway's config (a change reaches it within a second)`);
  const call: LimitedCall = { tenant, user: who.user, session: who.session ?? "", connection: who.connection ?? "", tool: who.tool === undefined ? undefined : canonicalName(who.tool), model: who.model };
  // The in-process counter store answers synchronously; the cast documents that assumption.
  return limits.usage(gateway.counters, call, limit) as Usage;
}

export const LimitRef = builder.objectRef<TenantLimit>("Limit").implement({
  fields: (t) => ({
    id: t.id({ resolve: (l) => l.limit.id }),
    description: t.string({ nullable: true, resolve: (l) => l.limit.description ?? null }),
    scope: t.field({ type: LimitScope, resolve: (l) => l.limit.scope }),
    tools: t.string({ nullable: true, resolve: (l) => l.limit.tools ?? null }),
    models: t.string({ nullable: true, resolve: (l) => l.limit.models ?? null }),
    metric: t.field({ type: LimitMetric, resolve: (l) => l.limit.metric }),
    window: t.field({ type: LimitWindow, resolve: (l) => l.limit.window }),
    max: t.float({ resolve: (l) => l.limit.max }),
    usage: t.field({
      type: UsageRef,
      description: "Current usage of the counter these identify (a tenant-scoped limit needs none; a user-scoped one the user…).",
      args: { user: t.arg.string(), session: t.arg.string(), connection: t.arg.string(), tool: t.arg.string(), model: t.arg.string() },
      resolve: (l, args, ctx) =>
        usageOf(ctx, l.tenant, l.limit.id, {
          user: args.user ?? undefined,
          session: args.session ?? undefined,
          connection: args.connection ?? undefined,
          tool: args.tool ?? undefined,
          model: args.model ?? undefined,
        }),
    }),
  }),
});

const TokenCaps = builder.objectRef<TokenCapsConfig>("TokenCaps").implement({
  fields: (t) => ({ input: t.exposeInt("input", { nullable: true }), output: t.exposeInt("output", { nullable: true }), total: t.exposeInt("total", { nullable: true }) }),
});

builder.objectFields(TenantRef, (t) => ({
  limits: t.field({ type: [LimitRef], resolve: (tenant) => (tenant.limits ?? []).map((limit) => ({ tenant: tenant.id, limit })) }),
  tokenCaps: t.field({ type: TokenCaps, nullable: true, resolve: (tenant) => tenant.tokenCaps ?? null }),
  prices: t.field({ type: "JSON", nullable: true, description: "{ models: [...], tools: [...] }", resolve: (tenant) => tenant.prices ?? null }),
}));

const LimitInput = builder.inputType("LimitInput", {
  fields: (t) => ({
    id: t.string({ required: true }),
    description: t.string(),
    scope: t.field({ type: LimitScope, required: true }),
    tools: t.string({ description: "Glob: count only these tools." }),
    models: t.string({ description: "Glob: count only these models." }),
    metric: t.field({ type: LimitMetric, required: true }),
    window: t.field({ type: LimitWindow, required: true }),
    max: t.float({ required: true }),
  }),
});

const LimitPayload = builder.objectRef<{ limit: TenantLimit; version: number }>("LimitPayload").implement({
  fields: (t) => ({ limit: t.field({ type: LimitRef, resolve: (p) => p.limit }), version: t.exposeInt("version") }),
});

const writer = (_root: unknown, args: { tenant: string | number }) => ({ tenantWriter: String(args.tenant) });

builder.mutationFields((t) => ({
  upsertLimit: t.field({
    type: LimitPayload,
    authScopes: writer,
    description: "Adds a limit, or replaces the one with the same id. Counters are kept across changes.",
    args: { tenant: t.arg.id({ required: true }), input: t.arg({ type: LimitInput, required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const limit = compact({ ...args.input }) as LimitConfig;
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "limits");
        const index = list.items.findIndex((l) => l.id === limit.id);
        if (index < 0) list.items.push(limit);
        else list.items[index] = limit;
        at(`${list.path}[${index < 0 ? list.items.length - 1 : index}]`);
      });
      return { limit: { tenant: String(args.tenant), limit }, version: done.version.version };
    },
  }),
  deleteLimit: deleteTenantItem(t, "limits", (l) => l.id, "limit"),
  setTokenCaps: t.field({
    type: "Int",
    description: "Per-call token caps; absent arguments keep their value, null removes one. Returns the new config version.",
    authScopes: writer,
    args: { tenant: t.arg.id({ required: true }), input: t.arg.int(), output: t.arg.int(), total: t.arg.int(), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const tenant = findTenant(doc, String(args.tenant));
        at(`${tenant.path}.tokenCaps`);
        const caps = applyPatch(tenant.item.tokenCaps ?? {}, pick(args, ["input", "output", "total"]));
        if (Object.keys(caps).length === 0) delete tenant.item.tokenCaps;
        else tenant.item.tokenCaps = caps;
      });
      return done.version.version;
    },
  }),
  setPrices: t.field({
    type: "Int",
    description: "Replaces the tenant's price table ({ models, tools }); null removes it. Returns the new config version.",
    authScopes: writer,
    args: { tenant: t.arg.id({ required: true }), prices: t.arg({ type: "JSON" }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const tenant = findTenant(doc, String(args.tenant));
        at(`${tenant.path}.prices`);
        if (args.prices == null) delete tenant.item.prices;
        else tenant.item.prices = args.prices as PricesConfig;
      });
      return done.version.version;
    },
  }),
}));
