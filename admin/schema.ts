/**
 * The admin schema: every domain file adds its types and fields to the one builder, in this
 * order; `npm run schema:admin` prints the result to schema/admin.graphql.
 */
import { createRequire } from "node:module";
import type * as GraphQL from "graphql";
import type { GraphQLSchema } from "graphql";
import { builder } from "./builder.js";
import "./schema/config.js";
import "./schema/tenants.js";
import "./schema/api-keys.js";
import "./schema/connections.js";
import "./schema/policies.js";
import "./schema/policy-testing.js";
import "./schema/credentials.js";
import "./schema/guard.js";
import "./schema/limits.js";
import "./schema/sessions.js";
import "./schema/users.js";
import "./schema/audit.js";
import "./schema/decisions.js";
import "./schema/alerts.js";
import "./schema/admin-tokens.js";

let built: GraphQLSchema | undefined;

export function adminSchema(): GraphQLSchema {
  built ??= builder.toSchema();
  return built;
}

/**
 * graphql ships CJS and ESM builds, and a schema only works with the copy that built it. Pothos
 * and yoga get graphql through Node's resolution (the CJS build); printing does the same, even
 * where a bundler-style resolver (the test runner's) would hand this file the ESM build.
 */
const graphql = createRequire(import.meta.url)("graphql") as typeof GraphQL;

/** The SDL committed as schema/admin.graphql, sorted so that field order in code does not churn it. */
export const adminSdl = (): string => graphql.printSchema(graphql.lexicographicSortSchema(adminSchema())) + "\n";
