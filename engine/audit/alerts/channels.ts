/**
 * Alert channels: how an alert becomes one HTTP request for Slack (incoming webhook with Block
 * Kit blocks), Discord (webhook with an embed) or a generic webhook (the record as JSON, signed
 * with HMAC-SHA256 over `<timestamp>.<body>`). A channel is an object of named hooks; the
 * deliverer owns transport, retries and the dead-letter.
 */
import { createHmac } from "node:crypto";
import type { Alert, Severity } from "./alert.js";

export interface ChannelConfig {
  readonly id: string;
  readonly type: "slack" | "discord" | "webhook";
  readonly url: string;
  /** HMAC key of a generic webhook. */
  readonly secret?: string;
}

export interface AlertRequest {
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface AlertChannel {
  readonly id: string;
  readonly url: string;
  /** Builds the request; called again on each attempt so signatures carry a fresh timestamp. */
  render(alert: Alert, nowMs: number): AlertRequest;
}

const EMOJI: Record<Severity, string> = { info: ":information_source:", warning: ":warning:", error: ":x:", critical: ":rotating_light:" };
const COLOR: Record<Severity, number> = { info: 0x3b82f6, warning: 0xf59e0b, error: 0xef4444, critical: 0x7f1d1d };

const clip = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n - 1) + "…");

function facts(alert: Alert): Array<[string, string]> {
  const r = alert.record;
  const out: Array<[string, string]> = [["Severity", alert.severity], ["Tenant", r.tenant ?? "-"]];
  if (r.user !== undefined) out.push(["User", r.user]);
  if (r.role !== undefined) out.push(["Role", r.role]);
  if (r.connection !== undefined) out.push(["Connection", r.connection]);
  if (r.name !== undefined) out.push(["Target", `${r.target ?? ""} ${r.name}`.trim()]);
  out.push(["Decision", r.decision ?? "-"]);
  if (r.ruleId !== undefined) out.push(["Rule", r.ruleId]);
  if (r.outcome?.code !== undefined) out.push(["Error", r.outcome.code]);
  return out;
}

const json = { "content-type": "application/json" };

/** A channel that POSTs a JSON body built from the alert. */
const jsonChannel = (config: ChannelConfig, body: (alert: Alert) => unknown): AlertChannel => ({
  id: config.id,
  url: config.url,
  render: (alert) => ({ body: JSON.stringify(body(alert)), headers: json }),
});

/** Slack limits: header text 150 chars, section fields 10 of 2000 chars, section text 3000. */
function slackBody(alert: Alert): unknown {
  const r = alert.record;
  return {
    text: clip(alert.title, 3000),
    blocks: [
      { type: "header", text: { type: "plain_text", text: clip(alert.title, 150), emoji: true } },
      { type: "section", fields: facts(alert).slice(0, 10).map(([k, v]) => ({ type: "mrkdwn", text: clip(`*${k}*\n${v}`, 2000) })) },
      ...(r.reasons?.[0] === undefined ? [] : [{ type: "section", text: { type: "mrkdwn", text: clip(r.reasons[0], 3000) } }]),
      { type: "context", elements: [{ type: "mrkdwn", text: clip(`${EMOJI[alert.severity]} trace \`${r.id}\` · ${r.time} · chain ${r.chain} #${r.seq}`, 3000) }] },
    ],
  };
}

/** Discord limits: content 2000, title 256, description 4096, 25 fields of 256/1024. */
function discordBody(alert: Alert): unknown {
  const r = alert.record;
  return {
    content: clip(alert.title, 2000),
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: clip(alert.title, 256),
        ...(r.reasons?.[0] === undefined ? {} : { description: clip(r.reasons[0], 4096) }),
        color: COLOR[alert.severity],
        timestamp: r.time,
        fields: facts(alert).slice(0, 25).map(([name, value]) => ({ name: clip(name, 256), value: clip(value, 1024), inline: true })),
        footer: { text: clip(`trace ${r.id} · chain ${r.chain} #${r.seq}`, 2048) },
      },
    ],
  };
}

export const slackChannel = (config: ChannelConfig): AlertChannel => jsonChannel(config, slackBody);
export const discordChannel = (config: ChannelConfig): AlertChannel => jsonChannel(config, discordBody);

export const SIGNATURE_HEADER = "x-sentinel-signature";
export const TIMESTAMP_HEADER = "x-sentinel-timestamp";
export const ALERT_ID_HEADER = "x-sentinel-alert-id";

/** `v1=<hex>`: HMAC-SHA256 over `<unix seconds>.<body>`, the scheme receivers check. */
export const webhookSignature = (secret: string, timestamp: string, body: string): string =>
  "v1=" + createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");

export function webhookChannel(config: ChannelConfig): AlertChannel {
  if (config.secret === undefined || config.secret.length < 16) throw new Error(`alert channel ${config.id}: a webhook needs a secret of at least 16 characters`);
  const secret = config.secret;
  return {
    id: config.id,
    url: config.url,
    render(alert, nowMs) {
      const body = JSON.stringify({ id: alert.id, severity: alert.severity, title: alert.title, record: alert.record });
      const timestamp = String(Math.floor(nowMs / 1000));
      return {
        body,
        headers: { ...json, [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body), [ALERT_ID_HEADER]: alert.id },
      };
    },
  };
}

export function makeChannel(config: ChannelConfig): AlertChannel {
  switch (config.type) {
    case "slack":
      return slackChannel(config);
    case "discord":
      return discordChannel(config);
    case "webhook":
      return webhookChannel(config);
  }
}
