/**
 * Sessions: the MCP sessions open in the gateway of this process, and a subscription to their
 * starts and ends. Sessions live in gateway memory, so a standalone admin (no gateway) answers
 * SENTINEL_ADMIN_UNAVAILABLE. Suspend and resume arrive with the kill switch.
 */
import type { GatewaySession } from "../../engine/gateway/gateway-session.js";
import type { SessionChange } from "../../engine/gateway/session-registry.js";
import { builder } from "../builder.js";
import type { AdminContext } from "../context.js";
import { unavailable } from "../errors.js";
import { eventQueue, type QueueOptions } from "../feeds/event-queue.js";

function gatewayOf(ctx: AdminContext) {
  const gateway = ctx.services.gateway;
  if (gateway === undefined) throw unavailable("sessions live in the gateway processes; this admin runs without one (use the admin of sentinel start)");
  return gateway;
}

/** The tenant a caller may look at: its own when scoped, else the one asked for (or all). */
export function tenantFilter(ctx: AdminContext, asked: string | null | undefined): string | undefined {
  return ctx.caller.tenant ?? asked ?? undefined;
}

/** Subscription options: the stream ends once the caller's token is revoked. */
export const whileTokenActive = (ctx: AdminContext): QueueOptions => ({
  stillAllowed: async () => (await ctx.services.tokens.get(ctx.caller.id))?.revokedAt === undefined,
  recheckMs: ctx.services.subscriptionRecheckMs,
});

export const SessionRef = builder.objectRef<GatewaySession>("Session").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    tenant: t.string({ resolve: (s) => s.owner.tenantId }),
    connection: t.string({ resolve: (s) => s.owner.connection }),
    user: t.string({ nullable: true, resolve: (s) => s.owner.identity.user ?? null }),
    role: t.string({ nullable: true, resolve: (s) => (typeof s.owner.identity.metadata.role === "string" ? s.owner.identity.metadata.role : null) }),
    metadata: t.field({ type: "JSON", resolve: (s) => s.owner.identity.metadata }),
    apiKey: t.string({ nullable: true, description: "The id of the API key that opened it.", resolve: (s, _args, ctx) => ctx.services.gateway?.runtime.keys.get(s.owner.keyHash)?.keyId ?? null }),
    inFlight: t.int({ description: "Calls waiting for an answer.", resolve: (s) => s.inFlight }),
    lastActive: t.field({ type: "DateTime", resolve: (s) => new Date(s.lastActive).toISOString() }),
    protocolVersion: t.string({ nullable: true, resolve: (s) => s.protocolVersion ?? null }),
  }),
});

const SessionChangeType = builder.enumType("SessionChangeType", { values: ["STARTED", "ENDED"] as const });
const SessionChangeRef = builder.objectRef<SessionChange>("SessionChange").implement({
  fields: (t) => ({
    type: t.field({ type: SessionChangeType, resolve: (c) => (c.type === "started" ? "STARTED" : "ENDED") }),
    session: t.field({ type: SessionRef, resolve: (c) => c.session }),
  }),
});

const scoped = (_root: unknown, args: { tenant?: string | number | null }) => (args.tenant == null ? { authenticated: true } : { tenantReader: String(args.tenant) });

builder.queryField("sessions", (t) =>
  t.field({
    type: [SessionRef],
    authScopes: scoped,
    description: "Open sessions of this gateway process.",
    args: { tenant: t.arg.id() },
    resolve: (_root, args, ctx) => {
      const tenant = tenantFilter(ctx, args.tenant == null ? undefined : String(args.tenant));
      return [...gatewayOf(ctx).sessions.values()].filter((s) => tenant === undefined || s.owner.tenantId === tenant);
    },
  }),
);

builder.subscriptionField("sessionChanges", (t) =>
  t.field({
    type: SessionChangeRef,
    authScopes: scoped,
    description: "Every session start and end in this gateway process.",
    args: { tenant: t.arg.id() },
    subscribe: (_root, args, ctx) => {
      const gateway = gatewayOf(ctx);
      const tenant = tenantFilter(ctx, args.tenant == null ? undefined : String(args.tenant));
      return eventQueue<SessionChange>(
        (push) => gateway.sessions.watch((c) => (tenant === undefined || c.session.owner.tenantId === tenant ? push(c) : undefined)),
        whileTokenActive(ctx),
      );
    },
    resolve: (change) => change,
  }),
);
