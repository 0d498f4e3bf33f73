/**
 * The LLM path through the real gateway, in front of a local OpenAI-compatible server that
 * checks what the real API checks (test/fixtures/openai-server.ts): policy on model and
 * endpoint, the vault's key on the wire, Content Guard on prompts, Token Guard caps with the
 * output cap sent as max tokens, streaming, the models list, errors and audit records.
 */
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PolicyConfig } from "../../engine/config/types.js";
import { counterForModel } from "../../engine/guard/tokens.js";
import { DEFAULT_REPLY } from "../fixtures/openai-server.js";
import { raw } from "../support/gateway-harness.js";
import { PROVIDER_KEY, recordOf, sseData, startLlmGateway, type LlmSetup } from "../support/llm-harness.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const chat = (model: string, content: string, extra: Json = {}) => ({ model, messages: [{ role: "user", content }], ...extra });
const lastBody = (s: LlmSetup) => s.provider.requests.at(-1)!.body as Json;

describe("a governed LLM connection", () => {
  let s: LlmSetup;

  beforeAll(async () => {
    s = await startLlmGateway({
      policies: [
        { id: "gpt4o-family", target: "llm.model", pattern: "gpt-4o*", action: "allow" },
        { id: "no-gpt5", target: "llm.model", pattern: "gpt-5*", action: "deny" },
        { id: "embedding-models", target: "llm.model", pattern: "text-embedding-*", action: "allow" },
        { id: "test-models", target: "llm.model", pattern: "{fail-500,slow,no-usage}", action: "allow" },
        { id: "chat", target: "llm.endpoint", pattern: "chat.completions", action: "allow" },
        { id: "embeddings", target: "llm.endpoint", pattern: "embeddings", action: "allow" },
        { id: "responses", target: "llm.endpoint", pattern: "responses", action: "allow" },
        { id: "no-legacy-completions", target: "llm.endpoint", pattern: "completions", action: "deny" },
      ],
      guard: { builtins: ["us-ssn"], patterns: [{ id: "codename", keywords: ["project-nightingale"], action: "deny" }] },
      tokenCaps: { input: 2000, output: 64 },
      prices: { models: [{ pattern: "gpt-4o*", inputPerMillion: 2.5, outputPerMillion: 10 }] },
    });
  });

  afterAll(async () => {
    await s?.close();
  });

  it("an allowed call reaches the provider with the vault's key, and the agent's key is not forwarded", async () => {
    const reply = await s.post("chat/completions", chat("gpt-4o-mini", "Say hi"));
    expect(reply.status).toBe(200);
    expect((reply.json as Json).choices[0].message.content).toBe(DEFAULT_REPLY);
    expect(reply.headers.get("x-sentinel-trace-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.headers.get("x-request-id")).toBe("req_test");
    const sent = s.provider.requests.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(JSON.stringify(sent.headers)).not.toContain(s.gw.key);
    expect(s.provider.unauthorized).toBe(0);
  });

  it("the output cap is sent as max_completion_tokens when the client sets none, and lowers a larger request", async () => {
    await s.post("chat/completions", chat("gpt-4o", "hi"));
    expect(lastBody(s).max_completion_tokens).toBe(64);
    await s.post("chat/completions", chat("gpt-4o", "hi", { max_tokens: 500 }));
    expect(lastBody(s)).toMatchObject({ max_tokens: 64 });
    expect(lastBody(s).max_completion_tokens).toBeUndefined();
    await s.post("chat/completions", chat("gpt-4o", "hi", { max_completion_tokens: 10 }));
    expect(lastBody(s).max_completion_tokens).toBe(10);
  });

  it("the provider enforces the cap: a long answer comes back cut at the cap", async () => {
    const long = Array.from({ length: 120 }, (_, i) => `w${i}`).join(" ");
    const reply = await s.post("chat/completions", chat("gpt-4o", `echo: ${long}`));
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ choices: [{ finish_reason: "length" }], usage: { completion_tokens: 64 } });
  });

  it.each([
    ["a model no rule allows is refused by default", "o3", "default-deny"],
    ["a model a rule denies is refused by that rule", "gpt-5", "no-gpt5"],
    ["a denied model spelled in capitals is still denied", "GPT-5", "no-gpt5"],
  ])("%s, before the provider is asked", async (_label, model, ruleId) => {
    const before = s.provider.requests.length;
    const reply = await s.post("chat/completions", chat(model, "hi"));
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ error: { code: "SENTINEL_POLICY_DENIED", type: "permission_error", sentinel: { ruleId } } });
    expect(s.provider.requests.length).toBe(before);
  });

  it("an endpoint rule refuses a call whose model is allowed", async () => {
    const reply = await s.post("completions", { model: "gpt-4o-mini", prompt: "hi" });
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ error: { code: "SENTINEL_POLICY_DENIED", sentinel: { ruleId: "no-legacy-completions" } } });
  });

  it.each([
    ["a trailing space", JSON.stringify(chat("gpt-5 ", "hi"))],
    ["a zero-width space", JSON.stringify(chat("gpt-\u200b5", "hi"))],
    ["a Cyrillic look-alike letter", JSON.stringify(chat("gрt-5", "hi"))],
    ["a Unicode hyphen", JSON.stringify(chat("gpt\u20105", "hi"))],
    ["a second model key", '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"model":"gpt-5"}'],
    ["a second model key spelled with an escape", '{"model":"gpt-4o","mod\\u0065l":"gpt-5","messages":[{"role":"user","content":"hi"}]}'],
    ["a model that is not a string", JSON.stringify(chat("x", "hi", { model: ["gpt-5"] }))],
  ])("a model name dressed up with %s is refused", async (_label, body) => {
    const before = s.provider.requests.length;
    const reply = await s.post("chat/completions", body);
    expect(reply.status).toBe(400);
    expect((reply.json as Json).error.code).toBe("SENTINEL_INVALID_REQUEST");
    expect(s.provider.requests.length).toBe(before);
  });

  it("an SSN in a prompt and in a tool call's arguments reaches the provider as a placeholder only", async () => {
    const reply = await s.post("chat/completions", {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "You help with HR." },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"ssn":"078-05-1120"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: "found" },
        { role: "user", content: [{ type: "text", text: "My SSN is 123-45-6789, please remember it." }] },
      ],
    });
    expect(reply.status).toBe(200);
    const sent = JSON.stringify(lastBody(s));
    expect(sent).not.toContain("123-45-6789");
    expect(sent).not.toContain("078-05-1120");
    expect(lastBody(s).messages[3].content[0].text).toBe("My SSN is [REDACTED:SSN], please remember it.");
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    expect(record.findings).toEqual(
      expect.arrayContaining([
        { type: "us-ssn", path: "body.messages[1].tool_calls[0].function.arguments" },
        { type: "us-ssn", path: "body.messages[3].content[0].text" },
      ]),
    );
  });

  it("a deny pattern in a prompt refuses the call before the provider", async () => {
    const before = s.provider.requests.length;
    const reply = await s.post("chat/completions", chat("gpt-4o", "Tell me about Project-Nightingale"));
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ error: { code: "SENTINEL_CONTENT_BLOCKED" } });
    expect(reply.text).not.toContain("Nightingale");
    expect(s.provider.requests.length).toBe(before);
  });

  it("a prompt over the input cap is refused before it is forwarded", async () => {
    const before = s.provider.requests.length;
    const reply = await s.post("chat/completions", chat("gpt-4o", "lorem ".repeat(2500)));
    expect(reply.status).toBe(413);
    expect((reply.json as Json).error.code).toBe("SENTINEL_TOKEN_CAP_EXCEEDED");
    expect(s.provider.requests.length).toBe(before);
  });

  it("the audit record has the endpoint, the model, tokens from the provider's usage and their price", async () => {
    const reply = await s.post("chat/completions", chat("gpt-4o", "What is 2+2?"), { "x-sentinel-user": "alice@acme.com", "x-sentinel-meta-role": "analyst" });
    const usage = (reply.json as Json).usage;
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    expect(record).toMatchObject({
      user: "alice@acme.com",
      role: "analyst",
      method: "chat.completions",
      target: "llm.model",
      name: "gpt-4o",
      decision: "allow",
      ruleId: "gpt4o-family",
      connection: "openai",
      credential: { id: "openai-key", version: 1 },
      tokens: { in: usage.prompt_tokens, out: usage.completion_tokens },
      outcome: { status: "ok", httpStatus: 200 },
    });
    // Costs are kept in whole micro-dollars.
    expect(record.cost!.usd).toBe(Math.round(usage.prompt_tokens * 2.5 + usage.completion_tokens * 10) / 1e6);
  });

  it("a provider's 500 passes through with its body and is audited as an error that cost nothing", async () => {
    const reply = await s.post("chat/completions", chat("fail-500", "hi"));
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual({ error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null } });
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    expect(record.outcome).toEqual({ code: "http:500", httpStatus: 500, status: "error" });
    expect(record.tokens!.out).toBe(0);
  });

  it("a missing usage is replaced by the gateway's own counts", async () => {
    const reply = await s.post("chat/completions", chat("no-usage", "hi"));
    expect(reply.status).toBe(200);
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    // No tokenizer is known for this model name, so the estimate counts: 3 per message + 3 for
    // the reply + "hi" (one token); the 47-character answer at four characters a token.
    expect(record.tokens).toEqual({ in: 7, out: 12 });
  });

  it("the models list shows only the models the caller may use", async () => {
    const reply = await raw(s.url("models"), { headers: { authorization: `Bearer ${s.gw.key}` } });
    expect(reply.status).toBe(200);
    const ids = ((reply.json as Json).data as Json[]).map((m) => m.id).sort();
    expect(ids).toEqual(["fail-500", "gpt-4o", "gpt-4o-mini", "no-usage", "slow", "text-embedding-3-small"]);
    const hidden = await raw(s.url("models/gpt-5"), { headers: { authorization: `Bearer ${s.gw.key}` } });
    expect(hidden.status).toBe(403);
    const shown = await raw(s.url("models/gpt-4o"), { headers: { authorization: `Bearer ${s.gw.key}` } });
    expect(shown.json).toMatchObject({ id: "gpt-4o" });
  });

  it("a stream passes through chunk by chunk; usage the client did not ask for is not shown, but it is audited", async () => {
    const reply = await s.post("chat/completions", chat("gpt-4o", "hi", { stream: true }));
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toBe("text/event-stream");
    expect(lastBody(s).stream_options).toEqual({ include_usage: true });
    const events = sseData(reply.text);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Json[];
    expect(chunks.every((c) => !("usage" in c) && c.choices.length === 1)).toBe(true);
    expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe(DEFAULT_REPLY);
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    expect(record.tokens).toEqual({ in: 7, out: 13 });
    expect(record.outcome).toEqual({ httpStatus: 200, status: "ok" });
  });

  it("a stream that asked for usage gets the usage chunk", async () => {
    const reply = await s.post("chat/completions", chat("gpt-4o", "hi", { stream: true, stream_options: { include_usage: true } }));
    const chunks = sseData(reply.text).slice(0, -1) as Json[];
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 13 } });
  });

  it("a client that leaves a stream stops the provider and is charged for the output it saw", async () => {
    const res = await request(s.url("chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer ${s.gw.key}`, "content-type": "application/json" },
      body: JSON.stringify(chat("slow", "hi", { stream: true })),
    });
    const traceId = String(res.headers["x-sentinel-trace-id"]);
    let text = "";
    for await (const chunk of res.body) {
      text += Buffer.from(chunk as Uint8Array).toString("utf8");
      if (sseData(text).length >= 4) break;
    }
    res.body.destroy();
    const record = await recordOf(s, traceId);
    expect(record.outcome).toEqual({ code: "stream-aborted", httpStatus: 200, status: "error" });
    expect(record.tokens!.out).toBeGreaterThan(0);
    expect(record.tokens!.out).toBeLessThan(13);
    for (let i = 0; i < 50 && s.provider.abandoned === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.provider.abandoned).toBeGreaterThan(0);
  });

  it("a client that leaves before a whole answer cancels the provider request, and the call is recorded as abandoned", async () => {
    const before = s.provider.abandoned;
    const controller = new AbortController();
    const pending = request(s.url("chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer ${s.gw.key}`, "content-type": "application/json" },
      body: JSON.stringify(chat("slow", "hi")),
      signal: controller.signal,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await pending;
    for (let i = 0; i < 50 && s.provider.abandoned === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.provider.abandoned).toBe(before + 1);
    const record = await (async () => {
      for (let i = 0; i < 50; i++) {
        const found = s.records.find((r) => r.outcome?.code === "client-aborted");
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    })();
    expect(record).toMatchObject({ name: "slow", outcome: { status: "error", code: "client-aborted", httpStatus: 499 }, tokens: { in: 7, out: 0 } });
  });

  it("embeddings: a list of inputs is scanned and redacted; token arrays are counted by their length", async () => {
    const reply = await s.post("embeddings", { model: "text-embedding-3-small", input: ["plain text", "SSN 123-45-6789"] });
    expect(reply.status).toBe(200);
    expect(lastBody(s).input).toEqual(["plain text", "SSN [REDACTED:SSN]"]);
    const tokens = await s.post("embeddings", { model: "text-embedding-3-small", input: [9906, 11, 1917] });
    expect(tokens.status).toBe(200);
    const record = await recordOf(s, tokens.headers.get("x-sentinel-trace-id"));
    expect(record.tokens).toEqual({ in: 3, out: 0 });
  });

  it("a token array that decodes to an SSN is refused: it cannot be redacted in place", async () => {
    // text-embedding-3-small reads cl100k_base tokens.
    const { encode } = await import("gpt-tokenizer/encoding/cl100k_base");
    const reply = await s.post("embeddings", { model: "text-embedding-3-small", input: encode("my ssn is 123-45-6789") });
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ error: { code: "SENTINEL_CONTENT_BLOCKED" } });
  });

  it("the Responses API: instructions and input are scanned, the cap goes in max_output_tokens, output and usage come back", async () => {
    const reply = await s.post("responses", { model: "gpt-4o", instructions: "Be brief.", input: "My SSN is 123-45-6789. echo: done" });
    expect(reply.status).toBe(200);
    expect(lastBody(s)).toMatchObject({ max_output_tokens: 64, input: "My SSN is [REDACTED:SSN]. echo: done" });
    expect((reply.json as Json).output[0].content[0].text).toBe("done");
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    expect(record.method).toBe("responses");
    expect(record.tokens).toEqual({ in: (reply.json as Json).usage.input_tokens, out: 1 });
  });

  it("a streamed Responses answer is passed through and its usage read from the completed event", async () => {
    const reply = await s.post("responses", { model: "gpt-4o", input: "hi", stream: true });
    const events = sseData(reply.text) as Json[];
    expect(events.at(-1)!.type).toBe("response.completed");
    expect(reply.text).toContain("event: response.output_text.delta");
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    expect(record.tokens!.out).toBe(13);
  });
});

