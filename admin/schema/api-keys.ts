/**
 * API keys: the agent-facing bearer keys of a tenant. Creating one returns the key once; the
 * document keeps only its sha256 hash. Revoking keeps the entry (so audit records that name
 * the key id still resolve) and stops it from authenticating as soon as gateways publish.
 */
import { generateApiKey } from "../../engine/auth/api-keys.js";
import type { ApiKeyConfig } from "../../engine/config/types.js";
import { deleteTenantItem } from "../tenant-items.js";
import { builder, changePayload } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import { addItem, compact, findItem, findTenant, listOf } from "../document.js";
import { TenantRef } from "./tenants.js";

export const ApiKeyRef = builder.objectRef<ApiKeyConfig>("ApiKey").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    description: t.exposeString("description", { nullable: true }),
    revoked: t.boolean({ resolve: (k) => k.revoked === true }),
    fingerprint: t.string({ description: "The start of the key's hash, to tell keys apart; never the key.", resolve: (k) => k.hash.slice(0, 19) }),
  }),
});

builder.objectField(TenantRef, "apiKeys", (t) => t.field({ type: [ApiKeyRef], resolve: (tenant) => tenant.apiKeys ?? [] }));

const CreatedApiKey = builder.objectRef<{ apiKey: ApiKeyConfig; key: string; version: number }>("CreatedApiKey").implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (p) => p.apiKey }),
    key: t.exposeString("key", { description: "The key itself, shown this once: only its hash is stored." }),
    version: t.exposeInt("version"),
  }),
});
const ApiKeyPayload = changePayload("ApiKeyPayload", "apiKey", ApiKeyRef);

const common = (t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0]) => ({
  tenant: t.arg.id({ required: true }),
  id: t.arg.id({ required: true }),
  expectedVersion: t.arg.int(),
  comment: t.arg.string(),
});

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKey,
    authScopes: (_root, args) => ({ tenantWriter: String(args.tenant) }),
    args: { ...common(t), description: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const { key, hash } = generateApiKey();
      const apiKey: ApiKeyConfig = compact({ id: String(args.id), hash, description: args.description ?? undefined });
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "apiKeys");
        at(addItem(list.items, list.path, (k) => k.id, apiKey, "API key"));
      });
      return { apiKey, key, version: done.version.version };
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyPayload,
    authScopes: (_root, args) => ({ tenantWriter: String(args.tenant) }),
    args: common(t),
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "apiKeys");
        const found = findItem(list.items, list.path, (k) => k.id, String(args.id), "API key");
        at(found.path);
        found.item.revoked = true;
        return found.item;
      });
      return { value: done.result, version: done.version.version };
    },
  }),
  deleteApiKey: deleteTenantItem(t, "apiKeys", (k) => k.id, "API key", "Removes the key's entry altogether; returns the new config version. Prefer revokeApiKey, which keeps the id resolvable."),
}));
