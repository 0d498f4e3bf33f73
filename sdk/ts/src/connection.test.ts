/**
 * The SDK against a stock MCP server (the MCP SDK's own McpServer over Streamable HTTP): the
 * gateway is transparent to MCP, so everything except Sentinel's refusals must work as it does
 * with a plain server, including pagination, resources and prompts.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Igris } from "./index.js";

let http: Server;
let baseUrl: string;
const transports = new Map<string, StreamableHTTPServerTransport>();
const users: (string | undefined)[] = [];

const buildServer = (): McpServer => {
  const server = new McpServer({ name: "stock", version: "1.0.0" });
  server.registerTool("echo.user", { description: "Says hello" }, async () => ({ content: [{ type: "text", text: "hello" }] }));
  server.registerResource("readme", "repo://acme/api/README.md", { mimeType: "text/markdown" }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "text/markdown", text: "# acme/api" }],
  }));
  server.registerPrompt("hello", { description: "Greets" }, () => ({
    messages: [{ role: "user", content: { type: "text", text: "Say hello." } }],
  }));
  return server;
};

const readJson = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString("utf8"));
};

beforeAll(async () => {
  http = createServer((req, res) => {
    void (async () => {
      users.push(req.headers["x-sentinel-user"] as string | undefined);
      const sessionId = req.headers["mcp-session-id"] as string | undefined;
      const body = req.method === "POST" ? await readJson(req) : undefined;
      let transport = sessionId === undefined ? undefined : transports.get(sessionId);
      if (transport === undefined) {
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          onsessioninitialized: (id) => void transports.set(id, transport as StreamableHTTPServerTransport),
        });
        await buildServer().connect(transport);
      }
      await transport.handleRequest(req, res, body);
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const t of transports.values()) await t.close();
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

describe("GovernedConnection against a stock MCP server", () => {
  it("lists and calls tools, resources and prompts", async () => {
    const mcp = await new Igris({ apiKey: "k", baseUrl }).connectStdio("github-prod", { user: "alice@acme.com" });
    expect(mcp.client.getServerVersion()?.name).toBe("stock");
    expect((await mcp.listTools()).map((t) => t.name)).toEqual(["echo.user"]);
    expect((await mcp.call("echo.user")).content).toEqual([{ type: "text", text: "hello" }]);
    expect((await mcp.listResources()).map((r) => r.uri)).toEqual(["repo://acme/api/README.md"]);
    const read = await mcp.readResource("repo://acme/api/README.md");
    expect(read.contents[0]).toMatchObject({ text: "# acme/api" });
    expect((await mcp.listPrompts()).map((p) => p.name)).toEqual(["hello"]);
    expect((await mcp.getPrompt("hello")).messages).toHaveLength(1);
    await mcp.close();
    expect(users.every((u) => u === "alice@acme.com")).toBe(true);
  });

  it("rejects bad arguments before sending anything", async () => {
    const mcp = await new Igris({ apiKey: "k", baseUrl }).connect("github-prod");
    await expect(mcp.call("")).rejects.toThrow(RangeError);
    await expect(mcp.call(42 as unknown as string)).rejects.toThrow(TypeError);
    await expect(mcp.call("echo.user", ["a"] as unknown as Record<string, unknown>)).rejects.toThrow(/args must be a plain object/);
    await expect(mcp.call("echo.user", {}, { timeout: 5 } as never)).rejects.toThrow(/unknown option "timeout"/);
    await expect(mcp.readResource("")).rejects.toThrow(RangeError);
    await expect(mcp.getPrompt("hello", { n: 1 } as unknown as Record<string, string>)).rejects.toThrow(/args.n must be a string/);
    await mcp.close();
  });
});
