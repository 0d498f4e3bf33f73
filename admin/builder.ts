/**
 * The one Pothos builder: the request context, the scalars, and the auth scopes every field
 * names. Roles: `owner` (everything, including admin tokens), `admin` (reads and writes config),
 * `auditor` (reads only). A token scoped to a tenant reaches that tenant alone and nothing
 * global (server, vault, audit and alert settings, tenants themselves, the whole document).
 */
import SchemaBuilder, { type ObjectRef, type SchemaTypes } from "@pothos/core";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError, Kind, valueFromASTUntyped } from "graphql";
import type { AdminContext } from "./context.js";
import { adminError, forbidden, invalid } from "./errors.js";

export const builder = new SchemaBuilder<{
  Context: AdminContext;
  DefaultFieldNullability: false;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: string; Output: string };
  };
  AuthScopes: {
    /** Any valid admin token (every request has one: server.ts refuses the others). */
    authenticated: boolean;
    /** May read this tenant's objects. */
    tenantReader: string;
    /** May change this tenant's objects. */
    tenantWriter: string;
    /** May read deployment-wide settings and the whole document (an unscoped owner or admin). */
    globalReader: boolean;
    /** May change deployment-wide settings, tenants and the whole document. */
    globalWriter: boolean;
    /** May manage admin tokens (an owner; a scoped owner only for its tenant). */
    tokenManager: boolean;
  };
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: ({ caller }) => ({
      authenticated: true,
      tenantReader: (tenant: string) => caller.tenant === undefined || caller.tenant === tenant,
      tenantWriter: (tenant: string) => caller.role !== "auditor" && (caller.tenant === undefined || caller.tenant === tenant),
      globalReader: caller.tenant === undefined && caller.role !== "auditor",
      globalWriter: caller.tenant === undefined && caller.role !== "auditor",
      tokenManager: caller.role === "owner",
    }),
    unauthorizedError: (_parent, context, info) => {
      const { caller } = context;
      const message = `admin token "${caller.id}" (${caller.role}${caller.tenant === undefined ? "" : `, tenant ${caller.tenant}`}) may not use ${info.parentType.name}.${info.fieldName} here`;
      // A refused subscription has no stream to carry the error in: the HTTP status must say it.
      return info.operation.operation === "subscription" ? adminError("SENTINEL_ADMIN_FORBIDDEN", message, { http: { status: 403 } }) : forbidden(message);
    },
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast) => valueFromASTUntyped(ast),
});

builder.scalarType("DateTime", {
  description: "An ISO-8601 time in UTC, e.g. 2026-01-31T12:00:00.000Z.",
  serialize: (value) => value,
  parseValue: (value) => {
    if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw invalid(`not an ISO-8601 time: ${JSON.stringify(value)}`);
    return new Date(value).toISOString();
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || Number.isNaN(Date.parse(ast.value))) throw new GraphQLError("DateTime must be an ISO-8601 string");
    return new Date(ast.value).toISOString();
  },
});

type AdminTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : SchemaTypes;

/** What a mutation answers: the object after the change, and the config version that holds it. */
export interface Changed<T> {
  readonly value: T;
  readonly version: number;
}

export function changePayload<T>(name: string, field: string, ref: ObjectRef<AdminTypes, T>): ObjectRef<AdminTypes, Changed<T>> {
  return builder.objectRef<Changed<T>>(name).implement({
    fields: (t) => ({
      [field]: t.field({ type: ref, resolve: (p) => p.value as never }),
      version: t.exposeInt("version", { description: "The config version that holds this change." }),
    }),
  });
}
