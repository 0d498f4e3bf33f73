/**
 * Which records become alerts, how severe they are, and where they go. A record's severity
 * follows from what happened (a policy `alert` rule, a refusal, an upstream or gateway fault);
 * routes pick records by rule id (glob), decision and minimum severity and name the channels.
 */
import { canonicalName } from "../../policy/canonical.js";
import { compileGlob, type GlobMatcher } from "../../policy/glob.js";
import type { AuditDecision, AuditRecord } from "../record.js";

export const SEVERITIES = ["info", "warning", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export interface Alert {
  /** Stable per record and channel, so a receiver can drop a redelivery. */
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  readonly record: AuditRecord;
}

const AUTH_CODES = new Set(["SENTINEL_AUTH_INVALID", "SENTINEL_AUTH_MISSING", "SENTINEL_IDENTITY_CHANGED", "SENTINEL_UNKNOWN_SESSION"]);

/** The severity of a record, or undefined when it is not alert-worthy at all (a plain allowed call). */
export function severityOf(r: AuditRecord): Severity | undefined {
  if (r.kind !== "call") return undefined;
  const code = r.outcome?.code;
  if (code === "SENTINEL_AUDIT_UNAVAILABLE") return "critical";
  if (code === "SENTINEL_INTERNAL" || code?.startsWith("SENTINEL_UPSTREAM_")) return "error";
  if (r.decision === "alert") return "warning";
  if (code !== undefined && AUTH_CODES.has(code)) return "warning";
  if (r.decision === "deny" || r.decision === "confirm" || r.decision === "refuse") return "info";
  return undefined;
}

export function alertTitle(r: AuditRecord): string {
  const subject = r.name === undefined ? (r.method ?? "call") : `${r.target ?? "call"} ${r.name}`;
  const who = r.user === undefined ? "" : ` by ${r.user}`;
  const rule = r.ruleId === undefined ? "" : ` (rule ${r.ruleId})`;
  const what = r.decision === "alert" ? "alert" : r.outcome?.code ?? r.decision ?? "event";
  return `[${r.tenant ?? "-"}] ${what}: ${subject}${who}${rule}`;
}

export interface RouteConfig {
  readonly channels: readonly string[];
  readonly rules?: readonly string[];
  readonly decisions?: readonly AuditDecision[];
  readonly minSeverity?: Severity;
}

export interface CompiledRoute {
  readonly channels: readonly string[];
  matches(r: AuditRecord, severity: Severity): boolean;
}

export function compileRoute(route: RouteConfig): CompiledRoute {
  const rules: GlobMatcher[] | undefined = route.rules?.map(compileGlob);
  const min = severityRank(route.minSeverity ?? "warning");
  return {
    channels: route.channels,
    matches(r, severity) {
      if (severityRank(severity) < min) return false;
      if (route.decisions !== undefined && (r.decision === undefined || !route.decisions.includes(r.decision))) return false;
      if (rules !== undefined && (r.ruleId === undefined || !rules.some((g) => g.match(canonicalName(r.ruleId!))))) return false;
      return true;
    },
  };
}

/** The alerts one record produces: one per channel that any matching route names. */
export function route(r: AuditRecord, routes: readonly CompiledRoute[]): Array<{ channel: string; alert: Alert }> {
  const severity = severityOf(r);
  if (severity === undefined) return [];
  const channels = new Set<string>();
  for (const rt of routes) if (rt.matches(r, severity)) for (const c of rt.channels) channels.add(c);
  const title = alertTitle(r);
  return [...channels].map((channel) => ({ channel, alert: { id: `${r.chain}:${r.seq}:${channel}`, severity, title, record: r } }));
}
