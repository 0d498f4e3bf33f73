/**
 * The official OpenAI client pointed at the gateway (baseURL `/llm/<connection>/v1`, apiKey the
 * Sentinel key), with response inspection on: answers and streams arrive as the client expects
 * them, a model's output is redacted or withheld before the client sees it (in a stream too,
 * where a value is split over several events), and refusals surface as the client's own
 * error classes with the Sentinel code.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_REPLY } from "../fixtures/openai-server.js";
import { recordOf, sseData, startLlmGateway, type LlmSetup } from "../support/llm-harness.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("the OpenAI client through the gateway, with response inspection", () => {
  let s: LlmSetup;
  let client: OpenAI;

  beforeAll(async () => {
    s = await startLlmGateway({
      policies: [
        { id: "no-gpt5", target: "llm.model", pattern: "gpt-5*", action: "deny" },
        { id: "all-models", target: "llm.model", pattern: "*", action: "allow" },
        { id: "all-endpoints", target: "llm.endpoint", pattern: "*", action: "allow" },
      ],
      guard: { builtins: ["us-ssn"], patterns: [{ id: "launch-codes", keywords: ["launch-codes"], action: "deny" }], responseInspection: true },
      limits: [{ id: "o3-rpm", scope: "model", models: "o3", metric: "requests", window: "minute", max: 1 }],
    });
    client = new OpenAI({ baseURL: s.url("").replace(/\/$/, ""), apiKey: s.gw.key, maxRetries: 0 });
  });

  afterAll(async () => {
    await s?.close();
  });

  it("chat completions, whole and streamed, read as from the provider", async () => {
    const whole = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
    expect(whole.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect(whole.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 13 });

    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(DEFAULT_REPLY);
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 13 });
  });

  it("the Responses API, whole and streamed", async () => {
    const whole = await client.responses.create({ model: "gpt-4o", input: "hi" });
    expect(whole.output_text).toBe(DEFAULT_REPLY);
    const stream = await client.responses.create({ model: "gpt-4o", input: "hi", stream: true });
    let text = "";
    for await (const event of stream) if (event.type === "response.output_text.delta") text += event.delta;
    expect(text).toBe(DEFAULT_REPLY);
  });

  it("embeddings and the model list", async () => {
    const embedded = await client.embeddings.create({ model: "text-embedding-3-small", input: "hello", encoding_format: "float" });
    expect(embedded.data[0]!.embedding).toHaveLength(3);
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain("gpt-4o");
    expect(ids).not.toContain("gpt-5");
  });

  it("an SSN the model writes is redacted in a whole answer", async () => {
    const reply = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "recite:ssn" }] }).withResponse();
    expect(reply.data.choices[0]!.message.content).toBe("Your SSN is [REDACTED:SSN] as requested.");
    const record = await recordOf(s, reply.response.headers.get("x-sentinel-trace-id"));
    expect(record.findings).toEqual([{ type: "us-ssn", path: "answer.choices[0].message.content" }]);
  });

  it("an SSN the model writes across several stream events is redacted before any of them goes down", async () => {
    const reply = await s.post("chat/completions", { model: "gpt-4o", messages: [{ role: "user", content: "recite:ssn" }], stream: true });
    expect(reply.status).toBe(200);
    expect(reply.text).not.toMatch(/123|6789/);
    const events = sseData(reply.text);
    expect(events.at(-1)).toBe("[DONE]");
    const contents = (events.slice(0, -1) as Json[]).map((c) => c.choices[0]?.delta?.content ?? "");
    expect(contents.join("")).toBe("Your SSN is [REDACTED:SSN] as requested.");
    // The value was split over events: the placeholder sits where it started, and the events that
    // carried the rest of it are left with nothing of it.
    expect(contents.filter((c) => c !== "").length).toBeGreaterThan(5);
  });

  it("a deny pattern in the answer withholds it, whole or streamed", async () => {
    const whole = await s.post("chat/completions", { model: "gpt-4o", messages: [{ role: "user", content: "recite:codes" }] });
    expect(whole.status).toBe(403);
    expect(whole.json).toMatchObject({ error: { code: "SENTINEL_CONTENT_BLOCKED" } });
    expect(whole.text).not.toContain("0000");
    const streamed = await s.post("chat/completions", { model: "gpt-4o", messages: [{ role: "user", content: "recite:codes" }], stream: true });
    expect(streamed.status).toBe(403);
    expect(streamed.text).not.toContain("0000");
  });

  it("refusals surface as the client's own error classes, with the Sentinel code", async () => {
    const denied = await client.chat.completions.create({ model: "gpt-5", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(denied).toMatchObject({ status: 403, code: "SENTINEL_POLICY_DENIED" });

    await client.chat.completions.create({ model: "o3", messages: [{ role: "user", content: "hi" }] });
    const limited = await client.chat.completions.create({ model: "o3", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited).toMatchObject({ status: 429, code: "SENTINEL_LIMIT_EXCEEDED" });

    const badKey = new OpenAI({ baseURL: s.url("").replace(/\/$/, ""), apiKey: "sk_sentinel_wrong", maxRetries: 0 });
    await expect(badKey.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
