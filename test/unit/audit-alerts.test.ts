import { describe, expect, it } from "vitest";
import { compileRoute, route, severityOf } from "../../engine/audit/alerts/alert.js";
import { discordChannel, slackChannel, webhookChannel, webhookSignature } from "../../engine/audit/alerts/channels.js";
import { parseConfig } from "../../engine/config/load-config.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { SentinelConfigError } from "../../engine/errors.js";

const rec = (extra: Partial<AuditRecord>): AuditRecord =>
  ({ v: 1, kind: "call", chain: "c", seq: 7, prev: "0".repeat(64), hash: "1".repeat(64), id: "trace-7", time: "2026-01-01T00:00:00.000Z", tenant: "acme", ...extra }) as AuditRecord;

describe("alert severity", () => {
  it.each<[string, Partial<AuditRecord>, string | undefined]>([
    ["an allowed call is not alert-worthy", { decision: "allow", outcome: { status: "ok", httpStatus: 200 } }, undefined],
    ["a policy alert rule is a warning", { decision: "alert", ruleId: "watch" }, "warning"],
    ["a policy denial is info", { decision: "deny", outcome: { status: "error", code: "SENTINEL_POLICY_DENIED", httpStatus: 200 } }, "info"],
    ["a bad API key for a known tenant is a warning", { decision: "refuse", outcome: { status: "error", code: "SENTINEL_IDENTITY_CHANGED", httpStatus: 403 } }, "warning"],
    ["an upstream fault is an error", { decision: "allow", outcome: { status: "error", code: "SENTINEL_UPSTREAM_TIMEOUT", httpStatus: 200 } }, "error"],
    ["an admin change is not a call alert", { kind: "admin" }, undefined],
  ])("%s", (_label, extra, severity) => {
    expect(severityOf(rec(extra))).toBe(severity);
  });
});

describe("alert routing", () => {
  const routes = [
    compileRoute({ channels: ["slack"], rules: ["watch-*"] }),
    compileRoute({ channels: ["pager"], minSeverity: "error" }),
    compileRoute({ channels: ["siem", "slack"], decisions: ["deny"], minSeverity: "info" }),
  ];
  it.each<[string, Partial<AuditRecord>, string[]]>([
    ["by rule id glob", { decision: "alert", ruleId: "watch-deletes" }, ["slack"]],
    ["not for another rule", { decision: "alert", ruleId: "other" }, []],
    ["by minimum severity", { outcome: { status: "error", code: "SENTINEL_INTERNAL", httpStatus: 500 } }, ["pager"]],
    ["by decision, once per channel", { decision: "deny", ruleId: "watch-x" }, ["siem", "slack"]],
  ])("%s", (_label, extra, channels) => {
    expect(route(rec(extra), routes).map((a) => a.channel).sort()).toEqual(channels.sort());
  });

  it("gives every alert an id stable per record and channel, so receivers can drop redeliveries", () => {
    const [a] = route(rec({ decision: "alert", ruleId: "watch-x" }), routes);
    expect(a!.alert.id).toBe("c:7:slack");
  });
});

describe("alert channels", () => {
  const alert = { id: "c:7:x", severity: "warning" as const, title: "[acme] alert: mcp.tool repo.delete", record: rec({ decision: "alert", ruleId: "watch", name: "repo.delete", target: "mcp.tool", reasons: ["r".repeat(5000)] }) };

  it("renders Slack Block Kit within Slack's limits, with a plain-text fallback", () => {
    const body = JSON.parse(slackChannel({ id: "s", type: "slack", url: "http://x" }).render(alert, 0).body) as { text: string; blocks: Array<Record<string, unknown>> };
    expect(body.text).toContain("repo.delete");
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
    expect(JSON.stringify(body.blocks[2]).length).toBeLessThan(3100);
  });

  it("renders a Discord embed within Discord's limits", () => {
    const body = JSON.parse(discordChannel({ id: "d", type: "discord", url: "http://x" }).render(alert, 0).body) as { content: string; embeds: Array<{ description: string; fields: unknown[] }> };
    expect(body.embeds[0]!.description.length).toBe(4096);
    expect(body.embeds[0]!.fields.length).toBeLessThanOrEqual(25);
  });

  it("signs a webhook over timestamp and body", () => {
    const req = webhookChannel({ id: "w", type: "webhook", url: "http://x", secret: "s".repeat(16) }).render(alert, 1_700_000_000_000);
    expect(req.headers["x-sentinel-timestamp"]).toBe("1700000000");
    expect(req.headers["x-sentinel-signature"]).toBe(webhookSignature("s".repeat(16), "1700000000", req.body));
  });
});

describe("the audit config", () => {
  const load = (audit: string) => () => parseConfig(`version: 1\naudit:\n${audit}\ntenants: []\n`, "sentinel.yaml");
  it.each<[string, string, string]>([
    ["an unknown arguments mode", "  arguments: some", "audit.arguments"],
    ["a route to no channel", "  alerts:\n    channels: []\n    routes: [{ channels: [ops] }]", "audit.alerts.routes[0].channels[0]"],
    ["a webhook without a secret", "  alerts:\n    channels: [{ id: w, type: webhook, url: 'http://x' }]\n    routes: []", "audit.alerts.channels[0].secret"],
    ["a short webhook secret", "  alerts:\n    channels: [{ id: w, type: webhook, url: 'http://x', secret: short }]\n    routes: []", "audit.alerts.channels[0].secret"],
    ["a store of an unknown kind", "  sinks:\n    store: { kind: mysql }", "audit.sinks.store.kind"],
    ["a kafka sink without a topic", "  sinks:\n    kafka: { brokers: 'b:1' }", "audit.sinks.kafka"],
  ])("names the path of %s", (_label, audit, path) => {
    let error: unknown;
    try {
      load(audit)();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SentinelConfigError);
    expect((error as SentinelConfigError).path).toBe(path);
  });
});