describe("malformed and misdirected LLM requests", () => {
  let s: LlmSetup;

  beforeAll(async () => {
    s = await startLlmGateway({ policies: [{ id: "all-models", target: "llm.model", pattern: "*", action: "allow" }, { id: "all-endpoints", target: "llm.endpoint", pattern: "*", action: "allow" }] });
  });

  afterAll(async () => {
    await s?.close();
  });

  const auth = () => ({ authorization: `Bearer ${s.gw.key}`, "content-type": "application/json" });

  it.each([
    ["an unknown endpoint", "POST", "v1/images/generations", {}, "{}", 404, "SENTINEL_UNKNOWN_ENDPOINT"],
    ["GET on a call endpoint", "GET", "v1/chat/completions", {}, undefined, 405, "SENTINEL_METHOD_NOT_ALLOWED"],
    ["a body that is not JSON", "POST", "v1/chat/completions", {}, "{model:", 400, "SENTINEL_PARSE_ERROR"],
    ["a body that is an array", "POST", "v1/chat/completions", {}, "[]", 400, "SENTINEL_INVALID_REQUEST"],
    ["chat without messages", "POST", "v1/chat/completions", {}, '{"model":"gpt-4o"}', 400, "SENTINEL_INVALID_REQUEST"],
    ["a stream flag that is not a boolean", "POST", "v1/chat/completions", {}, JSON.stringify(chat("gpt-4o", "hi", { stream: "yes" })), 400, "SENTINEL_INVALID_REQUEST"],
    ["a text body", "POST", "v1/chat/completions", { "content-type": "text/plain" }, "{}", 415, "SENTINEL_UNSUPPORTED_MEDIA_TYPE"],
    ["no API key", "POST", "v1/chat/completions", { authorization: "" }, "{}", 401, "SENTINEL_AUTH_MISSING"],
    ["an unknown connection", "POST", "../nope/v1/chat/completions", {}, "{}", 404, "SENTINEL_UNKNOWN_CONNECTION"],
    ["a foreign Origin", "POST", "v1/chat/completions", { origin: "https://evil.example" }, "{}", 403, "SENTINEL_FORBIDDEN_ORIGIN"],
    ["metadata naming another tenant", "POST", "v1/chat/completions", { "x-sentinel-metadata": '{"tenant":"globex"}' }, JSON.stringify(chat("gpt-4o", "hi")), 400, "SENTINEL_IDENTITY_INVALID"],
  ])("%s gets a clear OpenAI-style error", async (_label, method, path, headers, body, status, code) => {
    const h: Record<string, string> = { ...auth(), ...headers };
    if (h.authorization === "") delete h.authorization;
    const url = path.startsWith("../") ? `${s.gw.url}/llm/${path.slice(3)}` : `${s.gw.url}/llm/openai/${path}`;
    const reply = await raw(url, { method, headers: h, body });
    expect(reply.status).toBe(status);
    expect(reply.json).toMatchObject({ error: { code, message: expect.stringContaining(code) as string } });
    expect(reply.headers.get("x-sentinel-trace-id")).not.toBeNull();
  });

  it("the path without /v1 works as well", async () => {
    const reply = await raw(`${s.gw.url}/llm/openai/chat/completions`, { method: "POST", headers: auth(), body: JSON.stringify(chat("gpt-4o", "hi")) });
    expect(reply.status).toBe(200);
  });

  it("an llm connection is not reachable over MCP", async () => {
    const reply = await raw(s.gw.endpoint("openai"), {
      method: "POST",
      headers: { ...auth(), accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    });
    expect(reply.status).toBe(404);
  });

  it("an oversized body is refused with an OpenAI-style 413", async () => {
    const reply = await raw(s.url("chat/completions"), { method: "POST", headers: auth(), body: JSON.stringify(chat("gpt-4o", "x".repeat(2 << 20))) });
    expect(reply.status).toBe(413);
    expect(reply.json).toMatchObject({ error: { code: "SENTINEL_BODY_TOO_LARGE" } });
  });
});

describe("large prompts, scanned and counted in the worker pool", () => {
  let s: LlmSetup;
  const filler = "The quarterly report covers revenue, churn and hiring across all regions. ".repeat(80);
  const tools = [{ type: "function", function: { name: "lookup", description: "Looks up a customer", parameters: { type: "object", properties: {} } } }];
  const prompt = (ssn: string) => ({
    model: "gpt-4o",
    messages: [
      { role: "system", content: filler },
      { role: "user", content: `${filler} My SSN is ${ssn}.` },
    ],
    tools,
  });
  const leakyTools = [{ type: "function", function: { name: "lookup", description: "Looks up customer 078-05-1120", parameters: { type: "object", properties: { id: { type: "integer", maximum: 99 } } } } }];
  const leakyBody = { model: "gpt-4o", messages: [{ role: "user", content: filler }], tools: leakyTools };

  beforeAll(async () => {
    // The inline counts of the prompts below: rules that allow exactly that many tokens prove
    // the pool counted the same. Tool definitions count once, as their JSON; were their strings
    // counted again in the pool, neither rule would allow its call.
    const counter = counterForModel("gpt-4o");
    const exact = (id: string, value: number): PolicyConfig => ({ id, target: "llm.model", pattern: "*", conditions: [{ field: "tokens.in", op: "eq", value }], action: "allow" });
    s = await startLlmGateway({
      policies: [
        exact("exact-count", 3 * 2 + 3 + counter.count(filler) + counter.count(`${filler} My SSN is 123-45-6789.`) + counter.count(JSON.stringify(tools))),
        exact("exact-count-tools", 3 + 3 + counter.count(filler) + counter.count(JSON.stringify(leakyTools))),
        { id: "all-endpoints", target: "llm.endpoint", pattern: "*", action: "allow" },
      ],
      guard: { builtins: ["us-ssn"], offloadBytes: 4096 },
    });
  });

  afterAll(async () => {
    await s?.close();
  });

  it("find and redact what the inline path would, and count the same tokens", async () => {
    const before = s.gw.gateway.guardPool.completed;
    const reply = await s.post("chat/completions", prompt("123-45-6789"));
    expect(reply.status).toBe(200);
    expect(s.gw.gateway.guardPool.completed).toBe(before + 1);
    expect(lastBody(s).messages[1].content.endsWith("My SSN is [REDACTED:SSN].")).toBe(true);
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    expect(record.findings).toEqual([{ type: "us-ssn", path: "body.messages[1].content" }]);
    // One more token in the prompt and the exact-count rule no longer allows it.
    expect((await s.post("chat/completions", prompt("123-45-6789 0"))).status).toBe(403);
  });

  it("an SSN in a tool description is redacted before the provider, and recorded where it was", async () => {
    const before = s.gw.gateway.guardPool.completed;
    const reply = await s.post("chat/completions", leakyBody);
    expect(reply.status).toBe(200);
    expect(s.gw.gateway.guardPool.completed).toBe(before + 1);
    expect(lastBody(s).tools).toEqual([{ ...leakyTools[0], function: { ...leakyTools[0]!.function, description: "Looks up customer [REDACTED:SSN]" } }]);
    const record = await recordOf(s, reply.headers.get("x-sentinel-trace-id"));
    expect(record.findings).toEqual([{ type: "us-ssn", path: "body.tools[0].function.description" }]);
  });
});

describe("credential scopes on an llm connection", () => {
  let s: LlmSetup;

  beforeAll(async () => {
    s = await startLlmGateway(
      { policies: [{ id: "all-models", target: "llm.model", pattern: "*", action: "allow" }, { id: "all-endpoints", target: "llm.endpoint", pattern: "*", action: "allow" }], tokenCaps: { output: 64 } },
      { requiredScopes: [{ tool: "gpt-4o", scope: "llm:gpt4o" }, { tool: "gpt-4o-mini", scope: "llm:mini" }, { tool: "embeddings", scope: "llm:embed" }] },
      ["llm:chat", "llm:mini(max_completion_tokens <= 64)"],
    );
  });

  afterAll(async () => {
    await s?.close();
  });

  it("a model whose scope the key lacks is refused before the provider, and hidden from the list", async () => {
    const before = s.provider.requests.length;
    const reply = await s.post("chat/completions", chat("gpt-4o", "hi"));
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ error: { code: "SENTINEL_SCOPE_DENIED" } });
    expect(s.provider.requests.length).toBe(before);
    const list = await raw(s.url("models"), { headers: { authorization: `Bearer ${s.gw.key}` } });
    expect(((list.json as Json).data as Json[]).map((m) => m.id)).not.toContain("gpt-4o");
  });

  it("a granted scope's constraints read the body after the output cap was written", async () => {
    expect((await s.post("chat/completions", chat("gpt-4o-mini", "hi"))).status).toBe(200);
    expect((await s.post("chat/completions", chat("gpt-4o-mini", "hi", { max_completion_tokens: 500 }))).status).toBe(200);
    expect(lastBody(s).max_completion_tokens).toBe(64);
  });

  it("an endpoint's required scope applies to every model", async () => {
    const reply = await s.post("embeddings", { model: "text-embedding-3-small", input: "x" });
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ error: { code: "SENTINEL_SCOPE_DENIED" } });
  });
});
