import { describe, expect, it } from "vitest";
import { parseConfig } from "../../engine/config/load-config.js";
import { SentinelConfigError, type Refusal } from "../../engine/errors.js";
import { compileLimits, type Admission, type LimitedCall } from "../../engine/limits/compile-limits.js";
import { MemoryCounterStore } from "../../engine/limits/counter-store.js";
import { SlidingLog } from "../../engine/limits/windows.js";
import { redactPieces } from "../../engine/llm/answer-guard.js";
import { duplicateKey, parseJsonObject } from "../../engine/llm/json-body.js";
import { readLlmRequest, type LlmRequest } from "../../engine/llm/llm-request.js";
import { parseLlmRoute, type LlmEndpoint } from "../../engine/llm/llm-routes.js";
import { applyOutputCap } from "../../engine/llm/output-cap.js";
import { isRefusal } from "../../engine/mcp/jsonrpc.js";

const endpoint = (path: string): LlmEndpoint => {
  const route = parseLlmRoute(`/llm/openai/v1/${path}`);
  if (route?.kind !== "call") throw new Error(`no endpoint ${path}`);
  return route.endpoint;
};
const read = (path: string, body: Record<string, unknown>): LlmRequest => {
  const r = readLlmRequest(body, endpoint(path));
  if (isRefusal(r)) throw new Error(r.reason);
  return r;
};

describe("LLM routes", () => {
  it.each([
    ["/llm/openai/v1/chat/completions", { kind: "call", connection: "openai", name: "chat.completions" }],
    ["/llm/openai/chat/completions", { kind: "call", connection: "openai", name: "chat.completions" }],
    ["/llm/openai/v1/completions", { kind: "call", connection: "openai", name: "completions" }],
    ["/llm/openai/v1/embeddings/", { kind: "call", connection: "openai", name: "embeddings" }],
    ["/llm/azure%2Deu/v1/responses", { kind: "call", connection: "azure-eu", name: "responses" }],
    ["/llm/openai/v1/models", { kind: "models", connection: "openai", model: undefined }],
    ["/llm/openai/v1/models/ft%3Agpt-4o", { kind: "models", connection: "openai", model: "ft:gpt-4o" }],
    ["/llm/openai/v1/audio/speech", { kind: "unknown", connection: "openai", rest: "audio/speech" }],
    ["/llm/openai/v2/chat/completions", { kind: "unknown", connection: "openai", rest: "v2/chat/completions" }],
  ])("%s", (path, expected) => {
    const route = parseLlmRoute(path)!;
    expect(route.kind === "call" ? { kind: route.kind, connection: route.connection, name: route.endpoint.name } : route).toEqual(expected);
  });

  it.each(["/llm/", "/llm//v1/chat/completions", "/llm/a%2Fb/v1/chat/completions", "/llm/%E0%A4%A/v1/models"])("%s names no connection", (path) => {
    expect(parseLlmRoute(path)).toBeUndefined();
  });
});

