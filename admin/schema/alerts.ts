/**
 * Alert sinks: the channels (Slack, Discord, signed webhooks) and the routes that pick which
 * records go where (`audit.alerts` in the config). They are deployment-wide, so only unscoped
 * owners and admins see and change them. Channel URLs and webhook secrets are credentials:
 * shown masked.
 */
import type { AuditConfig } from "../../engine/config/types.js";
import { mask } from "../../engine/vault/masking.js";
import { builder } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import { compact, findItem } from "../document.js";
import type { ConfigDocument } from "../../engine/config-store/config-document.js";
import { AuditDecisionEnum } from "./audit.js";

type Alerts = NonNullable<AuditConfig["alerts"]>;
type Channel = Alerts["channels"][number];
type Route = Alerts["routes"][number];

const ChannelType = builder.enumType("AlertChannelType", { values: ["slack", "discord", "webhook"] as const });
const Severity = builder.enumType("AlertRouteSeverity", { values: ["info", "warning", "error", "critical"] as const });

/** Scheme and host stay readable; the path (where Slack and Discord put their secret) is masked. */
function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? "/" + mask(u.pathname.slice(1) + u.search) : ""}`;
  } catch {
    return mask(url);
  }
}

const ChannelRef = builder.objectRef<Channel>("AlertChannel").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    type: t.field({ type: ChannelType, resolve: (c) => c.type }),
    url: t.string({ description: "Masked.", resolve: (c) => maskUrl(c.url) }),
    hasSecret: t.boolean({ description: "Webhooks sign with an HMAC secret; never shown.", resolve: (c) => c.secret !== undefined }),
  }),
});
const RouteRef = builder.objectRef<Route>("AlertRoute").implement({
  fields: (t) => ({
    channels: t.stringList({ resolve: (r) => [...r.channels] }),
    rules: t.stringList({ nullable: true, description: "Rule id globs.", resolve: (r) => (r.rules === undefined ? null : [...r.rules]) }),
    decisions: t.stringList({ nullable: true, resolve: (r) => (r.decisions === undefined ? null : [...r.decisions]) }),
    minSeverity: t.field({ type: Severity, nullable: true, resolve: (r) => r.minSeverity ?? null }),
  }),
});
const SinksRef = builder.objectRef<Alerts>("AlertSinks").implement({
  fields: (t) => ({
    channels: t.field({ type: [ChannelRef], resolve: (a) => a.channels }),
    routes: t.field({ type: [RouteRef], resolve: (a) => a.routes }),
    retry: t.field({ type: "JSON", nullable: true, resolve: (a) => a.retry ?? null }),
  }),
});

const EMPTY: Alerts = { channels: [], routes: [] };
const alertsOf = (doc: ConfigDocument): Alerts => ((doc.audit as AuditConfig | undefined)?.alerts ?? EMPTY);

/** The document's alerts section, created when absent; emptied sections are removed. */
function editAlerts<T>(doc: ConfigDocument, fn: (a: Alerts) => T): T {
  const audit = (doc.audit ??= {}) as AuditConfig;
  audit.alerts ??= { channels: [], routes: [] };
  const result = fn(audit.alerts);
  if (audit.alerts.channels.length === 0 && audit.alerts.routes.length === 0) delete audit.alerts;
  if (Object.keys(audit).length === 0) delete doc.audit;
  return result;
}

const ChannelInput = builder.inputType("AlertChannelInput", {
  fields: (t) => ({
    id: t.string({ required: true }),
    type: t.field({ type: ChannelType, required: true }),
    url: t.string({ required: true }),
    secret: t.string({ description: "webhook: the HMAC-SHA256 key (16+ characters)." }),
  }),
});
const RouteInput = builder.inputType("AlertRouteInput", {
  fields: (t) => ({
    channels: t.stringList({ required: true }),
    rules: t.stringList(),
    decisions: t.field({ type: [AuditDecisionEnum] }),
    minSeverity: t.field({ type: Severity }),
  }),
});

const SinksPayload = builder.objectRef<{ sinks: Alerts; version: number }>("AlertSinksPayload").implement({
  fields: (t) => ({ alertSinks: t.field({ type: SinksRef, resolve: (p) => p.sinks }), version: t.exposeInt("version") }),
});

builder.queryField("alertSinks", (t) =>
  t.field({ type: SinksRef, authScopes: { globalReader: true }, resolve: async (_root, _args, ctx) => alertsOf(await ctx.document()) }),
);

builder.mutationFields((t) => ({
  upsertAlertChannel: t.field({
    type: SinksPayload,
    authScopes: { globalWriter: true },
    description: "Adds a channel, or replaces the one with the same id.",
    args: { input: t.arg({ type: ChannelInput, required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const channel = compact({ ...args.input }) as Channel;
      const done = await mutateConfig(ctx, args, (doc, at) =>
        editAlerts(doc, (a) => {
          const index = a.channels.findIndex((c) => c.id === channel.id);
          if (index < 0) a.channels.push(channel);
          else a.channels[index] = channel;
          at(`audit.alerts.channels[${index < 0 ? a.channels.length - 1 : index}]`);
          return structuredClone(a);
        }),
      );
      return { sinks: done.result, version: done.version.version };
    },
  }),
  deleteAlertChannel: t.field({
    type: SinksPayload,
    authScopes: { globalWriter: true },
    description: "Removes a channel and drops it from every route (a route left with no channel goes too).",
    args: { id: t.arg.id({ required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const id = String(args.id);
      const done = await mutateConfig(ctx, args, (doc) =>
        editAlerts(doc, (a) => {
          a.channels.splice(findItem(a.channels, "audit.alerts.channels", (c) => c.id, id, "alert channel").index, 1);
          a.routes = a.routes.map((r) => ({ ...r, channels: r.channels.filter((c) => c !== id) })).filter((r) => r.channels.length > 0);
          return structuredClone(a);
        }),
      );
      return { sinks: done.result, version: done.version.version };
    },
  }),
  setAlertRoutes: t.field({
    type: SinksPayload,
    authScopes: { globalWriter: true },
    description: "Replaces every route.",
    args: { routes: t.arg({ type: [RouteInput], required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc, at) =>
        editAlerts(doc, (a) => {
          a.routes = args.routes.map((r) => compact({ ...r }) as Route);
          at("audit.alerts.routes");
          return structuredClone(a);
        }),
      );
      return { sinks: done.result, version: done.version.version };
    },
  }),
}));
