/**
 * Content Guard, Token Guard and limits through the real gateway to a real upstream (the
 * recording server, which writes down every message it receives): what the upstream gets, what
 * the agent gets back, and what never leaves the gateway.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionConfig, TenantConfig } from "../../engine/config/types.js";
import {
  allowAll,
  identityHeaders,
  MCP_POST_HEADERS,
  messagesOf,
  raw,
  rawSession,
  recorded,
  recordingStdio,
  startRecordingHttp,
  startTestGateway,
  toolCalls,
  type ChildServer,
} from "../support/gateway-harness.js";

const scratch = mkdtempSync(join(tmpdir(), "sentinel-guard-"));

type Reply = { id?: unknown; result?: { content?: Array<{ text: string }> }; error?: { code: number; message: string; data: Record<string, unknown> } };

/** A gateway with one tenant, one recording connection and a raw session on it. */
async function setup(name: string, tenant: Omit<TenantConfig, "id" | "apiKeys" | "connections">, connection?: (record: string) => ConnectionConfig) {
  const record = join(scratch, `${name}.jsonl`);
  const gw = await startTestGateway({ connections: [connection?.(record) ?? recordingStdio("rec", record)], policies: allowAll, ...tenant });
  const sid = await rawSession(gw, "rec", { user: "alice", metadata: { role: "developer" } });
  let id = 0;
  const call = async (tool: string, args: Record<string, unknown>, session = sid): Promise<Reply> => {
    const headers = { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": session };
    const body = JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name: tool, arguments: args } });
    return messagesOf(await raw(gw.endpoint("rec"), { method: "POST", headers, body })).at(-1) as Reply;
  };
  const upstreamText = () => readFileSync(record, "utf8");
  return { gw, record, call, upstreamText };
}

const textOf = (reply: Reply): string => reply.result?.content?.[0]?.text ?? "";

describe.each([
  ["stdio", undefined],
  ["http", "http"],
] as const)("redaction end to end over %s", (_transport, kind) => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  let http: ChildServer | undefined;
  beforeAll(async () => {
    const record = join(scratch, `redact-${kind ?? "stdio"}.jsonl`);
    if (kind === "http") http = await startRecordingHttp(record);
    ctx = await setup(`redact-${kind ?? "stdio"}`, { guard: { builtins: ["us-ssn", "email", { id: "payment-card", action: "redact" }] } }, (r) =>
      http === undefined ? recordingStdio("rec", r) : ({ name: "rec", transport: "http", url: http.url } as ConnectionConfig),
    );
  });
  afterAll(async () => {
    await ctx.gw.close();
    http?.stop();
  });

  it("the upstream receives the placeholder, never the value", async () => {
    const reply = await ctx.call("echo", {
      note: "customer SSN 123-45-6789, write to alice@example.com",
      nested: { cards: ["４１１１ １１１１ １１１１ １１１１", "not a card"], ssn: "078\u200B-05-1120" },
      count: 3,
    });
    const args = recorded(ctx.record).find((m) => m.method === "tools/call")!.params as { arguments: Record<string, unknown> };
    expect(args.arguments).toEqual({
      note: "customer SSN [REDACTED:SSN], write to [REDACTED:EMAIL]",
      nested: { cards: ["[REDACTED:CARD]", "not a card"], ssn: "[REDACTED:SSN]" },
      count: 3,
    });
    const everything = ctx.upstreamText();
    for (const value of ["123-45-6789", "alice@example.com", "１１１１", "078", "1120"]) expect(everything).not.toContain(value);
    // The echo comes back with the placeholders the upstream saw.
    expect(textOf(reply)).toContain("[REDACTED:SSN]");
  });

  it("a card number sent as a JSON number is redacted too, not passed on because it is not a string", async () => {
    await ctx.call("echo", { pan: 4111111111111111, cards: [5555555555554444], qty: 2 });
    const args = recorded(ctx.record).filter((m) => m.method === "tools/call").at(-1)!.params as { arguments: Record<string, unknown> };
    expect(args.arguments).toEqual({ pan: "[REDACTED:CARD]", cards: ["[REDACTED:CARD]"], qty: 2 });
    expect(ctx.upstreamText()).not.toMatch(/4111111111111111|5555555555554444/);
  });
});