describe("duplicate keys in a request body", () => {
  it.each([
    ['{"model":"a","model":"b"}', "model"],
    ['{"model":"a","mod\\u0065l":"b"}', "model"],
    ['{"messages":[{"role":"user","content":"x","content":"y"}]}', "content"],
    ['{"a":{"b":1,"c":{"d":2,"d":3}}}', "d"],
    ['{"x":"a \\"quoted\\" \\\\","x":1}', "x"],
  ])("%s repeats %s", (body, key) => {
    expect(duplicateKey(body)).toBe(key);
    expect(parseJsonObject(body)).toMatchObject({ code: "SENTINEL_INVALID_REQUEST" });
  });

  it.each([
    '{"model":"a","messages":[{"model":"b"},{"model":"c"}]}',
    '{"text":"{\\"model\\":1,\\"model\\":2}","model":"x"}',
    '{"a":["model","model"],"model":"x"}',
    '{"s":"ends with a backslash \\\\","t":"\\\\\\"","u":1}',
    "{}",
  ])("%s has none", (body) => {
    expect(duplicateKey(body)).toBeUndefined();
    expect(isRefusal(parseJsonObject(body))).toBe(false);
  });

  it.each([["[]"], ['"gpt-4o"'], ["null"], ["42"]])("%s is not an object", (body) => {
    expect(parseJsonObject(body)).toMatchObject({ code: "SENTINEL_INVALID_REQUEST" });
  });

  it("a large prompt is checked in time linear in its size", () => {
    const body = JSON.stringify({ model: "gpt-4o", messages: Array.from({ length: 2000 }, () => ({ role: "user", content: "x".repeat(500) + '\\"' })) });
    const started = performance.now();
    expect(duplicateKey(body)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe("prompt text read from a request", () => {
  it("chat: content strings, text parts of any type, tool-call and function-call arguments", () => {
    const r = read("chat/completions", {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: [{ type: "text", text: "a" }, { type: "image_url", image_url: { url: "data:x" } }, { type: "input_text", text: "b" }] },
        { role: "assistant", content: null, tool_calls: [{ function: { name: "f", arguments: "{}" } }], function_call: { name: "g", arguments: "[]" } },
        { role: "user", content: { type: "text", text: "c" } },
      ],
    });
    expect(r.leaves.map((l) => [l.path.join("."), l.text])).toEqual([
      ["messages.0.content", "sys"],
      ["messages.1.content.0.text", "a"],
      ["messages.1.content.2.text", "b"],
      ["messages.2.tool_calls.0.function.arguments", "{}"],
      ["messages.2.function_call.arguments", "[]"],
      ["messages.3.content.text", "c"],
    ]);
    expect(r.messages).toBe(4);
  });

  it("embeddings and completions: strings, lists of strings and token arrays", () => {
    expect(read("embeddings", { model: "m", input: ["a", [1, 2, 3], "b"] })).toMatchObject({
      leaves: [{ path: ["input", 0], text: "a" }, { path: ["input", 2], text: "b" }],
      tokenArrays: [{ path: ["input", 1], tokens: [1, 2, 3] }],
    });
    expect(read("completions", { model: "m", prompt: [5, 6], suffix: "end" })).toMatchObject({ leaves: [{ path: ["suffix"], text: "end" }], tokenArrays: [{ path: ["prompt"], tokens: [5, 6] }] });
  });

  it("responses: instructions, and content, arguments and output of input items", () => {
    const r = read("responses", {
      model: "gpt-4o",
      instructions: "be brief",
      input: [{ role: "user", content: [{ type: "input_text", text: "q" }] }, { type: "function_call", arguments: "{}" }, { type: "function_call_output", output: "42" }],
    });
    expect(r.leaves.map((l) => l.text)).toEqual(["be brief", "q", "{}", "42"]);
  });

  it("text outside the prompt that reaches the provider: tool definitions, schemas, predictions and end-user fields, each scanned; only tool definitions counted", () => {
    const tools = [{ type: "function", function: { name: "f", description: "finds", parameters: { type: "object", properties: { n: { type: "integer", maximum: 9 } } } } }];
    const functions = [{ name: "g" }];
    const r = read("chat/completions", {
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
      tools,
      functions,
      response_format: { type: "json_schema", json_schema: { name: "out", schema: { description: "d" } } },
      prediction: { type: "content", content: "p" },
      user: "u",
      metadata: { team: "t" },
      temperature: 0.5,
    });
    expect(r.leaves.map((l) => l.text)).toEqual(["hi"]);
    expect(r.extraLeaves.map((l) => [l.path.join("."), l.text])).toEqual([
      ["tools.0.type", "function"],
      ["tools.0.function.name", "f"],
      ["tools.0.function.description", "finds"],
      ["tools.0.function.parameters.type", "object"],
      ["tools.0.function.parameters.properties.n.type", "integer"],
      ["tools.0.function.parameters.properties.n.maximum", "9"],
      ["functions.0.name", "g"],
      ["response_format.type", "json_schema"],
      ["response_format.json_schema.name", "out"],
      ["response_format.json_schema.schema.description", "d"],
      ["prediction.type", "content"],
      ["prediction.content", "p"],
      ["user", "u"],
      ["metadata.team", "t"],
    ]);
    expect(r.toolsJson).toBe(JSON.stringify(tools) + JSON.stringify(functions));
    expect(read("chat/completions", { model: "gpt-4o", messages: [], tools: null })).toMatchObject({ extraLeaves: [], toolsJson: "" });
  });

  it.each([
    ["chat/completions", { messages: [] }, '"model"'],
    ["chat/completions", { model: "gpt-4o" }, '"messages"'],
    ["chat/completions", { model: "gpt 4o", messages: [] }, "printable ASCII"],
    ["chat/completions", { model: "gpt-4o", messages: [], max_tokens: -1 }, "max_tokens"],
    ["chat/completions", { model: "gpt-4o", messages: [], n: 1.5 }, '"n"'],
    ["embeddings", { model: "m", input: [{ text: "x" }] }, "input[0]"],
    ["embeddings", { model: "m", input: "x", stream: true }, "do not stream"],
    ["responses", { model: "m", input: 7 }, '"input"'],
  ])("%s %j is refused", (path, body, reason) => {
    const r = readLlmRequest(body, endpoint(path)) as Refusal;
    expect(r.code).toBe("SENTINEL_INVALID_REQUEST");
    expect(r.reason).toContain(reason);
  });
});

describe("the output cap written into a request", () => {
  const cap = (path: string, body: Record<string, unknown>, caps: { output?: number; total?: number }, tokensIn = 10, provider: "openai" | "openai-compatible" = "openai") => {
    const r = read(path, { model: "gpt-4o", messages: [], prompt: "p", input: "i", ...body });
    const allowance = applyOutputCap(r, endpoint(path), provider, caps, tokensIn);
    return { allowance, body: r.body };
  };

  it.each([
    ["none asked, OpenAI chat", "chat/completions", {}, { output: 100 }, "openai", 100, { max_completion_tokens: 100 }],
    ["none asked, a compatible server", "chat/completions", {}, { output: 100 }, "openai-compatible", 100, { max_tokens: 100 }],
    ["more asked than the cap", "chat/completions", { max_tokens: 500 }, { output: 100 }, "openai", 100, { max_tokens: 100 }],
    ["less asked than the cap", "chat/completions", { max_completion_tokens: 30 }, { output: 100 }, "openai", 30, { max_completion_tokens: 30 }],
    ["n choices share the cap", "chat/completions", { n: 3 }, { output: 100 }, "openai", 99, { max_completion_tokens: 33 }],
    ["the total cap leaves what the prompt did not use", "chat/completions", {}, { output: 100, total: 50 }, "openai", 40, { max_completion_tokens: 40 }],
    ["legacy completions with best_of", "completions", { best_of: 4, n: 2 }, { output: 100 }, "openai", 100, { max_tokens: 25 }],
    ["responses", "responses", { max_output_tokens: null }, { output: 64 }, "openai", 64, { max_output_tokens: 64 }],
    ["no cap, none asked", "chat/completions", {}, {}, "openai", undefined, {}],
    ["no cap, some asked", "chat/completions", { max_tokens: 7 }, {}, "openai", 7, { max_tokens: 7 }],
    ["embeddings produce no output", "embeddings", {}, { output: 5 }, "openai", 0, {}],
  ] as const)("%s", (_label, path, body, caps, provider, allowance, written) => {
    const out = cap(path, { ...body }, caps, 10, provider);
    expect(out.allowance).toBe(allowance);
    expect(out.body).toMatchObject(written);
    for (const field of ["max_tokens", "max_completion_tokens", "max_output_tokens"]) if (!(field in written) && !(field in body)) expect(out.body[field]).toBeUndefined();
  });

  it("a prompt that fills the total cap leaves no room for output", () => {
    expect(cap("chat/completions", {}, { total: 10 }, 10).allowance).toMatchObject({ code: "SENTINEL_TOKEN_CAP_EXCEEDED" });
  });
});

describe("redaction of a value split over stream pieces", () => {
  const label = () => "SSN";
  it.each([
    ["inside one piece", ["my 123-45-6789 ok"], [[3, 14]], ["my [REDACTED:SSN] ok"]],
    ["across pieces", ["my 12", "3-45", "-67", "89 ok"], [[3, 14]], ["my [REDACTED:SSN]", "", "", " ok"]],
    ["starting at a piece's edge", ["my ", "123-45-6789", " ok"], [[3, 14]], ["my ", "[REDACTED:SSN]", " ok"]],
    ["two values", ["a 111-11-1111 b 22", "2-22-2222"], [[2, 13], [16, 27]], ["a [REDACTED:SSN] b [REDACTED:SSN]", ""]],
    ["overlapping matches merge", ["abcdefgh"], [[1, 4], [3, 6]], ["a[REDACTED:SSN]gh"]],
    ["empty pieces", ["", "123", "", "x"], [[0, 3]], ["", "[REDACTED:SSN]", "", "x"]],
  ])("%s", (_label, pieces, spans, expected) => {
    const matches = spans.map(([start, end]) => ({ pattern: 0, start: start!, end: end! }));
    expect(redactPieces(pieces, matches, label)).toEqual(expected);
  });
});

describe("refunds of a reservation", () => {
  const clock = (start: number) => {
    let now = start;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it("take back from the charge they were reserved in, which then leaves the window at its own time", () => {
    const log = new SlidingLog(60_000);
    log.add(1_000, 100);
    log.add(2_000, 50);
    log.takeBack(3_000, 1_000, 80);
    expect(log.used(3_000)).toBe(70);
    // The refunded charge leaves at 61,000 with what is left of it (20), the other at 62,000.
    expect(log.used(61_000)).toBe(50);
    expect(log.used(62_000)).toBe(0);
  });

  it("take back nothing once the charge has left the window, and never more than it was", () => {
    const log = new SlidingLog(60_000);
    log.add(1_000, 100);
    log.add(70_000, 10);
    log.takeBack(70_000, 1_000, 100);
    expect(log.used(70_000)).toBe(10);
    log.takeBack(70_000, 70_000, 500);
    expect(log.used(70_000)).toBe(0);
  });

  it("settle a token and dollar limit to the actual usage, exactly", () => {
    const c = clock(1_000_000);
    const store = new MemoryCounterStore(c.now);
    const limits = compileLimits("acme", [
      { id: "tokens", scope: "model", models: "gpt-*", metric: "tokens", window: "minute", max: 1000 },
      { id: "spend", scope: "tenant", metric: "dollars", window: "hour", max: 1 },
    ])!;
    const call: LimitedCall = { tenant: "acme", user: undefined, session: "", connection: "openai", model: "gpt-4o" };
    const admission = limits.admit(store, call, { tokensIn: 600, micros: 600_000 }) as Admission;
    expect(admission.at).toBe(1_000_000);
    c.advance(5_000);
    // A second call reserved in between keeps its own reservation.
    limits.admit(store, call, { tokensIn: 300, micros: 0 });
    return limits.settleTo(store, admission, { tokensIn: 600, micros: 600_000 }, { tokensIn: 120, micros: 90_000 }).then(async () => {
      expect((await limits.usage(store, call, limits.get("tokens")!)).used).toBe(420);
      expect((await limits.usage(store, call, limits.get("spend")!)).used).toBeCloseTo(0.09, 9);
      c.advance(55_000);
      expect((await limits.usage(store, call, limits.get("tokens")!)).used).toBe(300);
    });
  });

  it("leave LLM calls out of session limits: they have no session", () => {
    const limits = compileLimits("acme", [{ id: "per-session", scope: "session", metric: "requests", window: "minute", max: 1 }])!;
    expect(limits.applies(limits.get("per-session")!, { tenant: "acme", user: undefined, session: "", connection: "openai", model: "gpt-4o" })).toBe(false);
  });
});

describe("llm connections in a config", () => {
  const config = (connection: string, credential = "") =>
    `version: 1\ntenants:\n  - id: acme\n    connections:\n      - ${connection}\n${credential === "" ? "" : `    credentials:\n      - ${credential}\n`}`;
  const failure = (text: string) => {
    try {
      parseConfig(text, "sentinel.yaml", { env: {} });
    } catch (err) {
      if (err instanceof SentinelConfigError) return `${err.path}: ${err.reason}`;
      throw err;
    }
    return "loaded";
  };

  it("loads with the OpenAI dialect by default", () => {
    const loaded = parseConfig(config('{ name: openai, transport: llm, url: "https://api.openai.com/v1", credential: key }', "{ name: key, type: bearer, connections: [openai] }"), "f", { env: {} });
    expect(loaded.tenants[0]!.connections![0]).toMatchObject({ transport: "llm", url: "https://api.openai.com/v1", provider: "openai" });
  });

  it.each([
    ["a URL that is not http(s)", '{ name: o, transport: llm, url: "ftp://x/v1" }', "", /connections\[0\]\.url: must match/],
    ["a command", '{ name: o, transport: llm, url: "https://x/v1", command: node }', "", /connections\[0\]\.command: unknown property/],
    ["an unknown provider", '{ name: o, transport: llm, url: "https://x/v1", provider: anthropic }', "", /connections\[0\]\.provider: must be one of "openai", "openai-compatible"/],
    ["an env credential", '{ name: o, transport: llm, url: "https://x/v1", credential: k }', "{ name: k, type: env, connections: [o] }", /an env credential can only be used by stdio connections; "o" is llm/],
    ["a header the credential sets", '{ name: o, transport: llm, url: "https://x/v1", credential: k, headers: { Authorization: x } }', "{ name: k, type: bearer, connections: [o] }", /"authorization" is set by credential "k"/],
  ])("refuses %s", (_label, connection, credential, reason) => {
    expect(failure(config(connection, credential))).toMatch(reason);
  });
});
