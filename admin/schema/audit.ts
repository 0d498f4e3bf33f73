/**
 * Audit queries: a tenant's records from the audit store, newest first, narrowed by time, user,
 * tool, decision and kind, with an opaque cursor (engine/audit/query.ts), so a page stays put
 * while new records keep arriving.
 */
import { queryAudit, type AuditPage } from "../../engine/audit/query.js";
import type { AuditDecision, AuditRecord } from "../../engine/audit/record.js";
import { builder } from "../builder.js";
import { invalid } from "../errors.js";

export const AuditDecisionEnum = builder.enumType("AuditDecision", { values: ["allow", "deny", "alert", "redact", "confirm", "refuse", "pass"] as const });
const AuditKind = builder.enumType("AuditKind", { values: ["call", "admin", "checkpoint"] as const });

export const AuditOutcomeRef = builder.objectRef<NonNullable<AuditRecord["outcome"]>>("AuditOutcome").implement({
  fields: (t) => ({
    status: t.exposeString("status", { description: "ok, tool_error or error." }),
    code: t.exposeString("code", { nullable: true }),
    httpStatus: t.exposeInt("httpStatus"),
  }),
});

const AuditRecordRef = builder.objectRef<AuditRecord>("AuditRecord").implement({
  description: "One audit record (README: the audit record), as the store holds it.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The call's trace id." }),
    kind: t.field({ type: AuditKind, resolve: (r) => r.kind }),
    chain: t.exposeString("chain"),
    seq: t.exposeInt("seq"),
    hash: t.exposeString("hash"),
    time: t.field({ type: "DateTime", resolve: (r) => r.time }),
    tenant: t.exposeString("tenant", { nullable: true }),
    apiKey: t.string({ nullable: true, resolve: (r) => r.keyId ?? null }),
    user: t.exposeString("user", { nullable: true }),
    role: t.exposeString("role", { nullable: true }),
    session: t.exposeString("session", { nullable: true }),
    connection: t.exposeString("connection", { nullable: true }),
    method: t.exposeString("method", { nullable: true }),
    target: t.exposeString("target", { nullable: true }),
    name: t.exposeString("name", { nullable: true }),
    decision: t.field({ type: AuditDecisionEnum, nullable: true, resolve: (r) => r.decision ?? null }),
    ruleId: t.exposeString("ruleId", { nullable: true }),
    reasons: t.stringList({ nullable: true, resolve: (r) => (r.reasons === undefined ? null : [...r.reasons]) }),
    outcome: t.field({ type: AuditOutcomeRef, nullable: true, resolve: (r) => r.outcome ?? null }),
    timings: t.field({ type: "JSON", nullable: true, description: "Microseconds per stage.", resolve: (r) => r.timings ?? null }),
    upstream: t.exposeString("upstream", { nullable: true }),
    arguments: t.field({ type: "JSON", nullable: true, description: "Per audit.arguments: absent, redacted or full.", resolve: (r) => r.arguments ?? null }),
    findings: t.field({ type: "JSON", nullable: true, resolve: (r) => r.findings ?? null }),
    tokens: t.field({ type: "JSON", nullable: true, resolve: (r) => r.tokens ?? null }),
    costUsd: t.float({ nullable: true, resolve: (r) => r.cost?.usd ?? null }),
    admin: t.field({ type: "JSON", nullable: true, description: "Admin records: who, what, before and after digests.", resolve: (r) => r.admin ?? null }),
  }),
});

const PageInfo = builder.objectRef<AuditPage>("AuditPageInfo").implement({
  fields: (t) => ({
    hasNextPage: t.boolean({ resolve: (p) => p.nextCursor !== undefined }),
    endCursor: t.string({ nullable: true, description: "Pass as `after` for the next page.", resolve: (p) => p.nextCursor ?? null }),
  }),
});
const Page = builder.objectRef<AuditPage>("AuditPage").implement({
  fields: (t) => ({
    records: t.field({ type: [AuditRecordRef], resolve: (p) => p.records }),
    pageInfo: t.field({ type: PageInfo, resolve: (p) => p }),
  }),
});

builder.queryField("auditRecords", (t) =>
  t.field({
    type: Page,
    authScopes: (_root, args) => ({ tenantReader: String(args.tenant) }),
    args: {
      tenant: t.arg.id({ required: true }),
      from: t.arg({ type: "DateTime", description: "Inclusive." }),
      to: t.arg({ type: "DateTime", description: "Exclusive." }),
      user: t.arg.string(),
      tool: t.arg.string({ description: "The canonical name." }),
      decision: t.arg({ type: AuditDecisionEnum }),
      kind: t.arg({ type: AuditKind }),
      first: t.arg.int({ defaultValue: 50, description: "Page size, 1 to 1000." }),
      after: t.arg.string({ description: "The previous page's endCursor." }),
    },
    resolve: async (_root, args, ctx) => {
      try {
        return await queryAudit(ctx.services.store, {
          tenant: String(args.tenant),
          from: args.from ?? undefined,
          to: args.to ?? undefined,
          user: args.user ?? undefined,
          name: args.tool ?? undefined,
          decision: (args.decision ?? undefined) as AuditDecision | undefined,
          kind: args.kind ?? undefined,
          limit: args.first ?? 50,
          cursor: args.after ?? undefined,
        });
      } catch (err) {
        if (err instanceof RangeError || err instanceof SyntaxError) throw invalid("after is not a cursor this API returned", { field: "after" });
        throw err;
      }
    },
  }),
);
