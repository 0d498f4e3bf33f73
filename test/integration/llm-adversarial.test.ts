/**
 * The LLM path under attack, end to end through the real gateway in front of the local
 * OpenAI-compatible server: model names dressed up to slip past policy, duplicate and escaped
 * keys, prompt text hidden in fields a provider reads, max-tokens tricks, path tricks, headers
 * aimed at the provider, and a provider that echoes the key it was given. Each case pins what
 * the provider received (or that it received nothing) and what the agent got back.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_KEY, sseData, startLlmGateway, type LlmSetup } from "../support/llm-harness.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const chat = (model: string, content: unknown, extra: Json = {}) => ({ model, messages: [{ role: "user", content }], ...extra });
const SSN = "123-45-6789";
const SECRET_WORD = "project-nightingale";
/** How the vault masks the provider key (engine/vault/masking.ts): first and last four characters. */
const MASKED = `${PROVIDER_KEY.slice(0, 4)}•••${PROVIDER_KEY.slice(-4)}`;

describe("the LLM path against a hostile agent", () => {
  let s: LlmSetup;
  const lastBody = () => s.provider.requests.at(-1)!.body as Json;
  /** Posts and returns the reply plus whether the provider was asked at all. */
  const attempt = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const before = s.provider.requests.length;
    const reply = await s.post(path, body, headers);
    return { reply, forwarded: s.provider.requests.length > before, json: reply.json as Json };
  };
  /** A request with its path sent byte for byte (fetch and undici normalise `..` and `//`). */
  const rawPath = (path: string, body: string) =>
    new Promise<{ status: number; json: Json }>((resolve, reject) => {
      const url = new URL(s.gw.url);
      const req = httpRequest({ host: url.hostname, port: url.port, method: "POST", path, headers: { authorization: `Bearer ${s.gw.key}`, "content-type": "application/json" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Json }));
      });
      req.on("error", reject);
      req.end(body);
    });

  beforeAll(async () => {
    s = await startLlmGateway({
      policies: [
        { id: "gpt4o-family", target: "llm.model", pattern: "gpt-4o*", action: "allow" },
        { id: "leaky-test-models", target: "llm.model", pattern: "echo-key*", action: "allow" },
        { id: "no-gpt5", target: "llm.model", pattern: "gpt-5*", action: "deny" },
        { id: "endpoints", target: "llm.endpoint", pattern: "{chat.completions,completions,embeddings,responses}", action: "allow" },
      ],
      guard: { builtins: ["us-ssn", { id: "aws-secret-access-key", action: "deny" }], patterns: [{ id: "codename", keywords: [SECRET_WORD], action: "deny" }] },
      tokenCaps: { input: 2000, output: 64 },
    });
  });

  afterAll(async () => {
    await s?.close();
  });

  describe("model names", () => {
    it.each([
      ["full-width letters", "ｇｐｔ-5"],
      ["a zero-width joiner", "gpt\u200d-5"],
      ["a soft hyphen", "gpt-\u00ad5"],
      ["a leading tab", "\tgpt-5"],
      ["a non-breaking space", "gpt-5\u00a0"],
      ["a Greek omicron in an allowed name", "gpt-4\u03bf"],
    ])("a model name with %s is refused before policy, so no upstream folding can serve it", async (_label, model) => {
      const { reply, forwarded, json } = await attempt("chat/completions", chat(model, "hi"));
      expect(reply.status).toBe(400);
      expect(json.error.code).toBe("SENTINEL_INVALID_REQUEST");
      expect(forwarded).toBe(false);
    });

    it.each([
      ["capitals", "GPT-5", "no-gpt5"],
      ["percent-encoding, which no provider decodes in a body", "gpt%2D5", "default-deny"],
      ["a prefix of an allowed family", "gpt-4", "default-deny"],
    ])("a denied model spelled with %s is still refused by policy", async (_label, model, ruleId) => {
      const { reply, forwarded, json } = await attempt("chat/completions", chat(model, "hi"));
      expect(reply.status).toBe(403);
      expect(json.error.sentinel.ruleId).toBe(ruleId);
      expect(forwarded).toBe(false);
    });

    it.each([
      ["a number", 5],
      ["null", null],
      ["an object", { id: "gpt-4o" }],
      ["an empty string", ""],
    ])("a model given as %s is refused", async (_label, model) => {
      const { reply, forwarded } = await attempt("chat/completions", { model, messages: [{ role: "user", content: "hi" }] });
      expect(reply.status).toBe(400);
      expect(forwarded).toBe(false);
    });

    it("a model named only under another key (Model, engine) is no model", async () => {
      const { reply, forwarded } = await attempt("chat/completions", { Model: "gpt-5", engine: "gpt-5", messages: [{ role: "user", content: "hi" }] });
      expect(reply.status).toBe(400);
      expect(forwarded).toBe(false);
    });
  });

  describe("duplicate keys", () => {
    it.each([
      ["a message's content, the second spelled with an escape", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi","cont\\u0065nt":"${SECRET_WORD}"}]}`],
      ["a tool call's arguments", '{"model":"gpt-4o","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}","arguments":"x"}}]}]}'],
      ["stream, with a surrogate-escaped twin", '{"model":"gpt-4o","stream":false,"str\\u0065am":true,"messages":[{"role":"user","content":"hi"}]}'],
    ])("a key given twice in %s is refused", async (_label, body) => {
      const { reply, forwarded, json } = await attempt("chat/completions", body);
      expect(reply.status).toBe(400);
      expect(json.error.message).toContain("appears twice");
      expect(forwarded).toBe(false);
    });

    it("the same key in two different objects is not a duplicate", async () => {
      const { reply } = await attempt("chat/completions", { model: "gpt-4o", messages: [{ role: "user", content: "a" }, { role: "user", content: "b" }] });
      expect(reply.status).toBe(200);
    });
  });

  describe("stream flags", () => {
    it.each([
      ["a string", "true"],
      ["a number", 1],
      ["an object", { on: true }],
    ])("stream given as %s is refused", async (_label, stream) => {
      const { reply, forwarded } = await attempt("chat/completions", chat("gpt-4o", "hi", { stream }));
      expect(reply.status).toBe(400);
      expect(forwarded).toBe(false);
    });

    it("embeddings do not stream", async () => {
      const { reply, forwarded } = await attempt("embeddings", { model: "gpt-4o", input: "hi", stream: true });
      expect(reply.status).toBe(400);
      expect(forwarded).toBe(false);
    });
  });

  describe("prompt text in fields the provider reads", () => {
    // Each of these reaches the model. Before they were scanned, the deny keyword went through.
    it.each([
      ["an assistant content part of type refusal", "chat/completions", { model: "gpt-4o", messages: [{ role: "assistant", content: [{ type: "refusal", refusal: `about ${SECRET_WORD}` }] }, { role: "user", content: "go on" }] }],
      ["an assistant message's refusal", "chat/completions", { model: "gpt-4o", messages: [{ role: "assistant", content: null, refusal: SECRET_WORD }, { role: "user", content: "go on" }] }],
      ["a participant name", "chat/completions", { model: "gpt-4o", messages: [{ role: "user", name: SECRET_WORD, content: "hi" }] }],
      ["a custom tool call's input", "chat/completions", { model: "gpt-4o", messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "custom", custom: { name: "grep", input: SECRET_WORD } }] }, { role: "user", content: "go on" }] }],
      ["Responses instructions given as a list", "responses", { model: "gpt-4o", instructions: [{ role: "system", content: SECRET_WORD }], input: "hi" }],
      ["a Responses custom tool call's input", "responses", { model: "gpt-4o", input: [{ type: "custom_tool_call", call_id: "c1", name: "grep", input: SECRET_WORD }, { role: "user", content: "hi" }] }],
      ["a Responses reasoning summary", "responses", { model: "gpt-4o", input: [{ type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: SECRET_WORD }] }, { role: "user", content: "hi" }] }],
      ["a tool's description", "chat/completions", chat("gpt-4o", "hi", { tools: [{ type: "function", function: { name: "lookup", description: `searches ${SECRET_WORD}` } }] })],
      ["an enum deep in a tool's parameter schema", "chat/completions", chat("gpt-4o", "hi", { tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string", enum: [SECRET_WORD] } } } } }] })],
      ["a legacy function definition", "chat/completions", chat("gpt-4o", "hi", { functions: [{ name: "lookup", description: SECRET_WORD }] })],
      ["a Responses tool definition", "responses", { model: "gpt-4o", input: "hi", tools: [{ type: "function", name: "lookup", description: SECRET_WORD, parameters: {} }] }],
      ["a structured-output schema", "chat/completions", chat("gpt-4o", "hi", { response_format: { type: "json_schema", json_schema: { name: "out", schema: { type: "object", description: SECRET_WORD } } } })],
      ["a Responses text format schema", "responses", { model: "gpt-4o", input: "hi", text: { format: { type: "json_schema", name: "out", schema: { description: SECRET_WORD } } } }],
      ["a predicted output", "chat/completions", chat("gpt-4o", "hi", { prediction: { type: "content", content: `draft about ${SECRET_WORD}` } })],
      ["request metadata", "chat/completions", chat("gpt-4o", "hi", { metadata: { note: SECRET_WORD } })],
    ])("a deny pattern in %s is refused before the provider", async (_label, path, body) => {
      const { reply, forwarded } = await attempt(path, body);
      expect([400, 403]).toContain(reply.status);
      expect(forwarded).toBe(false);
      expect(reply.text).not.toContain(SECRET_WORD);
    });

    it("an SSN in a part of any claimed type (input_text, output_text, made-up) is redacted", async () => {
      const parts = ["input_text", "output_text", "whatever"].map((type) => ({ type, text: `ssn ${SSN}` }));
      const { reply } = await attempt("chat/completions", chat("gpt-4o", parts));
      expect(reply.status).toBe(200);
      expect(JSON.stringify(lastBody())).not.toContain(SSN);
    });

    it("an SSN in a tool definition reaches the provider as a placeholder; the rest of the definition is untouched", async () => {
      const tools = [{ type: "function", function: { name: "lookup", description: `default customer ${SSN}`, parameters: { type: "object", properties: { id: { type: "integer", default: 7 } } } } }];
      const { reply } = await attempt("chat/completions", chat("gpt-4o", "hi", { tools }));
      expect(reply.status).toBe(200);
      expect(lastBody().tools).toEqual([{ ...tools[0], function: { ...tools[0]!.function, description: "default customer [REDACTED:SSN]" } }]);
    });

    it("an AWS secret key in request metadata is recognised by the key it sits under, and refused", async () => {
      const { reply, forwarded } = await attempt("chat/completions", chat("gpt-4o", "hi", { metadata: { aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } }));
      expect(reply.status).toBe(403);
      expect(forwarded).toBe(false);
    });

    it("a Responses stored prompt's variables are scanned", async () => {
      const { reply, forwarded } = await attempt("responses", { model: "gpt-4o", input: "hi", prompt: { id: "pmpt_1", variables: { topic: SECRET_WORD } } });
      expect(reply.status).toBe(403);
      expect(forwarded).toBe(false);
    });

    it("an SSN given as the end-user id reaches the provider as a placeholder", async () => {
      const { reply } = await attempt("chat/completions", chat("gpt-4o", "hi", { user: `ssn:${SSN}`, safety_identifier: SSN }));
      expect(reply.status).toBe(200);
      expect(lastBody()).toMatchObject({ user: "ssn:[REDACTED:SSN]", safety_identifier: "[REDACTED:SSN]" });
    });

    it("an SSN in a participant name reaches the provider as a placeholder", async () => {
      const { reply } = await attempt("chat/completions", { model: "gpt-4o", messages: [{ role: "user", name: SSN, content: "hi" }] });
      expect(reply.status).toBe(200);
      expect(lastBody().messages[0].name).toBe("[REDACTED:SSN]");
    });

    // The model reads a message's parts as one text, so a value cut across parts is whole to it.
    it("an SSN split across two content parts is found, and each piece is redacted", async () => {
      const { reply } = await attempt("chat/completions", chat("gpt-4o", [{ type: "text", text: "my ssn is 123-45-" }, { type: "text", text: "6789 ok" }]));
      expect(reply.status).toBe(200);
      expect(lastBody().messages[0].content).toEqual([
        { type: "text", text: "my ssn is [REDACTED:SSN]" },
        { type: "text", text: "[REDACTED:SSN] ok" },
      ]);
    });

    it("a deny keyword spread over three parts, one of them a refusal part, is refused", async () => {
      const parts = [{ type: "text", text: "about project-" }, { type: "refusal", refusal: "night" }, { type: "text", text: "ingale today" }];
      const { reply, forwarded } = await attempt("chat/completions", { model: "gpt-4o", messages: [{ role: "assistant", content: parts }, { role: "user", content: "go on" }] });
      expect(reply.status).toBe(403);
      expect(forwarded).toBe(false);
    });

    it("a Responses input item's parts are joined the same way", async () => {
      const { reply } = await attempt("responses", { model: "gpt-4o", input: [{ role: "user", content: [{ type: "input_text", text: "ssn 123-4" }, { type: "input_text", text: "5-6789" }] }] });
      expect(reply.status).toBe(200);
      expect(JSON.stringify(lastBody())).not.toMatch(/123-4|5-6789/);
    });

    it("embeddings given nested lists of strings are refused, not forwarded unscanned", async () => {
      const { reply, forwarded } = await attempt("embeddings", { model: "gpt-4o", input: [[SECRET_WORD]] });
      expect(reply.status).toBe(400);
      expect(forwarded).toBe(false);
    });

    it("a completions prompt given as an object is refused", async () => {
      const { reply, forwarded } = await attempt("completions", { model: "gpt-4o", prompt: { text: SECRET_WORD } });
      expect(reply.status).toBe(400);
      expect(forwarded).toBe(false);
    });
  });

  describe("max tokens", () => {
    it("n choices share the output cap: each is bounded by cap / n", async () => {
      await attempt("chat/completions", chat("gpt-4o", "hi", { n: 4 }));
      expect(lastBody().max_completion_tokens).toBe(16);
    });

    it("completions' best_of shares the cap too", async () => {
      await attempt("completions", { model: "gpt-4o", prompt: "hi", best_of: 8, n: 2 });
      expect(lastBody().max_tokens).toBe(8);
    });

    it("both chat fields set larger than the cap are both lowered", async () => {
      await attempt("chat/completions", chat("gpt-4o", "hi", { max_tokens: 5000, max_completion_tokens: 9000 }));
      expect(lastBody()).toMatchObject({ max_tokens: 64, max_completion_tokens: 64 });
    });

    it("null in place of the field is replaced by the cap", async () => {
      await attempt("chat/completions", chat("gpt-4o", "hi", { max_completion_tokens: null }));
      expect(lastBody().max_completion_tokens).toBe(64);
    });

    it("a Responses call without max_output_tokens gets the cap", async () => {
      await attempt("responses", { model: "gpt-4o", input: "hi" });
      expect(lastBody().max_output_tokens).toBe(64);
    });

    it.each([
      ["negative", -1],
      ["a float", 10.5],
      ["a numeric string", "10"],
      ["huge", 2 ** 60],
      ["Infinity as a string", "Infinity"],
    ])("max_tokens %s is refused", async (_label, value) => {
      const { reply, forwarded } = await attempt("chat/completions", chat("gpt-4o", "hi", { max_tokens: value }));
      expect(reply.status).toBe(400);
      expect(forwarded).toBe(false);
    });

    it.each([["n", -2], ["n", 1.5], ["n", "3"], ["best_of", -1]])("%s %j is refused", async (field, value) => {
      const { reply, forwarded } = await attempt("completions", { model: "gpt-4o", prompt: "hi", [field]: value });
      expect(reply.status).toBe(400);
      expect(forwarded).toBe(false);
    });

    it("more choices than the cap has tokens is refused", async () => {
      const { reply, forwarded } = await attempt("chat/completions", chat("gpt-4o", "hi", { n: 65 }));
      expect(reply.status).toBe(413);
      expect(forwarded).toBe(false);
    });
  });

  describe("paths", () => {
    const denied = JSON.stringify(chat("gpt-5", "hi"));

    it.each([
      ["a trailing slash", "/llm/openai/v1/chat/completions/"],
      ["a query string", "/llm/openai/v1/chat/completions?model=gpt-4o"],
      ["a percent-encoded connection name", "/llm/%6Fpenai/v1/chat/completions"],
    ])("%s reaches the same endpoint, and policy still applies", async (_label, path) => {
      const before = s.provider.requests.length;
      const reply = await rawPath(path, denied);
      expect(reply.status).toBe(403);
      expect(reply.json.error.sentinel.ruleId).toBe("no-gpt5");
      expect(s.provider.requests.length).toBe(before);
    });

    it.each([
      ["a double slash", "/llm/openai/v1//chat/completions"],
      ["an encoded slash", "/llm/openai/v1/chat%2Fcompletions"],
      ["a dot-dot segment", "/llm/openai/v1/../v1/chat/completions"],
      ["another case", "/llm/openai/v1/Chat/Completions"],
      ["v1 twice", "/llm/openai/v1/v1/chat/completions"],
    ])("%s is no endpoint, and the provider is never asked", async (_label, path) => {
      const before = s.provider.requests.length;
      const reply = await rawPath(path, JSON.stringify(chat("gpt-4o", "hi")));
      expect(reply.status).toBe(404);
      expect(s.provider.requests.length).toBe(before);
    });
  });

  it("headers meant for the provider are not forwarded: it sees only the vault's key", async () => {
    const { reply } = await attempt("chat/completions", chat("gpt-4o", "hi"), {
      "api-key": "sk-agent-chosen-key",
      "x-api-key": "sk-agent-chosen-key",
      "openai-organization": "org-agent",
      "openai-project": "proj-agent",
      "x-forwarded-for": "10.0.0.1",
    });
    expect(reply.status).toBe(200);
    const headers = s.provider.requests.at(-1)!.headers;
    expect(headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    for (const name of ["api-key", "x-api-key", "openai-organization", "openai-project", "x-forwarded-for", "x-sentinel-metadata"]) expect(headers[name]).toBeUndefined();
    expect(JSON.stringify(headers)).not.toContain(s.gw.key);
  });

  describe("a provider that echoes the key it was given", () => {
    // Without scrubbing, each of these handed the agent the provider key.
    it("an error body naming the key reaches the agent masked", async () => {
      const { reply, forwarded } = await attempt("chat/completions", chat("echo-key-error", "hi"));
      expect(forwarded).toBe(true);
      expect(reply.status).toBe(401);
      expect(reply.text).not.toContain(PROVIDER_KEY);
      expect(reply.json).toMatchObject({ error: { message: `Incorrect API key provided: ${MASKED}` } });
    });

    it("a whole answer carrying the key reaches the agent masked", async () => {
      const { reply } = await attempt("chat/completions", chat("echo-key", "hi"));
      expect(reply.status).toBe(200);
      expect(reply.text).not.toContain(PROVIDER_KEY);
      expect((reply.json as Json).system_fingerprint).toBe(`fp ${MASKED}`);
      // The provider's request id is passed on for support, but not one that quotes the key.
      expect(reply.headers.get("x-request-id")).toBeNull();
    });

    it("stream events carrying the key reach the agent masked", async () => {
      const { reply } = await attempt("chat/completions", chat("echo-key", "hi", { stream: true }));
      expect(reply.status).toBe(200);
      expect(reply.text).not.toContain(PROVIDER_KEY);
      const chunks = sseData(reply.text).filter((d): d is Json => typeof d === "object");
      expect(chunks.length).toBeGreaterThan(2);
      for (const c of chunks) expect(c.system_fingerprint).toBe(`fp ${MASKED}`);
    });

    it("a models lookup whose error names the key reaches the agent masked", async () => {
      const reply = await fetch(s.url("models/echo-key-error"), { headers: { authorization: `Bearer ${s.gw.key}` } });
      const text = await reply.text();
      expect(reply.status).toBe(401);
      expect(text).not.toContain(PROVIDER_KEY);
      expect(text).toContain("•••");
    });
  });
});
