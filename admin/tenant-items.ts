/**
 * The deletion mutation every tenant list has (API keys, connections, rules, credentials,
 * limits): find the item by its id or name, remove it, commit. Returns the new config version.
 */
import type { TenantConfig } from "../engine/config/types.js";
import type { builder } from "./builder.js";
import { mutateConfig } from "./config-mutation.js";
import { findItem, findTenant, listOf } from "./document.js";

type MutationFieldBuilder = Parameters<Parameters<typeof builder.mutationFields>[0]>[0];
type ListKey = "apiKeys" | "connections" | "policies" | "credentials" | "limits";
type Item<K extends ListKey> = NonNullable<TenantConfig[K]>[number];

export function deleteTenantItem<K extends ListKey>(
  t: MutationFieldBuilder,
  key: K,
  idOf: (item: Item<K>) => string,
  what: string,
  description = "Returns the new config version.",
) {
  return t.field({
    type: "Int",
    description,
    authScopes: (_root, args) => ({ tenantWriter: String(args.tenant) }),
    args: { tenant: t.arg.id({ required: true }), id: t.arg.id({ required: true, description: `The ${what}'s id (or name).` }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc) => {
        const list = listOf(findTenant(doc, String(args.tenant)), key);
        const items = list.items as Array<Item<K>>;
        items.splice(findItem(items, list.path, idOf, String(args.id), what).index, 1);
      });
      return done.version.version;
    },
  });
}
