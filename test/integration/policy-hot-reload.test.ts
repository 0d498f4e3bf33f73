import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileConfig } from "../../engine/config/compile-config.js";
import type { PolicyConfig, SentinelConfig } from "../../engine/config/types.js";
import { identityHeaders, MCP_POST_HEADERS, messagesOf, raw, rawSession, recordingStdio, startTestGateway, type TestGateway } from "../support/gateway-harness.js";

const scratch = mkdtempSync(join(tmpdir(), "sentinel-reload-"));

/** Fifty rules for other tools, then the rule that decides `echo`; every id carries the tag. */
function rules(tag: string, action: "allow" | "deny"): PolicyConfig[] {
  const out: PolicyConfig[] = [];
  for (let i = 0; i < 50; i++) out.push({ id: `${tag}-${i}`, target: "mcp.tool", pattern: `other-${i}.*`, action: "deny" });
  out.push({ id: `${tag}-echo`, target: "mcp.tool", pattern: "echo", action });
  return out;
}

describe("publishing policy under concurrent load", () => {
  let gw: TestGateway;
  let base: SentinelConfig;
  const sessions: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ connections: [recordingStdio("rec", join(scratch, "rec.jsonl"))], policies: rules("a", "allow") });
    base = gw.gateway.runtime.source;
    for (let i = 0; i < 4; i++) sessions.push(await rawSession(gw, "rec", { user: `u${i}` }));
  });
  afterAll(() => gw.close());

  const withRules = (policies: PolicyConfig[]) =>
    compileConfig({ ...base, tenants: base.tenants.map((t) => ({ ...t, policies })) }, "<test>");

  it("drops no call, and every decision comes whole from one rule set", async () => {
    const sets = [withRules(rules("a", "allow")), withRules(rules("b", "deny"))];
    let published = 0;
    let stop = false;
    const publisher = (async () => {
      while (!stop) {
        gw.gateway.publish(sets[published++ % 2]!);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();

    const calls: Array<Promise<Record<string, unknown>>> = [];
    for (let i = 0; i < 400; i++) {
      const sid = sessions[i % sessions.length]!;
      calls.push(
        raw(gw.endpoint("rec"), {
          method: "POST",
          headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
          body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "echo", arguments: { i } } }),
        }).then((reply) => {
          expect(reply.status).toBe(200);
          return messagesOf(reply)[0]!;
        }),
      );
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    const replies = await Promise.all(calls);
    stop = true;
    await publisher;

    expect(published).toBeGreaterThan(10);
    let allowed = 0;
    let denied = 0;
    replies.forEach((reply, i) => {
      expect(reply.id).toBe(i);
      if ("result" in reply) allowed++;
      else {
        // A refusal can only come from the "b" set's own echo rule: nothing else denies echo.
        expect(reply).toMatchObject({ error: { data: { code: "SENTINEL_POLICY_DENIED", ruleId: "b-echo" } } });
        denied++;
      }
    });
    expect(allowed + denied).toBe(400);
    expect(allowed).toBeGreaterThan(0);
    expect(denied).toBeGreaterThan(0);
  });
});
