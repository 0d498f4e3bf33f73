import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { adminSdl } from "../../admin/schema.js";
import { ERRORS } from "../../engine/errors.js";

/** The fields of one root type in the printed SDL. */
const fieldsOf = (type: string): string[] => {
  const block = new RegExp(`^type ${type} \\{\\n([\\s\\S]*?)\\n\\}`, "m").exec(adminSdl())?.[1] ?? "";
  return [...block.matchAll(/^ {2}([A-Za-z]+)[(:]/gm)].map((m) => m[1]!);
};

const SDL = fileURLToPath(new URL("../../schema/admin.graphql", import.meta.url));

describe("the admin API schema", () => {
  it("is committed as schema/admin.graphql and up to date (npm run schema:admin regenerates it)", () => {
    expect(readFileSync(SDL, "utf8"), "schema/admin.graphql is stale: run npm run schema:admin and commit it").toBe(adminSdl());
  });

  it.each(["tenants", "policies", "policyHistory", "dryRun", "replay", "auditRecords", "sessions", "users", "roles", "alertSinks", "configVersions", "guardBuiltins"])("has the query %s", (field) => {
    expect(fieldsOf("Query")).toContain(field);
  });

  it.each(["decisions", "alerts", "sessionChanges"])("has the subscription %s", (field) => {
    expect(fieldsOf("Subscription")).toContain(field);
  });

  it("every admin error code is in the one registry", () => {
    for (const code of ["SENTINEL_ADMIN_UNAUTHENTICATED", "SENTINEL_ADMIN_FORBIDDEN", "SENTINEL_ADMIN_NOT_FOUND", "SENTINEL_ADMIN_VALIDATION", "SENTINEL_ADMIN_CONFLICT", "SENTINEL_ADMIN_UNAVAILABLE"]) {
      expect(ERRORS).toHaveProperty(code);
    }
  });
});