describe("deny patterns, policy on findings, response inspection", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup("deny", {
      guard: {
        builtins: [{ id: "aws-access-key-id", action: "deny" }, { id: "email", action: "alert" }, "us-ssn"],
        patterns: [{ id: "codename", keywords: ["Project Falcon"], action: "deny" }, { id: "ticket", pattern: "TCK-\\d{6}", action: "redact" }],
        responseInspection: true,
      },
      policies: [
        { id: "no-email-to-echo", target: "mcp.tool", pattern: "repo.read", conditions: [{ field: "guard.email", op: "eq", value: true }], action: "redact" },
        ...allowAll,
      ],
    });
  });
  afterAll(() => ctx.gw.close());

  it("a deny pattern refuses the call before it is forwarded, naming the pattern and path, never the value", async () => {
    const before = toolCalls(ctx.record).length;
    const reply = await ctx.call("echo", { config: { key: "AKIAIOSFODNN7EXAMPLE" } });
    expect(reply.error).toMatchObject({ code: -32020, data: { code: "SENTINEL_CONTENT_BLOCKED" } });
    expect(reply.error!.data.reason).toContain("aws-access-key-id at arguments.config.key");
    expect(JSON.stringify(reply)).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(toolCalls(ctx.record).length).toBe(before);
    expect(ctx.upstreamText()).not.toContain("AKIAIOSFODNN7EXAMPLE");
  });

  it("a keyword blocklist denies whatever the case and spacing", async () => {
    const reply = await ctx.call("echo", { text: "status of PROJECT   falcon?" });
    expect(reply.error?.data).toMatchObject({ code: "SENTINEL_CONTENT_BLOCKED" });
    expect(ctx.upstreamText()).not.toContain("falcon");
  });

  it("an alert pattern lets the value through, and a custom redact pattern replaces its match", async () => {
    await ctx.call("echo", { text: "mail bob@example.com about TCK-123456" });
    expect(ctx.upstreamText()).toContain("bob@example.com");
    expect(ctx.upstreamText()).toContain("[REDACTED:TICKET]");
    expect(ctx.upstreamText()).not.toContain("TCK-123456");
  });

  it("a policy redact rule on a finding redacts a pattern whose own action is alert", async () => {
    await ctx.call("repo.read", { repo: "acme/api", owner: "carol@example.com" });
    const sent = recorded(ctx.record).filter((m) => m.method === "tools/call").at(-1)!.params as { arguments: Record<string, unknown> };
    expect(sent.arguments).toEqual({ repo: "acme/api", owner: "[REDACTED:EMAIL]" });
  });

  it("response inspection redacts values the upstream sends back", async () => {
    const reply = await ctx.call("customer", {});
    expect(textOf(reply)).toContain("ssn: [REDACTED:SSN]");
    // alert: the email passes.
    expect(textOf(reply)).toContain("jane.roe@example.com");
    expect(JSON.stringify(reply)).not.toContain("078-05-1120");
  });

  it("response inspection withholds a result holding a deny pattern", async () => {
    const reply = await ctx.call("customer", { withKey: true });
    expect(reply.error).toMatchObject({ code: -32020, data: { code: "SENTINEL_CONTENT_BLOCKED" } });
    expect(reply.error!.data.reason).toMatch(/withheld the result: aws-access-key-id at result\.content\[0\]\.text/);
    expect(JSON.stringify(reply)).not.toContain("AKIAIOSFODNN7EXAMPLE");
  });
});

describe("large payloads are inspected in the worker pool", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup("pool", { guard: { builtins: ["us-ssn", "aws-access-key-id"], offloadBytes: 4096, responseInspection: true }, tokenCaps: { output: 1_000_000 } });
  });
  afterAll(() => ctx.gw.close());

  it("a 100 KiB argument is redacted the same way", async () => {
    const filler = "lorem ipsum dolor sit amet ".repeat(4000);
    await ctx.call("echo", { blob: `${filler} ssn 123-45-6789 end`, list: ["x", "987-65-4320", "ssn: 234-56-7890"] });
    const sent = recorded(ctx.record).find((m) => m.method === "tools/call")!.params as { arguments: { blob: string; list: string[] } };
    expect(sent.arguments.blob.endsWith(" ssn [REDACTED:SSN] end")).toBe(true);
    expect(sent.arguments.list).toEqual(["x", "987-65-4320", "ssn: [REDACTED:SSN]"]);
    expect(ctx.gw.gateway.guardPool.completed).toBeGreaterThan(0);
  });

  it("a large result is inspected too", async () => {
    const reply = await ctx.call("customer", { size: 20_000 });
    expect(textOf(reply)).toContain("ssn: [REDACTED:SSN]");
    const denied = await ctx.call("customer", { size: 20_000, withKey: true });
    expect(denied.error?.data).toMatchObject({ code: "SENTINEL_CONTENT_BLOCKED" });
  });
});

