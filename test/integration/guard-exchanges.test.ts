/**
 * Content Guard and Token Guard beyond tool arguments, through the real gateway: resource URIs,
 * completion values, and the requests an upstream server sends the client (sampling, the MCP
 * form of an LLM prompt) with the client's answers to them (sampling, elicitation). The upstream
 * is the SDK's own server (test/fixtures/sampling-server.ts), writing down what reached it; the
 * client is the SDK's own, with sampling and elicitation handlers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CreateMessageRequestSchema, ElicitRequestSchema, type CreateMessageRequest, type CreateMessageResult, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionConfig, TenantConfig } from "../../engine/config/types.js";
import { counterForModel } from "../../engine/guard/tokens.js";
import { allowAll, connectClient, recorded, REPO_ROOT, startTestGateway } from "../support/gateway-harness.js";

const FIXTURE = resolve(REPO_ROOT, "test/fixtures/sampling-server.ts");
const scratch = mkdtempSync(join(tmpdir(), "sentinel-exchanges-"));
const AWS_KEY = "AKIAIOSFODNN7EXAMPLE";

const TENANT: Omit<TenantConfig, "id" | "apiKeys" | "connections"> = {
  policies: allowAll,
  guard: {
    builtins: ["us-ssn", "email", { id: "aws-access-key-id", action: "deny" }],
    patterns: [{ id: "codename", keywords: ["Project Falcon"], action: "deny" }],
    responseInspection: true,
  },
  tokenCaps: { input: 200, output: 64 },
};

/** A gateway in front of the sampling server, and an SDK client whose answers a test sets. */
async function setup(name: string, transport: "stdio" | "http", tenant: Omit<TenantConfig, "id" | "apiKeys" | "connections"> = TENANT) {
  const record = join(scratch, `${name}.jsonl`);
  let child: ChildProcess | undefined;
  let connection: ConnectionConfig;
  if (transport === "http") {
    child = spawn(process.execPath, ["--import", "tsx", FIXTURE, "--port", "0"], { cwd: REPO_ROOT, env: { ...process.env, RECORD_FILE: record }, stdio: ["ignore", "pipe", "inherit"] });
    const url = await new Promise<string>((ok) => createInterface({ input: child!.stdout! }).once("line", (l) => ok((JSON.parse(l) as { url: string }).url)));
    connection = { name: "asker", transport: "http", url } as ConnectionConfig;
  } else {
    connection = { name: "asker", transport: "stdio", command: process.execPath, args: ["--import", "tsx", FIXTURE, "--stdio"], cwd: REPO_ROOT, env: { RECORD_FILE: record } } as ConnectionConfig;
  }
  const gw = await startTestGateway({ connections: [connection], ...tenant });
  const seen = { sampling: [] as CreateMessageRequest["params"][], elicitations: 0 };
  const answers = {
    sampling: (_p: CreateMessageRequest["params"]): CreateMessageResult => ({ role: "assistant", model: "test-model", content: { type: "text", text: "fine" } }),
    elicitation: (): ElicitResult => ({ action: "accept", content: { name: "Bob" } }),
  };
  const client = new Client({ name: "asked", version: "1" }, { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, (req) => {
    seen.sampling.push(req.params);
    return answers.sampling(req.params);
  });
  client.setRequestHandler(ElicitRequestSchema, () => {
    seen.elicitations++;
    return answers.elicitation();
  });
  await connectClient(gw, "asker", {}, client);
  /** Everything the server received (what it sent itself is left out). */
  const received = () => JSON.stringify(recorded(record).map(({ sent: _sent, ...rest }) => rest));
  const last = (key: string) => recorded(record).filter((r) => key in r).at(-1) as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  const call = async (tool: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name: tool, arguments: args });
    return (result.content as Array<{ text: string }>)[0]!.text;
  };
  const close = async () => {
    await client.close();
    await gw.close();
    child?.kill();
  };
  return { gw, client, seen, answers, last, received, call, close };
}

