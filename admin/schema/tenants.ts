/**
 * Tenants: the unit every other object belongs to. Listing shows the caller's tenants only;
 * creating and deleting tenants is deployment-wide and needs an unscoped owner or admin.
 */
import type { TenantConfig } from "../../engine/config/types.js";
import { builder, changePayload } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import type { AdminContext } from "../context.js";
import { addItem, compact, findTenant, maybeTenant, tenantsOf } from "../document.js";
import { notFound } from "../errors.js";

export const TenantRef = builder.objectRef<TenantConfig>("Tenant").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name", { nullable: true }),
  }),
});

/** The tenant as the current document has it; not-found when it does not exist. */
export async function currentTenant(ctx: AdminContext, id: string): Promise<TenantConfig> {
  return maybeTenant(await ctx.document(), id) ?? Promise.reject(notFound(`tenant "${id}"`));
}

const TenantPayload = changePayload("TenantPayload", "tenant", TenantRef);

const change = { expectedVersion: "Fail with SENTINEL_ADMIN_CONFLICT unless the config is at this version.", comment: "Kept with the new config version." };

builder.queryFields((t) => ({
  tenants: t.field({
    type: [TenantRef],
    description: "Every tenant the caller's token may see.",
    resolve: async (_root, _args, ctx) => tenantsOf(await ctx.document()).filter((x) => ctx.caller.tenant === undefined || x.id === ctx.caller.tenant),
  }),
  tenant: t.field({
    type: TenantRef,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, args) => ({ tenantReader: String(args.id) }),
    resolve: (_root, args, ctx) => currentTenant(ctx, String(args.id)),
  }),
}));

builder.mutationFields((t) => ({
  createTenant: t.field({
    type: TenantPayload,
    authScopes: { globalWriter: true },
    args: { id: t.arg.id({ required: true }), name: t.arg.string(), expectedVersion: t.arg.int({ description: change.expectedVersion }), comment: t.arg.string({ description: change.comment }) },
    resolve: async (_root, args, ctx) => {
      const tenant: TenantConfig = compact({ id: String(args.id), name: args.name ?? undefined });
      const done = await mutateConfig(ctx, args, (doc, at) => at(addItem(tenantsOf(doc), "tenants", (x) => x.id, tenant, "tenant")));
      return { value: tenant, version: done.version.version };
    },
  }),
  updateTenant: t.field({
    type: TenantPayload,
    authScopes: (_root, args) => ({ tenantWriter: String(args.id) }),
    args: { id: t.arg.id({ required: true }), name: t.arg.string({ required: true }), expectedVersion: t.arg.int({ description: change.expectedVersion }), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const found = findTenant(doc, String(args.id));
        at(found.path);
        found.item.name = args.name;
        return found.item;
      });
      return { value: done.result, version: done.version.version };
    },
  }),
  deleteTenant: t.field({
    type: "Int",
    authScopes: { globalWriter: true },
    description: "Removes a tenant and everything in it (keys, connections, rules, credentials). Returns the new config version.",
    args: { id: t.arg.id({ required: true }), expectedVersion: t.arg.int({ description: change.expectedVersion }), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc) => {
        const found = findTenant(doc, String(args.id));
        tenantsOf(doc).splice(found.index, 1);
      });
      return done.version.version;
    },
  }),
}));