describe("token caps", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup("caps", { tokenCaps: { input: 50, output: 40 } });
  });
  afterAll(() => ctx.gw.close());

  it("arguments over the input cap are refused before they are forwarded", async () => {
    const before = toolCalls(ctx.record).length;
    const reply = await ctx.call("echo", { text: "word ".repeat(100) });
    expect(reply.error).toMatchObject({ code: -32021, data: { code: "SENTINEL_TOKEN_CAP_EXCEEDED" } });
    expect(reply.error!.data.reason).toMatch(/the arguments are \d+ tokens; the input cap is 50/);
    expect(toolCalls(ctx.record).length).toBe(before);
  });

  it("a call under the caps goes through", async () => {
    expect(textOf(await ctx.call("echo", { text: "short" }))).toContain("short");
  });

  it("a result over the output cap is withheld", async () => {
    const reply = await ctx.call("customer", { size: 400 });
    expect(reply.error?.data).toMatchObject({ code: "SENTINEL_TOKEN_CAP_EXCEEDED" });
    expect(reply.error!.data.reason).toMatch(/the result is \d+ tokens; the output cap is 40/);
  });
});

describe("limits through the gateway", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup("limits", {
      limits: [
        { id: "user-echo-rpm", scope: "user", tools: "echo", metric: "requests", window: "minute", max: 5 },
        { id: "stripe-hourly", scope: "tenant", tools: "repo.*", metric: "dollars", window: "hour", max: 25 },
      ],
      prices: { tools: [{ pattern: "repo.*", argument: "amount", scale: 0.01 }] },
    });
  });
  afterAll(() => ctx.gw.close());

  it("twenty parallel calls against a limit of five: exactly five reach the upstream", async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => ctx.call("echo", { i })));
    const refused = replies.filter((r) => r.error !== undefined);
    expect(replies.length - refused.length).toBe(5);
    expect(toolCalls(ctx.record).filter((n) => n === "echo")).toHaveLength(5);
    for (const r of refused) {
      expect(r.error).toMatchObject({ code: -32022, data: { code: "SENTINEL_LIMIT_EXCEEDED", ruleId: "user-echo-rpm" } });
      expect(r.error!.data.retryAfterMs).toBeGreaterThan(55_000);
      expect(r.error!.data.reason).toContain("100% of 5 req/min");
    }
  });

  it("the same user on a new session shares the user's counter", async () => {
    const other = await rawSession(ctx.gw, "rec", { user: "alice", metadata: { role: "developer" } });
    expect((await ctx.call("echo", {}, other)).error?.data).toMatchObject({ code: "SENTINEL_LIMIT_EXCEEDED" });
  });

  it("a dollar limit reads the price from an argument and says how much is used", async () => {
    expect((await ctx.call("repo.read", { amount: 1000 })).error).toBeUndefined();
    expect((await ctx.call("repo.read", { amount: 1000 })).error).toBeUndefined();
    const third = await ctx.call("repo.read", { amount: 1000 });
    expect(third.error?.data).toMatchObject({ code: "SENTINEL_LIMIT_EXCEEDED", ruleId: "stripe-hourly" });
    expect(third.error!.data.reason).toContain("$20.00 of a $25/hr cap");
    const bad = await ctx.call("repo.read", { amount: "lots" });
    expect(bad.error?.data).toMatchObject({ code: "SENTINEL_INVALID_PARAMS" });
  });
});

describe("policy reads limit usage and token counts", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup("policy-inputs", {
      limits: [{ id: "echo-rpm", scope: "user", tools: "echo", metric: "requests", window: "minute", max: 5 }],
      policies: [
        { id: "slow-down", target: "mcp.tool", pattern: "echo", conditions: [{ field: "usage.echo-rpm", op: "gte", value: "60%" }], action: "deny" },
        { id: "big-reads", target: "mcp.tool", pattern: "repo.read", conditions: [{ field: "tokens.in", op: "gt", value: 20 }], action: "deny" },
        ...allowAll,
      ],
    });
  });
  afterAll(() => ctx.gw.close());

  it("a rule on usage.<limit> sees the caller's usage before the call", async () => {
    for (let i = 0; i < 3; i++) expect((await ctx.call("echo", { i })).error).toBeUndefined();
    const fourth = await ctx.call("echo", { i: 3 });
    expect(fourth.error?.data).toMatchObject({ code: "SENTINEL_POLICY_DENIED", ruleId: "slow-down" });
  });

  it("a rule on tokens.in sees the arguments' token count", async () => {
    expect((await ctx.call("repo.read", { repo: "acme/api" })).error).toBeUndefined();
    const big = await ctx.call("repo.read", { repo: "acme/api", note: "please read this repository carefully and summarise every file in it" });
    expect(big.error?.data).toMatchObject({ code: "SENTINEL_POLICY_DENIED", ruleId: "big-reads" });
  });
});