describe.each(["stdio", "http"] as const)("server→client sampling and elicitation over %s", (transport) => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup(`exchanges-${transport}`, transport);
  });
  afterAll(() => ctx.close());

  it("a sampling prompt reaches the client redacted, with maxTokens lowered to the output cap", async () => {
    expect(await ctx.call("ask", { prompt: "customer:", add: "pii", system: "you know", maxTokens: 1000, image: true })).toBe("answered: fine");
    // The server made the values up and sent them…
    expect(ctx.last("tool")!.sent.messages[0].content.text).toBe("customer: ssn 078-05-1120, mail jane.roe@example.com.");
    // …and the client got placeholders.
    const asked = ctx.seen.sampling.at(-1)!;
    expect(asked.messages[0]!.content).toEqual({ type: "text", text: "customer: ssn [REDACTED:SSN], mail [REDACTED:EMAIL]." });
    // The image block is passed as it was: base64 is no text to scan.
    expect(asked.messages[1]!.content).toMatchObject({ type: "image", mimeType: "image/png" });
    expect(asked.systemPrompt).toBe("you know ssn [REDACTED:SSN], mail [REDACTED:EMAIL].");
    expect(asked.maxTokens).toBe(64);
    expect(JSON.stringify(ctx.seen.sampling)).not.toContain("078-05-1120");
  });

  it("a maxTokens within the output cap is left as the server asked", async () => {
    await ctx.call("ask", { prompt: "hello", maxTokens: 10 });
    expect(ctx.seen.sampling.at(-1)!.maxTokens).toBe(10);
  });

  it("a sampling prompt holding a deny pattern never reaches the client; the server gets the refusal", async () => {
    const before = ctx.seen.sampling.length;
    expect(await ctx.call("ask", { prompt: "hello", add: "secret" })).toBe("sampling failed: -32020");
    expect(ctx.seen.sampling.length).toBe(before);
    const { error } = ctx.last("tool")!;
    expect(error.data).toMatchObject({ code: "SENTINEL_CONTENT_BLOCKED" });
    expect(error.data.reason).toContain("aws-access-key-id at params.messages[0].content.text");
    expect(JSON.stringify(error)).not.toContain(AWS_KEY);
  });

  it("a value cut across the text blocks of one sampling message is found: each piece is redacted, a deny is refused", async () => {
    // Each piece passes the tool call's own scan (arguments are scanned one string at a time).
    expect(await ctx.call("ask", { prompt: "", parts: ["note: ssn 078-", "05-1120 end"] })).toBe("answered: fine");
    expect(ctx.seen.sampling.at(-1)!.messages[0]!.content).toEqual([
      { type: "text", text: "note: ssn [REDACTED:SSN]" },
      { type: "text", text: "[REDACTED:SSN] end" },
    ]);

    const before = ctx.seen.sampling.length;
    expect(await ctx.call("ask", { prompt: "", parts: [`use ${AWS_KEY.slice(0, 4)}`, AWS_KEY.slice(4, 10), `${AWS_KEY.slice(10)} now`] })).toBe("sampling failed: -32020");
    expect(ctx.seen.sampling.length).toBe(before);
    expect(ctx.last("tool")!.error.data.reason).toContain("aws-access-key-id at params.messages[0].content[0].text");
  });

  it("a sampling prompt over the input cap is refused before the client sees it", async () => {
    const before = ctx.seen.sampling.length;
    expect(await ctx.call("ask", { prompt: "word ", repeat: 400 })).toBe("sampling failed: -32021");
    expect(ctx.seen.sampling.length).toBe(before);
    expect(ctx.last("tool")!.error.data.reason).toMatch(/the sampling prompt is \d+ tokens; the input cap is 200/);
  });

  it("the client's sampling answer is inspected on its way to the server", async () => {
    ctx.answers.sampling = () => ({ role: "assistant", model: "m", content: { type: "text", text: "the SSN on file is 123-45-6789" } });
    expect(await ctx.call("ask", { prompt: "what is on file?" })).toBe("answered: the SSN on file is [REDACTED:SSN]");
    expect(ctx.last("tool")!.got.content.text).toBe("the SSN on file is [REDACTED:SSN]");

    ctx.answers.sampling = () => ({ role: "assistant", model: "m", content: { type: "text", text: `sure: ${AWS_KEY}` } });
    expect(await ctx.call("ask", { prompt: "the key?" })).toBe("sampling failed: -32020");
    expect(ctx.last("tool")!.error.data.reason).toContain("withheld the sampling answer: aws-access-key-id at result.content.text");
    expect(ctx.received()).not.toContain(AWS_KEY);
  });

  it("a sampling answer over the output cap is withheld (a client may ignore maxTokens)", async () => {
    ctx.answers.sampling = () => ({ role: "assistant", model: "m", content: { type: "text", text: "blah ".repeat(300) } });
    expect(await ctx.call("ask", { prompt: "ramble" })).toBe("sampling failed: -32021");
    expect(ctx.last("tool")!.error.data.reason).toMatch(/the sampling answer is \d+ tokens; the output cap is 64/);
  });

  it("an elicitation answer is scanned on its way to the server", async () => {
    ctx.answers.elicitation = () => ({ action: "accept", content: { name: "Bob", note: "my ssn is 123-45-6789" } });
    expect(await ctx.call("elicit", { message: "who are you?" })).toBe("user said: accept");
    expect(ctx.last("tool")!.got.content).toEqual({ name: "Bob", note: "my ssn is [REDACTED:SSN]" });

    ctx.answers.elicitation = () => ({ action: "accept", content: { name: "Bob", note: "about project  falcon" } });
    expect(await ctx.call("elicit", { message: "what for?" })).toBe("elicitation failed: -32020");
    expect(ctx.last("tool")!.error.data.reason).toContain("withheld the elicitation answer: codename at result.content.note");
    expect(ctx.received()).not.toContain("falcon");
  });

  it("a resource URI is scanned: redacted before the upstream reads it, refused on a deny pattern", async () => {
    const read = await ctx.client.readResource({ uri: "note:jo@example.com" });
    expect(ctx.last("resource")!.resource).toBe("note:[REDACTED:EMAIL]");
    expect(JSON.stringify(read)).not.toContain("jo@example.com");
    await expect(ctx.client.readResource({ uri: `note:${AWS_KEY}` })).rejects.toThrow(/Content Guard: aws-access-key-id at uri/);
    expect(ctx.received()).not.toContain(AWS_KEY);
  });

  it("a completion value is scanned: redacted before the upstream completes it, refused on a deny pattern", async () => {
    await ctx.client.complete({ ref: { type: "ref/prompt", name: "greet" }, argument: { name: "name", value: "jo@example.com" } });
    expect(ctx.last("completing")!.completing).toBe("[REDACTED:EMAIL]");
    await expect(ctx.client.complete({ ref: { type: "ref/prompt", name: "greet" }, argument: { name: "name", value: AWS_KEY } })).rejects.toThrow(/Content Guard: aws-access-key-id at params\.argument\.value/);
    expect(ctx.received()).not.toContain(AWS_KEY);
  });

  it("a completion whose prompt reference holds a value to redact is refused: the name policy judged is never rewritten", async () => {
    const before = ctx.received();
    await expect(ctx.client.complete({ ref: { type: "ref/prompt", name: "greet jo@example.com" }, argument: { name: "name", value: "a" } })).rejects.toThrow(
      /Content Guard: email at params\.ref\.name \[6, 20\), which cannot be redacted there/,
    );
    expect(ctx.received()).toBe(before);
  });

  it("the arguments a completion gives as context reach the server too, so they are scanned the same way", async () => {
    await ctx.client.complete({ ref: { type: "ref/prompt", name: "greet" }, argument: { name: "name", value: "a" }, context: { arguments: { team: "ops", owner: "jo@example.com" } } });
    expect(ctx.last("completing")).toMatchObject({ completing: "a", context: { team: "ops", owner: "[REDACTED:EMAIL]" } });
    const before = ctx.received();
    await expect(
      ctx.client.complete({ ref: { type: "ref/prompt", name: "greet" }, argument: { name: "name", value: "a" }, context: { arguments: { team: `key ${AWS_KEY}` } } }),
    ).rejects.toThrow(/Content Guard: aws-access-key-id at params\.context\.arguments\.team/);
    expect(ctx.received()).toBe(before);
  });
});

