/**
 * Users and roles. Sentinel does not keep a user directory: an agent states the end user and
 * the role (`x-sentinel-user`, `x-sentinel-metadata`) when a session starts. So a user is what
 * the audit store recorded and what open sessions show, and a role is what rules test and
 * callers state. Both are read-only views.
 */
import type { ConditionConfig, PolicyConfig } from "../../engine/config/types.js";
import { builder } from "../builder.js";
import type { AdminContext } from "../context.js";
import { currentTenant } from "./tenants.js";

interface UserView {
  readonly id: string;
  readonly roles: Set<string>;
  calls: number;
  lastSeen: string | undefined;
  activeSessions: number;
}

interface RoleView {
  readonly name: string;
  readonly rules: Set<string>;
  readonly users: Set<string>;
}

const User = builder.objectRef<UserView>("User").implement({
  description: "An end user seen in the audit trail or an open session.",
  fields: (t) => ({
    id: t.exposeID("id"),
    roles: t.stringList({ resolve: (u) => [...u.roles].sort() }),
    calls: t.exposeInt("calls", { description: "Recorded calls (the audit store)." }),
    lastSeen: t.field({ type: "DateTime", nullable: true, resolve: (u) => u.lastSeen ?? null }),
    activeSessions: t.exposeInt("activeSessions", { description: "Open sessions in this gateway process." }),
  }),
});

const Role = builder.objectRef<RoleView>("Role").implement({
  description: "A role that rules test or callers state.",
  fields: (t) => ({
    name: t.exposeID("name"),
    rules: t.stringList({ description: "Rules whose conditions name this role.", resolve: (r) => [...r.rules] }),
    users: t.int({ description: "Users seen with this role.", resolve: (r) => r.users.size }),
  }),
});

const reader = (_root: unknown, args: { tenant: string | number }) => ({ tenantReader: String(args.tenant) });

async function usersOf(ctx: AdminContext, tenant: string, limit: number): Promise<Map<string, UserView>> {
  const users = new Map<string, UserView>();
  const get = (id: string) => users.get(id) ?? users.set(id, { id, roles: new Set(), calls: 0, lastSeen: undefined, activeSessions: 0 }).get(id)!;
  const rows = await ctx.services.store.query<{ user_id: string; role: string | null; calls: number; last_seen: Date | string }>(
    `SELECT user_id, role, count(*)::int AS calls, max(at) AS last_seen FROM audit_records
     WHERE tenant = $1 AND kind = 'call' AND user_id IS NOT NULL GROUP BY user_id, role ORDER BY max(at) DESC LIMIT $2`,
    [tenant, limit],
  );
  for (const r of rows) {
    const u = get(r.user_id);
    if (r.role !== null) u.roles.add(r.role);
    u.calls += Number(r.calls);
    const seen = new Date(r.last_seen).toISOString();
    if (u.lastSeen === undefined || seen > u.lastSeen) u.lastSeen = seen;
  }
  for (const s of ctx.services.gateway?.sessions.values() ?? []) {
    if (s.owner.tenantId !== tenant || s.owner.identity.user === undefined) continue;
    const u = get(s.owner.identity.user);
    u.activeSessions++;
    const role = s.owner.identity.metadata.role;
    if (typeof role === "string") u.roles.add(role);
  }
  return users;
}

/** Role names a condition tests: `role` or `metadata.role` with eq/neq/in/nin. */
function rolesIn(policy: PolicyConfig): string[] {
  const out: string[] = [];
  const visit = (c: ConditionConfig) => {
    if (c.field !== "role" && c.field !== "metadata.role") return;
    if (typeof c.value === "string") out.push(c.value);
    else if (Array.isArray(c.value)) for (const v of c.value) if (typeof v === "string") out.push(v);
  };
  for (const c of policy.conditions ?? []) {
    if ("anyOf" in c) c.anyOf.forEach(visit);
    else visit(c);
  }
  return out;
}

builder.queryFields((t) => ({
  users: t.field({
    type: [User],
    authScopes: reader,
    description: "Users of a tenant, most recently seen first.",
    args: { tenant: t.arg.id({ required: true }), limit: t.arg.int({ defaultValue: 100 }) },
    resolve: async (_root, args, ctx) => {
      await currentTenant(ctx, String(args.tenant));
      const users = await usersOf(ctx, String(args.tenant), Math.min(Math.max(args.limit ?? 100, 1), 10_000));
      return [...users.values()].sort((a, b) => (b.lastSeen ?? "\uffff").localeCompare(a.lastSeen ?? "\uffff"));
    },
  }),
  roles: t.field({
    type: [Role],
    authScopes: reader,
    args: { tenant: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const tenant = await currentTenant(ctx, String(args.tenant));
      const roles = new Map<string, RoleView>();
      const get = (name: string) => roles.get(name) ?? roles.set(name, { name, rules: new Set(), users: new Set() }).get(name)!;
      for (const p of tenant.policies ?? []) for (const r of rolesIn(p)) get(r).rules.add(p.id);
      for (const u of (await usersOf(ctx, tenant.id, 10_000)).values()) for (const r of u.roles) get(r).users.add(u.id);
      return [...roles.values()].sort((a, b) => a.name.localeCompare(b.name));
    },
  }),
}));
