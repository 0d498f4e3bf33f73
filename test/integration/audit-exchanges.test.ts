// Every exchange a client has with the gateway leaves exactly one record, whatever carries the
// answer: requests answered over SSE by a real streaming upstream (the conformance fixture, the
// MCP SDK's StreamableHTTPServerTransport in SSE mode), notifications and responses to server
// requests (their 202), the GET stream's opening and the DELETE that ends a session. Streamed
// answers are held like JSON ones: when the client reads the final event, its record is in the
// spool. Tool cost and token counts go in the record when the guard stage computed them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../engine/audit/record.js";
import { listSegments } from "../../engine/audit/spool-files.js";
import { ed25519Verifiers } from "../../engine/audit/signer.js";
import { verifySpool } from "../../engine/audit/verify-sources.js";
import { ChainVerifier } from "../../engine/audit/verify.js";
import type { TenantConfig } from "../../engine/config/types.js";
import { countJsonTokens, counterForModel } from "../../engine/guard/tokens.js";
import { startConformanceServer, type ConformanceServerHandle } from "../fixtures/conformance-server.js";
import { tempDir } from "../support/audit-fixtures.js";
import { allowAll, identityHeaders, MCP_POST_HEADERS, raw, rawSession, startRecordingHttp, startTestGateway, type ChildServer, type TestGateway } from "../support/gateway-harness.js";

const spool = (dir: string): AuditRecord[] =>
  listSegments(dir).flatMap((s) => readFileSync(s.path, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as AuditRecord));

/** An SSE (or JSON) reply read message by message, as a client reads a stream that is still open. */
async function exchange(url: string, method: "POST" | "GET" | "DELETE", headers: Record<string, string>, body?: object) {
  const res = await request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const header = (name: string) => String(res.headers[name] ?? "");
  const chunks = res.body[Symbol.asyncIterator]();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    status: res.statusCode,
    traceId: header("x-sentinel-trace-id"),
    contentType: header("content-type"),
    sessionId: header("mcp-session-id"),
    /** The next JSON-RPC message, or undefined once the reply ended. */
    async next(): Promise<Record<string, unknown> | undefined> {
      for (;;) {
        if (!header("content-type").startsWith("text/event-stream")) {
          const text = await res.body.text().catch(() => "");
          return text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
        }
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const data = buffer.slice(0, end).split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
          buffer = buffer.slice(end + 2);
          if (data !== "") return JSON.parse(data) as Record<string, unknown>;
          continue;
        }
        const chunk = await chunks.next();
        if (chunk.done === true) return undefined;
        buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
      }
    },
    drain: () => res.body.dump(),
  };
}