describe("server→client requests without response inspection, and in the worker pool", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup("exchanges-pool", "stdio", {
      policies: allowAll,
      guard: { builtins: ["us-ssn"], offloadBytes: 1024 },
      tokenCaps: { total: 1500 },
    });
  });
  afterAll(() => ctx.close());

  it("a large sampling prompt is redacted by the pool, and maxTokens gets what the total cap leaves", async () => {
    expect(await ctx.call("ask", { prompt: "lorem ipsum dolor sit amet,", add: "pii", repeat: 60, maxTokens: 5000 })).toBe("answered: fine");
    const asked = ctx.seen.sampling.at(-1)!;
    expect((asked.messages[0]!.content as { text: string }).text).toBe("lorem ipsum dolor sit amet, ssn [REDACTED:SSN], mail jane.roe@example.com.".repeat(60));
    expect(ctx.gw.gateway.guardPool.completed).toBeGreaterThan(0);
    // The prompt as the server sent it takes most of the total cap; maxTokens gets the rest.
    const sent = counterForModel(undefined).count(ctx.last("tool")!.sent.messages[0].content.text);
    expect(sent).toBeGreaterThan(1000);
    expect(asked.maxTokens).toBe(1500 - sent);
  });

  it("without response inspection the sampling answer passes as the client gave it", async () => {
    ctx.answers.sampling = () => ({ role: "assistant", model: "m", content: { type: "text", text: "ssn 123-45-6789" } });
    expect(await ctx.call("ask", { prompt: "hi" })).toBe("answered: ssn 123-45-6789");
  });
});
