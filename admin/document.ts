/**
 * Typed access to the parts of a config document the schema reads and changes. The document is
 * the config as written (see engine/config-store/config-document.ts), so these are the
 * declarative shapes of engine/config/types.ts; validation happens on commit.
 */
import type { ConfigDocument } from "../engine/config-store/config-document.js";
import type { TenantConfig } from "../engine/config/types.js";
import { adminError, notFound } from "./errors.js";

export const tenantsOf = (doc: ConfigDocument): TenantConfig[] => {
  if (!Array.isArray(doc.tenants)) doc.tenants = [];
  return doc.tenants as TenantConfig[];
};

export interface Located<T> {
  readonly item: T;
  readonly index: number;
  readonly path: string;
}

export function findTenant(doc: ConfigDocument, id: string): Located<TenantConfig> {
  const index = tenantsOf(doc).findIndex((t) => t.id === id);
  if (index < 0) throw notFound(`tenant "${id}"`);
  return { item: tenantsOf(doc)[index]!, index, path: `tenants[${index}]` };
}

export const maybeTenant = (doc: ConfigDocument, id: string): TenantConfig | undefined => tenantsOf(doc).find((t) => t.id === id);

type ListKey = "apiKeys" | "connections" | "policies" | "credentials" | "limits";

/** A list of a tenant (created empty when absent) and its path. */
export function listOf<K extends ListKey>(tenant: Located<TenantConfig>, key: K): { items: NonNullable<TenantConfig[K]>; path: string } {
  const t = tenant.item as unknown as Record<string, unknown>;
  if (!Array.isArray(t[key])) t[key] = [];
  return { items: t[key] as NonNullable<TenantConfig[K]>, path: `${tenant.path}.${key}` };
}

/** An item of a tenant list by its id (or name); `what` names it in the not-found error. */
export function findItem<T>(items: T[], listPath: string, idOf: (t: T) => string, id: string, what: string): Located<T> {
  const index = items.findIndex((x) => idOf(x) === id);
  if (index < 0) throw notFound(`${what} "${id}"`);
  return { item: items[index]!, index, path: `${listPath}[${index}]` };
}

/** Adds an item, refusing a duplicate id with a validation error on the id field. */
export function addItem<T>(items: T[], listPath: string, idOf: (t: T) => string, item: T, what: string, position?: number | null): string {
  const id = idOf(item);
  if (items.some((x) => idOf(x) === id)) {
    throw adminError("SENTINEL_ADMIN_CONFLICT", `${what} "${id}" already exists`, { path: `${listPath}[${items.findIndex((x) => idOf(x) === id)}]` });
  }
  const at = position == null ? items.length : Math.max(0, Math.min(position, items.length));
  items.splice(at, 0, item);
  return `${listPath}[${at}]`;
}

/** Removes undefined and null members, so optional GraphQL inputs leave no `null` in the document. */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out[k] = v;
  return out as T;
}

/** Patch semantics for updates: an absent field keeps its value, `null` removes it, anything else sets it. */
export function applyPatch<T extends object>(target: T, patch: Record<string, unknown>): T {
  const out = target as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return target;
}

/** Only the keys of `value` that are in `keys`: mutation arguments minus the routing ones. */
export function pick(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in value) out[k] = value[k];
  return out;
}