describe("records of a session with a streaming upstream", () => {
  let fixture: ConformanceServerHandle;
  let gw: TestGateway;
  const auditDir = tempDir();

  beforeAll(async () => {
    fixture = await startConformanceServer(0);
    gw = await startTestGateway({ connections: [{ name: "conf", transport: "http", url: fixture.url }], policies: allowAll }, {}, {}, { dir: auditDir, durability: "written", checkpoint: { intervalMs: 50 } });
  });
  afterAll(async () => {
    await gw?.close();
    await fixture?.close();
  });

  it("has one record for every answer the client saw, each with its method and outcome", async () => {
    const url = gw.endpoint("conf");
    const post = { ...MCP_POST_HEADERS, ...identityHeaders(gw.key, { user: "ana" }) };
    const expected = new Map<string, object>();
    /** The record of `traceId` must be in the spool at the moment its answer was read. */
    const inSpoolNow = (traceId: string) => expect(spool(auditDir).filter((r) => r.id === traceId)).toHaveLength(1);

    const init = await exchange(url, "POST", post, {
      jsonrpc: "2.0", id: 1, method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: { sampling: {} }, clientInfo: { name: "audit-test", version: "1" } },
    });
    expect(init.contentType).toMatch(/text\/event-stream/);
    expect(await init.next()).toMatchObject({ id: 1, result: { protocolVersion: "2025-11-25" } });
    inSpoolNow(init.traceId);
    await init.drain();
    expected.set(init.traceId, { method: "initialize", decision: "pass", outcome: { status: "ok", httpStatus: 200 } });
    const session = { ...post, "mcp-session-id": init.sessionId };

    const initialized = await exchange(url, "POST", session, { jsonrpc: "2.0", method: "notifications/initialized" });
    expect(initialized.status).toBe(202);
    inSpoolNow(initialized.traceId);
    expected.set(initialized.traceId, { method: "notifications/initialized", decision: "pass", user: "ana", session: init.sessionId, outcome: { status: "ok", httpStatus: 202 } });

    const listen = await exchange(url, "GET", { accept: "text/event-stream", ...identityHeaders(gw.key), "mcp-session-id": init.sessionId });
    expect(listen.status).toBe(200);
    inSpoolNow(listen.traceId);
    expected.set(listen.traceId, { method: "GET", session: init.sessionId, outcome: { status: "ok", httpStatus: 200 } });

    // Progress passes while the call runs; the answer comes last, and only with its record written.
    const progress = await exchange(url, "POST", session, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "test_tool_with_progress", arguments: {}, _meta: { progressToken: "p" } } });
    const seen: Array<Record<string, unknown>> = [];
    for (let m = await progress.next(); m !== undefined; m = await progress.next()) {
      seen.push(m);
      if (m.id === 2) inSpoolNow(progress.traceId);
    }
    expect(seen.map((m) => m.method ?? `answer ${String(m.id)}`)).toEqual(["notifications/progress", "notifications/progress", "notifications/progress", "answer 2"]);
    expected.set(progress.traceId, { method: "tools/call", name: "test_tool_with_progress", decision: "allow", outcome: { status: "ok", httpStatus: 200 } });

    const failing = await exchange(url, "POST", session, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "test_error_handling", arguments: {} } });
    expect(await failing.next()).toMatchObject({ id: 3, result: { isError: true } });
    inSpoolNow(failing.traceId);
    await failing.drain();
    expected.set(failing.traceId, { name: "test_error_handling", outcome: { status: "tool_error", httpStatus: 200 } });

    // A server request on the call's stream, answered by the client in a POST of its own.
    const sampling = await exchange(url, "POST", session, { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "test_sampling", arguments: { prompt: "hi" } } });
    const ask = (await sampling.next())!;
    expect(ask).toMatchObject({ method: "sampling/createMessage", id: expect.stringMatching(/^sentinel-/) });
    const answer = await exchange(url, "POST", session, { jsonrpc: "2.0", id: ask.id as string, result: { role: "assistant", content: { type: "text", text: "hello" }, model: "test-model" } });
    expect(answer.status).toBe(202);
    inSpoolNow(answer.traceId);
    expected.set(answer.traceId, { method: "response", name: "sampling/createMessage", decision: "pass", outcome: { status: "ok", httpStatus: 202 } });
    expect(await sampling.next()).toMatchObject({ id: 4, result: { content: [{ text: "LLM response: hello" }] } });
    inSpoolNow(sampling.traceId);
    await sampling.drain();
    expected.set(sampling.traceId, { name: "test_sampling", outcome: { status: "ok" } });

    const cancelled = await exchange(url, "POST", session, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 99, reason: "gone" } });
    expect(cancelled.status).toBe(202);
    expected.set(cancelled.traceId, { method: "notifications/cancelled", outcome: { status: "ok", httpStatus: 202 } });

    const stray = await exchange(url, "POST", session, { jsonrpc: "2.0", id: "sentinel-999", result: {} });
    expect(stray.status).toBe(400);
    await stray.drain();
    expected.set(stray.traceId, { method: "response", outcome: { status: "error", code: "SENTINEL_INVALID_REQUEST", httpStatus: 400 } });

    const end = await exchange(url, "DELETE", { ...identityHeaders(gw.key), "mcp-session-id": init.sessionId });
    expect(end.status).toBe(200);
    inSpoolNow(end.traceId);
    expected.set(end.traceId, { method: "DELETE", session: init.sessionId, outcome: { status: "ok", httpStatus: 200 } });
    expect(await listen.next()).toBeUndefined(); // the session's end closes its GET stream

    await gw.gateway.audit!.flush();
    const records = spool(auditDir).filter((r) => r.kind === "call");
    for (const [traceId, shape] of expected) {
      const mine = records.filter((r) => r.id === traceId);
      expect(mine, `records of ${JSON.stringify(shape)}`).toHaveLength(1);
      expect(mine[0]).toMatchObject({ tenant: "acme", connection: "conf", ...shape });
    }
    // A stray response answered nothing, so its record names no server request.
    expect(records.find((r) => r.id === stray.traceId)).not.toHaveProperty("name");
    // Nothing is recorded twice, and nothing the client was not answered for.
    expect(records).toHaveLength(new Set(records.map((r) => r.id)).size);
    expect(records).toHaveLength(expected.size);

    const keys = new Map(ed25519Verifiers(readFileSync(join(auditDir, "signing-key.pub.pem"), "utf8")).map((k) => [k.keyId, k]));
    const verifier = new ChainVerifier(keys, {}, true);
    verifySpool(auditDir, verifier, []);
    expect(verifier.report()).toMatchObject({ ok: true });
  });
});

