/**
 * The official MCP reference servers behind the gateway, over stdio, driven by the stock MCP
 * SDK client over Streamable HTTP:
 *
 * - @modelcontextprotocol/server-everything: tools, resources, prompts, progress, sampling
 *   (a server→client request answered by the client mid-call), logging and completion.
 * - @modelcontextprotocol/server-filesystem rooted at a temp dir: reads go through, a policy
 *   denying write_file refuses it before it reaches the server and hides it from tools/list.
 *
 * Both servers are devDependencies; a missing one fails the suite rather than skipping it.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  CreateMessageRequestSchema,
  McpError,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  type CreateMessageRequest,
  type ElicitRequest,
  type LoggingMessageNotification,
  type Progress,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { ConnectionConfig } from "../../engine/config/types.js";
import { packageBin } from "../support/package-bin.js";
import { allowAll, connectClient, startTestGateway, type TestGateway } from "../support/gateway-harness.js";

const textOf = (result: unknown): string =>
  (((result as { content?: unknown }).content ?? []) as Array<{ type: string; text?: string }>)
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("server-everything (stdio) through the gateway", () => {
  let gw: TestGateway | undefined;
  let client: Client | undefined;
  const samplingRequests: CreateMessageRequest["params"][] = [];
  const elicitations: ElicitRequest["params"][] = [];
  let rootsRequests = 0;
  const logs: LoggingMessageNotification["params"][] = [];

  beforeAll(async () => {
    const entry = packageBin("@modelcontextprotocol/server-everything");
    const connection: ConnectionConfig = {
      name: "everything",
      transport: "stdio",
      command: process.execPath,
      args: [entry, "stdio"],
      cwd: dirname(entry),
      timeoutMs: 30_000,
    };
    gw = await startTestGateway({ connections: [connection], policies: allowAll });
    client = new Client({ name: "reference-test", version: "1.0.0" }, { capabilities: { sampling: {}, elicitation: {}, roots: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      samplingRequests.push(request.params);
      return {
        role: "assistant",
        content: { type: "text", text: "sampled answer from the test client" },
        model: "test-model",
        stopReason: "endTurn",
      };
    });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicitations.push(request.params);
      return { action: "accept", content: { name: "Ada Lovelace", check: true, integer: 7 } };
    });
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      rootsRequests++;
      return { roots: [{ uri: "file:///workspace/sentinel", name: "sentinel-workspace" }] };
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params);
    });
    await connectClient(gw, "everything", { user: "alice" }, client);
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await gw?.close();
  });

  it("initializes against the reference server", () => {
    expect(client!.getServerVersion()?.name).toBe("mcp-servers/everything");
    const caps = client!.getServerCapabilities();
    expect(caps?.tools).toBeDefined();
    expect(caps?.prompts).toBeDefined();
    expect(caps?.resources).toBeDefined();
    expect(caps?.logging).toBeDefined();
  });

  it("lists tools, including the sampling tool registered for a sampling-capable client", async () => {
    const { tools } = await client!.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "trigger-long-running-operation", "toggle-simulated-logging", "trigger-sampling-request"]));
  });

  it("calls echo and get-sum", async () => {
    const echo = await client!.callTool({ name: "echo", arguments: { message: "hello through sentinel" } });
    expect(echo.isError).toBeFalsy();
    expect(textOf(echo)).toBe("Echo: hello through sentinel");
    const sum = await client!.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } });
    expect(textOf(sum)).toContain("42");
  });

  it("lists and reads resources (static and templated)", async () => {
    const { resources } = await client!.listResources();
    expect(resources.length).toBeGreaterThan(0);
    const staticDoc = resources.find((r) => r.uri.startsWith("demo://resource/static/document/"));
    expect(staticDoc).toBeDefined();
    const doc = await client!.readResource({ uri: staticDoc!.uri });
    expect(doc.contents[0]?.uri).toBe(staticDoc!.uri);
    expect((doc.contents[0] as { text?: string }).text?.length).toBeGreaterThan(0);

    const { resourceTemplates } = await client!.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain("demo://resource/dynamic/text/{resourceId}");
    const dynamic = await client!.readResource({ uri: "demo://resource/dynamic/text/7" });
    expect((dynamic.contents[0] as { text?: string }).text).toMatch(/^Resource 7: This is a plaintext resource/);
  });

  it("lists and gets prompts, with and without arguments", async () => {
    const { prompts } = await client!.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(["simple-prompt", "args-prompt", "completable-prompt"]));
    const simple = await client!.getPrompt({ name: "simple-prompt" });
    expect(simple.messages[0]?.content).toEqual({ type: "text", text: "This is a simple prompt without arguments." });
    const args = await client!.getPrompt({ name: "args-prompt", arguments: { city: "Lisbon", state: "Lisboa" } });
    expect(args.messages[0]?.content).toEqual({ type: "text", text: "What's weather in Lisbon, Lisboa?" });
  });

  it("streams progress notifications of a long-running tool to the client", async () => {
    const progress: Progress[] = [];
    const result = await client!.callTool({ name: "trigger-long-running-operation", arguments: { duration: 0.6, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p),
      timeout: 20_000,
    });
    expect(textOf(result)).toContain("Long running operation completed");
    expect(progress.map((p) => p.progress)).toEqual([1, 2, 3]);
    expect(progress.every((p) => p.total === 3)).toBe(true);
  });

  it("relays a sampling/createMessage request to the client and the tool result back", async () => {
    const before = samplingRequests.length;
    const result = await client!.callTool(
      { name: "trigger-sampling-request", arguments: { prompt: "what is a gateway?", maxTokens: 42 } },
      undefined,
      { timeout: 20_000 },
    );
    expect(samplingRequests.length).toBe(before + 1);
    const asked = samplingRequests.at(-1)!;
    expect(asked.maxTokens).toBe(42);
    expect(JSON.stringify(asked.messages)).toContain("what is a gateway?");
    // The tool's result embeds the client's answer: the response made it back upstream.
    const text = textOf(result);
    expect(text).toContain("LLM sampling result");
    expect(text).toContain("sampled answer from the test client");
    expect(text).toContain("test-model");
  });

  it("relays an elicitation/create request and the user's answer", async () => {
    const result = await client!.callTool({ name: "trigger-elicitation-request", arguments: {} }, undefined, { timeout: 20_000 });
    expect(elicitations).toHaveLength(1);
    expect(elicitations[0]!.message).toContain("Please provide inputs");
    const text = textOf(result);
    expect(text).toContain("User provided the requested information");
    expect(text).toContain("- Name: Ada Lovelace");
    expect(text).toContain("- Favorite Integer: 7");
  });

  it("answers the roots/list request the server sends on its own after initialize", async () => {
    // server-everything asks for roots ~350 ms after notifications/initialized, outside any
    // call of the client's: it reaches the client on the session's standalone stream (or on
    // whichever call is in flight at that moment).
    await waitFor(() => rootsRequests >= 1, "the server's roots/list request");
    const result = await client!.callTool({ name: "get-roots-list", arguments: {} });
    const text = textOf(result);
    expect(text).toContain("Current MCP Roots (1 total)");
    expect(text).toContain("file:///workspace/sentinel");
  });

  it("sets the logging level and delivers log notifications", async () => {
    await expect(client!.setLoggingLevel("debug")).resolves.toBeDefined();
    const before = logs.length;
    const started = await client!.callTool({ name: "toggle-simulated-logging", arguments: {} });
    expect(textOf(started)).toContain("Started simulated");
    try {
      await waitFor(() => logs.length > before, "a notifications/message from the upstream");
      const log = logs.at(-1)!;
      expect(["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]).toContain(log.level);
      expect(String(log.data)).toMatch(/message/i);
    } finally {
      const stopped = await client!.callTool({ name: "toggle-simulated-logging", arguments: {} });
      expect(textOf(stopped)).toContain("Stopped simulated");
    }
  });

  it("answers completion/complete for prompt arguments and resource templates", async () => {
    const dept = await client!.complete({ ref: { type: "ref/prompt", name: "completable-prompt" }, argument: { name: "department", value: "S" } });
    expect(dept.completion.values.sort()).toEqual(["Sales", "Support"]);
    const person = await client!.complete({
      ref: { type: "ref/prompt", name: "completable-prompt" },
      argument: { name: "name", value: "" },
      context: { arguments: { department: "Engineering" } },
    });
    expect(person.completion.values).toEqual(["Alice", "Bob", "Charlie"]);
    const resourceId = await client!.complete({
      ref: { type: "ref/resource", uri: "demo://resource/dynamic/text/{resourceId}" },
      argument: { name: "resourceId", value: "12" },
    });
    expect(resourceId.completion.values).toEqual(["12"]);
  });
});

describe("server-everything behind a restrictive policy", () => {
  let gw: TestGateway | undefined;
  let client: Client | undefined;

  beforeAll(async () => {
    const entry = packageBin("@modelcontextprotocol/server-everything");
    gw = await startTestGateway({
      connections: [{ name: "everything", transport: "stdio", command: process.execPath, args: [entry, "stdio"], cwd: dirname(entry) }],
      policies: [
        { id: "echo-only", target: "mcp.tool", pattern: "echo", action: "allow" },
        { id: "simple-prompt", target: "mcp.prompt", pattern: "simple-prompt", action: "allow" },
      ],
    });
    client = await connectClient(gw, "everything");
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await gw?.close();
  });

  it("filters lists and refuses everything not allowed (deny by default)", async () => {
    expect((await client!.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
    expect((await client!.listPrompts()).prompts.map((p) => p.name)).toEqual(["simple-prompt"]);
    expect((await client!.listResources()).resources).toEqual([]);

    const refused = async (call: Promise<unknown>) => {
      const err = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).data).toMatchObject({ code: "SENTINEL_POLICY_DENIED", ruleId: "default-deny" });
    };
    await refused(client!.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } }));
    await refused(client!.getPrompt({ name: "args-prompt", arguments: { city: "x" } }));
    await refused(client!.readResource({ uri: "demo://resource/dynamic/text/1" }));
    await refused(client!.complete({ ref: { type: "ref/prompt", name: "completable-prompt" }, argument: { name: "department", value: "" } }));
    expect(textOf(await client!.callTool({ name: "echo", arguments: { message: "ok" } }))).toBe("Echo: ok");
  });
});

describe("server-filesystem (stdio) through the gateway", () => {
  let root = "";
  let gw: TestGateway | undefined;
  let client: Client | undefined;

  beforeAll(async () => {
    const entry = packageBin("@modelcontextprotocol/server-filesystem");
    root = await mkdtemp(join(tmpdir(), "sentinel-fs-"));
    await writeFile(join(root, "hello.txt"), "hello from the filesystem server\nsecond line\n");
    await mkdir(join(root, "notes"));
    await writeFile(join(root, "notes", "todo.md"), "# todo\n");
    gw = await startTestGateway({
      connections: [{ name: "fs", transport: "stdio", command: process.execPath, args: [entry, root], cwd: root }],
      policies: [
        { id: "no-writes", target: "mcp.tool", pattern: "write_file", action: "deny", description: "read-only agent" },
        ...allowAll,
      ],
    });
    client = await connectClient(gw, "fs", { user: "bob" });
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await gw?.close();
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  it("hides write_file from tools/list but shows the read tools", async () => {
    const names = (await client!.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["list_directory", "read_text_file", "get_file_info", "edit_file"]));
    expect(names).not.toContain("write_file");
  });

  it("lists the directory and reads a file", async () => {
    const listing = await client!.callTool({ name: "list_directory", arguments: { path: root } });
    expect(listing.isError).toBeFalsy();
    const text = textOf(listing);
    expect(text).toContain("[FILE] hello.txt");
    expect(text).toContain("[DIR] notes");

    const file = await client!.callTool({ name: "read_text_file", arguments: { path: join(root, "hello.txt") } });
    expect(file.isError).toBeFalsy();
    expect(textOf(file)).toBe("hello from the filesystem server\nsecond line\n");
    const head = await client!.callTool({ name: "read_text_file", arguments: { path: join(root, "hello.txt"), head: 1 } });
    expect(textOf(head)).toBe("hello from the filesystem server");
  });

  it("refuses write_file by policy and the file is not created", async () => {
    const target = join(root, "created-by-agent.txt");
    const err = await client!.callTool({ name: "write_file", arguments: { path: target, content: "should never land" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32003);
    expect((err as McpError).data).toMatchObject({ code: "SENTINEL_POLICY_DENIED", ruleId: "no-writes" });
    expect(existsSync(target)).toBe(false);
    expect((await readdir(root)).sort()).toEqual(["hello.txt", "notes"]);

    // The session is still usable after the refusal.
    const info = await client!.callTool({ name: "get_file_info", arguments: { path: join(root, "hello.txt") } });
    expect(textOf(info)).toMatch(/size: \d+/);
  });

  it("keeps the server's own sandbox: a path outside the root is an error from the server", async () => {
    const outside = await client!.callTool({ name: "read_text_file", arguments: { path: "/etc/hostname" } });
    expect(outside.isError).toBe(true);
    expect(textOf(outside)).toMatch(/access denied|outside allowed/i);
  });
});
