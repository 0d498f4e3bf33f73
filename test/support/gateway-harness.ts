/**
 * Starts real gateways for integration tests: in-process, on an ephemeral loopback port, with
 * a generated API key. Nothing is mocked; upstreams are real MCP servers.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { request } from "undici";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { generateApiKey } from "../../engine/auth/api-keys.js";
import type { ConnectionConfig, PolicyConfig, SentinelConfig, TenantConfig } from "../../engine/config/types.js";
import { startGateway, type RunningGateway } from "../../engine/server.js";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

/** The demo MCP server over stdio, run from source. */
export const demoConnection = (name = "github-prod", extra: Partial<ConnectionConfig> = {}): ConnectionConfig =>
  ({
    name,
    transport: "stdio",
    command: process.execPath,
    args: ["--import", "tsx", resolve(REPO_ROOT, "engine/demo/demo-server.ts")],
    cwd: REPO_ROOT,
    ...extra,
  }) as ConnectionConfig;

export const allowAll: PolicyConfig[] = [
  { id: "tools", target: "mcp.tool", pattern: "*", action: "allow" },
  { id: "resources", target: "mcp.resource", pattern: "*", action: "allow" },
  { id: "prompts", target: "mcp.prompt", pattern: "*", action: "allow" },
];

export interface TestGateway extends RunningGateway {
  readonly key: string;
  readonly keyHash: string;
  endpoint(connection: string): string;
}

export async function startTestGateway(
  tenant: Omit<TenantConfig, "apiKeys" | "id"> & { id?: string },
  server: Partial<SentinelConfig["server"]> = {},
  /** For credentials: the data dir holding the vault, and the vault settings. */
  vault: { dataDir?: string; config?: SentinelConfig["vault"]; log?: (line: string) => void } = {},
  /** The audit section; without one, the gateway spools to a temporary directory and ships nowhere. */
  audit?: SentinelConfig["audit"],
): Promise<TestGateway> {
  const key = generateApiKey();
  const config: SentinelConfig = {
    version: 1,
    server: { host: "127.0.0.1", port: 0, maxBodyBytes: 1 << 20, sessionIdleTimeoutMs: 600_000, ...server },
    ...(vault.config === undefined ? {} : { vault: vault.config }),
    ...(audit === undefined ? {} : { audit }),
    tenants: [{ id: "acme", ...tenant, apiKeys: [{ id: "test", hash: key.hash }] }],
  };
  const running = await startGateway({ config, port: 0, dataDir: vault.dataDir, log: vault.log });
  return Object.assign(running, {
    key: key.key,
    keyHash: key.hash,
    endpoint: (connection: string) => `${running.url}/mcp/${encodeURIComponent(connection)}`,
  });
}

export interface Identity {
  user?: string;
  metadata?: Record<string, unknown>;
}

export function identityHeaders(key: string, identity: Identity = {}): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (identity.user !== undefined) headers["x-sentinel-user"] = identity.user;
  if (identity.metadata !== undefined) headers["x-sentinel-metadata"] = JSON.stringify(identity.metadata);
  return headers;
}

/** A stock MCP SDK client connected through the gateway. */
export async function connectClient(gw: TestGateway, connection: string, identity: Identity = {}, client?: Client): Promise<Client> {
  const c = client ?? new Client({ name: "sentinel-test", version: "1.0.0" }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(gw.endpoint(connection)), {
    requestInit: { headers: identityHeaders(gw.key, identity) },
  });
  await c.connect(transport);
  return c;
}

export interface RawReply {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
  json: unknown;
}

/**
 * A raw HTTP exchange, for the cases a well-behaved client would never produce. undici's
 * `request` sends exactly the headers given (fetch would add Accept and refuse to set Host).
 */
export async function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<RawReply> {
  const res = await request(url, {
    method: (init.method ?? "GET") as "GET",
    headers: init.headers ?? {},
    body: init.body,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const get = (name: string) => {
    const v = res.headers[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  };
  return { status: res.statusCode, headers: { get }, text, json };
}

export const MCP_POST_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

export const initializeBody = (id: number | string = 1) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw-test", version: "1" } },
  });

/** Opens a session with raw HTTP and returns its id. */
export async function rawSession(gw: TestGateway, connection: string, identity: Identity = {}): Promise<string> {
  const headers = { ...MCP_POST_HEADERS, ...identityHeaders(gw.key, identity) };
  const init = await raw(gw.endpoint(connection), { method: "POST", headers, body: initializeBody() });
  const sid = init.headers.get("mcp-session-id");
  if (init.status !== 200 || sid === null) throw new Error(`initialize failed: ${init.status} ${init.text}`);
  await raw(gw.endpoint(connection), {
    method: "POST",
    headers: { ...headers, "mcp-session-id": sid },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  return sid;
}

/** The JSON-RPC messages in a response body, whether it came as JSON or as SSE. */
export function messagesOf(reply: RawReply): Array<Record<string, unknown>> {
  if (reply.json !== undefined) return [reply.json as Record<string, unknown>];
  return reply.text
    .split(/\n\n/)
    .map((event) => event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n"))
    .filter((data) => data !== "")
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

/** The recording test server (test/fixtures/recording-server.ts) as a stdio connection. */
export const recordingStdio = (name: string, recordFile: string, extra: Partial<ConnectionConfig> = {}): ConnectionConfig =>
  ({
    name,
    transport: "stdio",
    command: process.execPath,
    args: ["--import", "tsx", resolve(REPO_ROOT, "test/fixtures/recording-server.ts"), "--stdio"],
    cwd: REPO_ROOT,
    env: { RECORD_FILE: recordFile },
    ...extra,
  }) as ConnectionConfig;

export interface ChildServer {
  readonly url: string;
  stop(): void;
}

/** Starts the recording test server over HTTP in its own process. */
export async function startRecordingHttp(recordFile: string): Promise<ChildServer> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(REPO_ROOT, "test/fixtures/recording-server.ts"), "--port", "0"], {
    cwd: REPO_ROOT,
    env: { ...process.env, RECORD_FILE: recordFile },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => resolveUrl((JSON.parse(line) as { url: string }).url));
    child.once("exit", (code) => reject(new Error(`recording server exited with ${code}`)));
  });
  return { url, stop: () => child.kill("SIGKILL") };
}

/** Every message the recording server received so far. */
export function recorded(recordFile: string): Array<Record<string, unknown>> {
  if (!existsSync(recordFile)) return [];
  return readFileSync(recordFile, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export const toolCalls = (recordFile: string) =>
  recorded(recordFile)
    .filter((m) => m.method === "tools/call")
    .map((m) => (m.params as { name: string }).name);