describe("tokens and cost in call records", () => {
  let upstream: ChildServer;
  const gateways: TestGateway[] = [];
  beforeAll(async () => {
    upstream = await startRecordingHttp(join(tempDir(), "upstream.jsonl"));
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    upstream?.stop();
  });

  /** Calls echo once through a gateway with these safeguards; returns the call's record and what the client got. */
  async function callEcho(safeguards: Partial<TenantConfig>, args: Record<string, unknown>) {
    const auditDir = tempDir();
    const gw = await startTestGateway({ connections: [{ name: "rec", transport: "http", url: upstream.url }], policies: allowAll, ...safeguards }, {}, {}, { dir: auditDir });
    gateways.push(gw);
    const sid = await rawSession(gw, "rec");
    const reply = await raw(gw.endpoint("rec"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
      body: JSON.stringify({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "echo", arguments: args } }),
    });
    await gw.gateway.audit!.flush();
    const record = spool(auditDir).find((r) => r.id === reply.headers.get("x-sentinel-trace-id"))!;
    return { record, result: (reply.json as { result: unknown }).result };
  }

  const o200k = counterForModel(undefined);
  const args = { text: "the quick brown fox jumps over the lazy dog", pages: 3 };

  it("records input and output tokens and the tool's price when caps and prices make the gateway count them", async () => {
    const { record, result } = await callEcho(
      { tokenCaps: { total: 100_000 }, prices: { tools: [{ pattern: "echo", perCall: 0.002, argument: "pages", scale: 0.001 }] } },
      args,
    );
    expect(record.tokens).toEqual({ in: countJsonTokens(args, o200k), out: countJsonTokens(JSON.stringify(result), o200k) });
    expect(record.tokens!.out).toBeGreaterThan(record.tokens!.in!);
    expect(record.cost).toEqual({ usd: 0.005 });
  });

  it("records only the side that was counted: an output cap counts the result, not the short arguments", async () => {
    const { record, result } = await callEcho({ tokenCaps: { output: 100_000 } }, args);
    expect(record.tokens).toEqual({ out: countJsonTokens(JSON.stringify(result), o200k) });
    expect(record.cost).toBeUndefined();
  });

  it("records neither for a tenant that counts and prices nothing", async () => {
    const { record } = await callEcho({}, args);
    expect(record).toMatchObject({ method: "tools/call", outcome: { status: "ok" } });
    expect(record.tokens).toBeUndefined();
    expect(record.cost).toBeUndefined();
  });

  it("records the input count of a call a cap refused, and no cost for it", async () => {
    const { record } = await callEcho({ tokenCaps: { input: 5 }, prices: { tools: [{ pattern: "echo", perCall: 1 }] } }, { text: "x".repeat(400) });
    expect(record.outcome).toMatchObject({ status: "error", code: "SENTINEL_TOKEN_CAP_EXCEEDED" });
    expect(record.tokens).toEqual({ in: countJsonTokens({ text: "x".repeat(400) }, o200k) });
    expect(record.cost).toBeUndefined();
  });
});
