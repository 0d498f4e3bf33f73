/**
 * Admin tokens: who may use this API. Owners manage them; an owner scoped to a tenant manages
 * only tokens of its tenant. A new token is shown once. Creating and revoking one is recorded
 * in the audit trail like a config change.
 */
import { configDigest } from "../../engine/audit/admin-change.js";
import type { SentinelConfig } from "../../engine/config/types.js";
import { ADMIN_ROLES, AdminTokenExistsError, type AdminTokenRecord } from "../admin-tokens.js";
import { builder } from "../builder.js";
import type { AdminContext } from "../context.js";
import { adminError, forbidden, notFound } from "../errors.js";

const Role = builder.enumType("AdminRole", { values: ADMIN_ROLES });

const TokenRef = builder.objectRef<AdminTokenRecord>("AdminToken").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    role: t.field({ type: Role, resolve: (r) => r.role }),
    tenant: t.exposeString("tenant", { nullable: true, description: "null: every tenant." }),
    description: t.exposeString("description", { nullable: true }),
    createdBy: t.exposeString("createdBy"),
    createdAt: t.field({ type: "DateTime", resolve: (r) => r.createdAt }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (r) => r.revokedAt ?? null }),
  }),
});

const Created = builder.objectRef<{ record: AdminTokenRecord; token: string }>("CreatedAdminToken").implement({
  fields: (t) => ({
    adminToken: t.field({ type: TokenRef, resolve: (c) => c.record }),
    token: t.exposeString("token", { description: "The bearer token, shown this once: only its hash is stored." }),
  }),
});

const Me = builder.objectRef<AdminContext["caller"]>("Caller").implement({
  fields: (t) => ({
    tokenId: t.exposeID("id"),
    role: t.field({ type: Role, resolve: (c) => c.role }),
    tenant: t.exposeString("tenant", { nullable: true }),
  }),
});

async function record(ctx: AdminContext, what: string): Promise<void> {
  const digest = configDigest((await ctx.document()) as unknown as SentinelConfig);
  ctx.services.audit?.recordAdminChange({ who: `api:${ctx.caller.id}`, what: [what], before: digest, after: digest });
}

/** A scoped owner reaches only tokens of its own tenant. */
function mayManage(ctx: AdminContext, tenant: string | undefined): void {
  if (ctx.caller.tenant !== undefined && tenant !== ctx.caller.tenant) throw forbidden(`admin token "${ctx.caller.id}" manages only tokens of tenant ${ctx.caller.tenant}`);
}

builder.queryFields((t) => ({
  whoami: t.field({ type: Me, authScopes: { authenticated: true }, resolve: (_root, _args, ctx) => ctx.caller }),
  adminTokens: t.field({
    type: [TokenRef],
    authScopes: { tokenManager: true },
    resolve: (_root, _args, ctx) => ctx.services.tokens.list(ctx.caller.tenant),
  }),
}));

builder.mutationFields((t) => ({
  createAdminToken: t.field({
    type: Created,
    authScopes: { tokenManager: true },
    args: { id: t.arg.id({ required: true }), role: t.arg({ type: Role, required: true }), tenant: t.arg.id({ description: "Omit for every tenant." }), description: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const tenant = args.tenant == null ? undefined : String(args.tenant);
      mayManage(ctx, tenant);
      try {
        const created = await ctx.services.tokens.create({ id: String(args.id), role: args.role, tenant, description: args.description ?? undefined, createdBy: `api:${ctx.caller.id}` });
        await record(ctx, `+adminToken ${created.record.id} (${created.record.role}${tenant === undefined ? "" : `, tenant ${tenant}`})`);
        return created;
      } catch (err) {
        if (err instanceof AdminTokenExistsError) throw adminError("SENTINEL_ADMIN_CONFLICT", err.message, { field: "id" });
        throw err;
      }
    },
  }),
  revokeAdminToken: t.field({
    type: TokenRef,
    authScopes: { tokenManager: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const existing = await ctx.services.tokens.get(String(args.id));
      if (existing === undefined) throw notFound(`admin token "${args.id}"`);
      mayManage(ctx, existing.tenant);
      const revoked = (await ctx.services.tokens.revoke(existing.id))!;
      await record(ctx, `-adminToken ${existing.id}`);
      return revoked;
    },
  }),
}));
