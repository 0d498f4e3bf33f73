// Alert fan-out against local receivers that check what Slack, Discord and a signed webhook
// check: routing per rule and severity, retries with backoff through 5xx and 429, the
// dead-letter, and `sentinel audit dead-letters list|replay`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { webhookChannel } from "../../engine/audit/alerts/channels.js";
import { listDeadLetters } from "../../engine/audit/alerts/dead-letter.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import type { AuditConfig, PolicyConfig } from "../../engine/config/types.js";
import { runAuditCommand } from "../../engine/cli/audit-command.js";
import { discordReceiver, slackReceiver, webhookReceiver, type Receiver } from "../support/alert-receivers.js";
import { tempDir } from "../support/audit-fixtures.js";
import { allowAll, connectClient, demoConnection, startTestGateway, type TestGateway } from "../support/gateway-harness.js";

const SECRET = "a-webhook-secret-of-some-length";
const policies: PolicyConfig[] = [
  { id: "watch-deletes", target: "mcp.tool", pattern: "repo.delete", action: "alert" },
  { id: "no-admin", target: "mcp.tool", pattern: "admin.*", action: "deny" },
  ...allowAll,
];

describe("alerts", () => {
  const receivers: Receiver[] = [];
  const gateways: TestGateway[] = [];
  afterAll(async () => {
    for (const g of gateways) await g.close();
    for (const r of receivers) await r.close();
  });

  async function run(audit: AuditConfig, calls: string[]): Promise<TestGateway> {
    const gw = await startTestGateway({ connections: [demoConnection()], policies }, {}, {}, audit);
    gateways.push(gw);
    const client = await connectClient(gw, "github-prod", { user: "eve@acme.com", metadata: { role: "developer" } });
    for (const name of calls) await client.callTool({ name, arguments: { repo: "acme/api" } }).catch(() => undefined);
    await client.close();
    const log = gw.gateway.audit!;
    await log.flush();
    const alerts = log.shippers.find((s) => s.sink.name === "alerts")!;
    const deadline = Date.now() + 30_000;
    while (alerts.acked < log.spool.syncedSeq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alerts.acked).toBe(log.spool.syncedSeq);
    return gw;
  }

  it("routes by rule and severity to Slack, Discord and a signed webhook, retrying 5xx and 429", async () => {
    const [slack, discord, hook] = await Promise.all([slackReceiver(), discordReceiver(), webhookReceiver(SECRET)]);
    receivers.push(slack, discord, hook);
    slack.script.push(500, 503);
    discord.script.push(429);
    await run(
      {
        dir: join(tempDir(), "audit"),
        alerts: {
          channels: [
            { id: "sec-slack", type: "slack", url: slack.url },
            { id: "sec-discord", type: "discord", url: discord.url },
            { id: "siem", type: "webhook", url: hook.url, secret: SECRET },
          ],
          routes: [
            { channels: ["sec-slack", "sec-discord", "siem"], rules: ["watch-*"] },
            { channels: ["siem"], decisions: ["deny"], minSeverity: "info" },
          ],
          retry: { attempts: 4, initialDelayMs: 20, maxDelayMs: 200 },
        },
      },
      ["repo.read", "repo.delete", "admin.reset"],
    );
    expect(slack.answers).toEqual(["500", "503", "ok"]);
    expect(slack.accepted).toHaveLength(1);
    expect(JSON.stringify(slack.accepted[0])).toContain("watch-deletes");
    expect(discord.answers).toEqual(["429", "204"]);
    expect((discord.accepted[0] as { embeds: Array<{ fields: Array<{ name: string; value: string }> }> }).embeds[0]!.fields).toContainEqual({ name: "User", value: "eve@acme.com", inline: true });
    const hooked = hook.accepted as Array<{ severity: string; record: AuditRecord }>;
    expect(hooked.map((a) => [a.record.ruleId, a.record.decision, a.severity]).sort()).toEqual([
      ["no-admin", "deny", "info"],
      ["watch-deletes", "alert", "warning"],
    ]);
  });

  it("signs webhooks so that a replayed or stale delivery is refused by the receiver", async () => {
    const hook = await webhookReceiver(SECRET);
    receivers.push(hook);
    const channel = webhookChannel({ id: "siem", type: "webhook", url: hook.url, secret: SECRET });
    const alert = { id: "c:1:siem", severity: "warning" as const, title: "t", record: { id: "x" } as AuditRecord };
    const send = async (nowMs: number) => {
      const req = channel.render(alert, nowMs);
      return (await request(hook.url, { method: "POST", headers: req.headers, body: req.body })).statusCode;
    };
    const now = Date.now();
    const fresh = channel.render(alert, now);
    const post = async (headers: Record<string, string>, body: string) => (await request(hook.url, { method: "POST", headers, body })).statusCode;
    expect(await post(fresh.headers, fresh.body)).toBe(200);
    expect(await post(fresh.headers, fresh.body)).toBe(409);
    expect(await send(now - 10 * 60_000)).toBe(401);
    expect(await post({ ...fresh.headers, "x-sentinel-signature": "v1=" + "0".repeat(64) }, fresh.body)).toBe(401);
  });

  it("dead-letters what cannot be delivered, lists it, and replays it once the receiver is back", async () => {
    const [slack, discord] = await Promise.all([slackReceiver(), discordReceiver()]);
    receivers.push(slack, discord);
    slack.script.push(404); // a revoked webhook: permanent, not retried
    discord.script.push(500, 500); // down for longer than the retry budget
    const dir = join(tempDir(), "audit");
    const audit: AuditConfig = {
      dir,
      alerts: {
        channels: [
          { id: "sec-slack", type: "slack", url: slack.url },
          { id: "sec-discord", type: "discord", url: discord.url },
        ],
        routes: [{ channels: ["sec-slack", "sec-discord"], rules: ["watch-deletes"] }],
        retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 50 },
      },
    };
    const gw = await run(audit, ["repo.delete"]);
    await gw.close();
    gateways.splice(gateways.indexOf(gw), 1);
    expect(slack.answers).toEqual(["404"]);
    expect(discord.answers).toEqual(["500", "500"]);
    expect(listDeadLetters(dir).map((d) => [d.channel, d.attempts])).toEqual([
      ["sec-slack", 1],
      ["sec-discord", 2],
    ]);

    const configFile = join(tempDir(), "sentinel.yaml");
    writeFileSync(configFile, JSON.stringify({ version: 1, audit, tenants: [] }));
    let out = "";
    expect(await runAuditCommand(["dead-letters", "list", "--config", configFile, "--json"], (s) => (out += s))).toBe(0);
    expect((JSON.parse(out) as unknown[]).length).toBe(2);

    out = "";
    expect(await runAuditCommand(["dead-letters", "replay", "--config", configFile], (s) => (out += s))).toBe(0);
    expect(out).toContain("delivered to sec-slack");
    expect(slack.accepted).toHaveLength(1);
    expect(discord.accepted).toHaveLength(1);
    expect(listDeadLetters(dir)).toEqual([]);
  });
});
