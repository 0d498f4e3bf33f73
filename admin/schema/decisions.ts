/**
 * Live decisions and alerts as subscriptions (GraphQL over SSE). Every call record is a
 * decision; an alert is a decision the audit alert router would raise (engine/audit/alerts:
 * a policy `alert`, a refusal, an upstream or gateway fault), with its severity and title.
 * A tenant-scoped token only ever receives its own tenant's events.
 */
import { alertTitle, SEVERITIES, severityOf, severityRank, type Severity } from "../../engine/audit/alerts/alert.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { compileGlob } from "../../engine/policy/glob.js";
import { canonicalName } from "../../engine/policy/canonical.js";
import { builder } from "../builder.js";
import type { AdminContext } from "../context.js";
import { invalid } from "../errors.js";
import { eventQueue } from "../feeds/event-queue.js";
import type { DecisionEvent } from "../feeds/decision-feed.js";
import { AuditDecisionEnum, AuditOutcomeRef } from "./audit.js";
import { tenantFilter, whileTokenActive } from "./sessions.js";

const DecisionRef = builder.objectRef<DecisionEvent>("Decision").implement({
  description: "A call as the gateway decided it. Across processes (a standalone admin on Postgres) reasons, role, session and method are not carried.",
  fields: (t) => ({
    traceId: t.string({ resolve: (d) => d.id }),
    time: t.field({ type: "DateTime", resolve: (d) => d.time }),
    tenant: t.string({ nullable: true, resolve: (d) => d.tenant ?? null }),
    user: t.string({ nullable: true, resolve: (d) => d.user ?? null }),
    role: t.string({ nullable: true, resolve: (d) => d.role ?? null }),
    session: t.string({ nullable: true, resolve: (d) => d.session ?? null }),
    connection: t.string({ nullable: true, resolve: (d) => d.connection ?? null }),
    method: t.string({ nullable: true, resolve: (d) => d.method ?? null }),
    target: t.string({ nullable: true, resolve: (d) => d.target ?? null }),
    name: t.string({ nullable: true, resolve: (d) => d.name ?? null }),
    decision: t.field({ type: AuditDecisionEnum, nullable: true, resolve: (d) => d.decision ?? null }),
    ruleId: t.string({ nullable: true, resolve: (d) => d.ruleId ?? null }),
    reasons: t.stringList({ nullable: true, resolve: (d) => (d.reasons === undefined ? null : [...d.reasons]) }),
    outcome: t.field({ type: AuditOutcomeRef, nullable: true, resolve: (d) => d.outcome ?? null }),
  }),
});

const SeverityEnum = builder.enumType("AlertSeverity", { values: SEVERITIES });

interface AlertEvent {
  readonly severity: Severity;
  readonly title: string;
  readonly decision: DecisionEvent;
}

const AlertRef = builder.objectRef<AlertEvent>("Alert").implement({
  fields: (t) => ({
    severity: t.field({ type: SeverityEnum, resolve: (a) => a.severity }),
    title: t.exposeString("title"),
    decision: t.field({ type: DecisionRef, resolve: (a) => a.decision }),
  }),
});

const scoped = (_root: unknown, args: { tenant?: string | number | null }) => (args.tenant == null ? { authenticated: true } : { tenantReader: String(args.tenant) });

/** Decisions matching the caller's scope and the filters, pushed as they are made. */
function decisionQueue<T>(ctx: AdminContext, args: { tenant?: string | number | null; decisions?: readonly string[] | null; tool?: string | null }, map: (d: DecisionEvent) => T | undefined) {
  const tenant = tenantFilter(ctx, args.tenant == null ? undefined : String(args.tenant));
  const decisions = args.decisions == null ? undefined : new Set(args.decisions);
  let tool: ReturnType<typeof compileGlob> | undefined;
  try {
    tool = args.tool == null ? undefined : compileGlob(canonicalName(args.tool));
  } catch (err) {
    throw invalid(`tool: ${(err as Error).message}`, { field: "tool" });
  }
  return eventQueue<T>(
    (push) =>
      ctx.services.decisions.subscribe((d) => {
        if (tenant !== undefined && d.tenant !== tenant) return;
        if (decisions !== undefined && (d.decision === undefined || !decisions.has(d.decision))) return;
        if (tool !== undefined && (d.name === undefined || !tool.match(d.name))) return;
        const event = map(d);
        if (event !== undefined) push(event);
      }),
    whileTokenActive(ctx),
  );
}

builder.subscriptionFields((t) => ({
  decisions: t.field({
    type: DecisionRef,
    authScopes: scoped,
    description: "Every call decision as it is made (after its audit record is written).",
    args: {
      tenant: t.arg.id(),
      decisions: t.arg({ type: [AuditDecisionEnum], description: "Only these decisions." }),
      tool: t.arg.string({ description: "A glob on the tool (or resource, prompt) name." }),
    },
    subscribe: (_root, args, ctx) => decisionQueue(ctx, args, (d) => d),
    resolve: (d) => d,
  }),
  alerts: t.field({
    type: AlertRef,
    authScopes: scoped,
    description: "Decisions worth an alert, at or above `minSeverity` (default warning).",
    args: { tenant: t.arg.id(), minSeverity: t.arg({ type: SeverityEnum, defaultValue: "warning" }), tool: t.arg.string() },
    subscribe: (_root, args, ctx) => {
      const min = severityRank(args.minSeverity ?? "warning");
      return decisionQueue(ctx, args, (d): AlertEvent | undefined => {
        const record = { ...d, kind: "call" } as AuditRecord;
        const severity = severityOf(record);
        if (severity === undefined || severityRank(severity) < min) return undefined;
        return { severity, title: alertTitle(record), decision: d };
      });
    },
    resolve: (a) => a,
  }),
}));
