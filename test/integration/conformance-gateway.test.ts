/**
 * The official MCP conformance suite (server mode) THROUGH the gateway:
 *
 *   suite ──► auth forwarder (adds Authorization) ──► gateway /mcp/conf ──► fixture server
 *
 * The suite's client cannot send headers of its own, so test/support/auth-forwarder.ts adds the
 * API key and otherwise passes requests and SSE responses through untouched (Host and Origin
 * included, so the dns-rebinding scenario exercises the gateway's own Host/Origin check).
 * Needs test/conformance/setup.sh to have run; fails (never skips) when it has not.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startConformanceServer, type ConformanceServerHandle } from "../fixtures/conformance-server.js";
import { assertToolsInstalled, formatSummary, runConformance, type ConformanceRun } from "../conformance/run.js";
import { runResumeCheck } from "../conformance/resume-check.js";
import { ACTIVE_SERVER_SCENARIOS, PENDING_SERVER_SCENARIOS } from "../conformance/scenarios.js";
import { startAuthForwarder, type AuthForwarder } from "../support/auth-forwarder.js";
import { allowAll, startTestGateway, type TestGateway } from "../support/gateway-harness.js";

/** Counter values from the gateway's Prometheus text whose labels contain every given fragment. */
function counter(gw: TestGateway, metric: string, ...fragments: string[]): number {
  let total = 0;
  for (const line of gw.gateway.metrics.prometheus().split("\n")) {
    if (!line.startsWith(`${metric}{`)) continue;
    if (fragments.every((f) => line.includes(f))) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

function explain(run: ConformanceRun): string {
  const bad = [...run.failing, ...run.missing.map((m) => `${m} (missing)`)];
  const why = bad.length > 0 ? bad.join(", ") : `suite exit code ${run.exitCode}${run.timedOut ? " (timed out)" : ""}`;
  return `conformance failures through the gateway: ${why}\n${formatSummary(run)}\n--- suite output (tail) ---\n${run.stdout.slice(-8000)}${run.stderr.slice(-2000)}`;
}

describe("MCP conformance suite through the gateway", () => {
  let fixture: ConformanceServerHandle | undefined;
  let gw: TestGateway | undefined;
  let forwarder: AuthForwarder | undefined;
  let url = "";

  beforeAll(async () => {
    fixture = await startConformanceServer(0);
    gw = await startTestGateway(
      { connections: [{ name: "conf", transport: "http", url: fixture.url }], policies: allowAll },
      { maxBodyBytes: 4 << 20 },
    );
    forwarder = await startAuthForwarder({ target: gw.url, apiKey: gw.key });
    url = `${forwarder.url}/mcp/conf`;
  });

  afterAll(async () => {
    await forwarder?.close();
    await gw?.close();
    await fixture?.close();
  });

  it("passes every active server scenario", async () => {
    assertToolsInstalled(); // fails with "run test/conformance/setup.sh" when .tools is missing
    const before = counter(gw!, "sentinel_requests_total", 'connection="conf"', 'outcome="forwarded"');
    const rebindingRefusals = counter(gw!, "sentinel_refusals_total", 'code="SENTINEL_FORBIDDEN_ORIGIN"');

    const run = await runConformance({ url, suite: "active", timeoutMs: 120_000 });
    if (!run.ok) throw new Error(explain(run));
    expect(run.scenarios.map((s) => s.scenario).sort()).toEqual([...ACTIVE_SERVER_SCENARIOS].sort());
    expect(run.exitCode).toBe(0);

    // The traffic really went through the gateway, and the gateway (not the fixture) is what
    // refused the rebinding attempt: the forwarder passes the evil Host through unchanged.
    expect(counter(gw!, "sentinel_requests_total", 'connection="conf"', 'outcome="forwarded"') - before).toBeGreaterThan(50);
    expect(counter(gw!, "sentinel_requests_total", 'connection="conf"', 'method="tools/call"', 'outcome="forwarded"')).toBeGreaterThan(10);
    expect(counter(gw!, "sentinel_refusals_total", 'code="SENTINEL_FORBIDDEN_ORIGIN"') - rebindingRefusals).toBeGreaterThanOrEqual(1);
  }, 150_000);

  it("passes the pending scenarios (json-schema-2020-12, server-sse-polling) too", async () => {
    assertToolsInstalled();
    const run = await runConformance({ url, suite: "pending", timeoutMs: 60_000 });
    if (!run.ok) throw new Error(explain(run));
    expect(run.scenarios.map((s) => s.scenario).sort()).toEqual([...PENDING_SERVER_SCENARIOS].sort());
  }, 90_000);

  it("resumes a POST SSE stream closed mid-call via GET + Last-Event-ID through the gateway", async () => {
    const check = await runResumeCheck(url);
    expect(check.resultText).toContain("Reconnection test completed successfully");
    // The client reconnected with the upstream's event id, which the gateway passed down as is.
    expect(check.resumedWith.length).toBeGreaterThan(0);
    expect(check.resumedWith[0]).toMatch(/\S/);
  }, 60_000);

  it("the gateway refuses an evil Host/Origin arriving through the forwarder, and accepts the forwarder's own", async () => {
    const post = (host: string, origin: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(url, {
          method: "POST",
          setHost: false,
          headers: {
            host,
            origin,
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
        });
        req.on("response", (res) => {
          let body = "";
          res.setEncoding("utf8").on("data", (d: string) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end(
          JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "rebind", version: "1" } },
          }),
        );
      });
    const evil = await post("evil.example.com", "http://evil.example.com");
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error.data.code).toBe("SENTINEL_FORBIDDEN_ORIGIN");
    const own = `127.0.0.1:${forwarder!.port}`;
    const ok = await post(own, `http://${own}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('"serverInfo"');
  }, 30_000);
});
