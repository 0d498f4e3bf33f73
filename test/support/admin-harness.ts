/**
 * The admin API for integration tests, for real: a store (PGlite in a temp dir, or a fresh
 * database on the real Postgres), a gateway following it, and the admin server on an ephemeral
 * port, talked to over HTTP with plain fetch (queries, mutations) and graphql-sse's client
 * (subscriptions over yoga's SSE).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "graphql-sse";
import postgres from "postgres";
import { AdminTokens, type AdminRole } from "../../admin/admin-tokens.js";
import { inProcessDecisions } from "../../admin/feeds/decision-feed.js";
import { startAdminServer, type RunningAdmin } from "../../admin/server.js";
import { generateApiKey } from "../../engine/auth/api-keys.js";
import type { ConfigDocument } from "../../engine/config-store/config-document.js";
import { ConfigVersions } from "../../engine/config-store/config-versions.js";
import { startStoreGateway, type StoreGateway } from "../../engine/config-store/store-gateway.js";
import { openStore, type StoreSpec } from "../../engine/store/open-store.js";
import type { Store } from "../../engine/store/store.js";
import { identityHeaders, MCP_POST_HEADERS, messagesOf, raw, rawSession, recordingStdio, type TestGateway } from "./gateway-harness.js";
import { serviceEnv } from "./services-env.js";

export type StoreKind = "pglite" | "postgres";
export const STORE_KINDS: StoreKind[] = ["pglite", "postgres"];

export interface GraphQLError {
  readonly message: string;
  readonly extensions?: { code?: string; path?: string; field?: string; [k: string]: unknown };
}
export interface GraphQLReply<T> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: GraphQLError[];
}

export async function gql<T = Record<string, unknown>>(url: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLReply<T>> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: GraphQLError[] };
  return { status: res.status, data: body.data, errors: body.errors };
}

/** The data of an operation that must succeed. */
export async function gqlData<T = Record<string, unknown>>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const reply = await gql<T>(url, token, query, variables);
  if (reply.errors !== undefined || reply.data == null) throw new Error(`GraphQL errors: ${JSON.stringify(reply.errors)}`);
  return reply.data;
}

/** The first error's code and details of an operation that must fail. */
export async function gqlError(url: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLError & { status: number }> {
  const reply = await gql(url, token, query, variables);
  const first = reply.errors?.[0];
  if (first === undefined) throw new Error(`expected an error, got ${JSON.stringify(reply.data)}`);
  return { ...first, status: reply.status };
}

export interface Subscription<T> {
  /** The next event, or a rejection after `timeoutMs`. */
  next(timeoutMs?: number): Promise<T>;
  close(): void;
}

/** Subscribes over SSE; resolves once the server has taken the subscription. */
export async function subscribe<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<Subscription<T>> {
  const client = createClient({ url, headers: { authorization: `Bearer ${token}` }, singleConnection: false, retryAttempts: 0 });
  let connected!: () => void;
  const ready = new Promise<void>((r) => (connected = r));
  const it = client.iterate<T>({ query, variables }, { connected: () => connected() });
  const first = it.next();
  await Promise.race([ready, first.then((r) => Promise.reject(new Error(`subscription ended before connecting: ${JSON.stringify(r.value)}`)))]);
  let pending: Promise<IteratorResult<{ data?: T | null; errors?: unknown }>> | undefined = first as never;
  return {
    async next(timeoutMs = 5000) {
      const step = pending ?? (it.next() as never);
      pending = undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no subscription event within ${timeoutMs} ms`)), timeoutMs)));
      try {
        const r = await Promise.race([step, timeout]);
        if (r.done === true) throw new Error("the subscription ended");
        if (r.value.errors !== undefined) throw new Error(`subscription errors: ${JSON.stringify(r.value.errors)}`);
        return r.value.data as T;
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      void it.return?.(undefined);
      client.dispose();
    },
  };
}

export interface FreshDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** A new database on the real Postgres (DATABASE_URL), so suites never see each other's rows. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const base = serviceEnv("DATABASE_URL");
  const name = `sentinel_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(base, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = postgres(base, { max: 1, onnotice: () => undefined });
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await sql.end();
    },
  };
}

export interface OpenedStore {
  readonly spec: StoreSpec;
  readonly store: Store;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A migrated store of the given kind, empty. */
export async function openTestStore(kind: StoreKind): Promise<OpenedStore> {
  const dataDir = mkdtempSync(join(tmpdir(), "sentinel-admin-"));
  const db = kind === "postgres" ? await freshDatabase() : undefined;
  const spec: StoreSpec = db === undefined ? { kind: "embedded", dir: join(dataDir, "store") } : { kind: "postgres", url: db.url };
  const store = await openStore(spec);
  return {
    spec,
    store,
    dataDir,
    async close() {
      await store.close();
      await db?.drop();
    },
  };
}

export interface AdminStack extends OpenedStore {
  readonly versions: ConfigVersions;
  readonly tokens: AdminTokens;
  readonly gateway: StoreGateway;
  readonly admin: RunningAdmin;
  /** The admin API's /graphql URL. */
  readonly url: string;
  readonly ownerToken: string;
  /** Makes an admin token. */
  token(role: AdminRole, tenant?: string): Promise<string>;
}

let tokenSerial = 0;

/** A gateway following a store, with its admin API, both in this process (like `sentinel start`). */
export async function startAdminStack(kind: StoreKind, document: ConfigDocument, log: (line: string) => void = () => undefined): Promise<AdminStack> {
  const opened = await openTestStore(kind);
  const versions = new ConfigVersions(opened.store);
  await versions.commit({ document, author: "test" });
  const gateway = await startStoreGateway({ versions, spec: opened.spec, dataDir: opened.dataDir, port: 0, log });
  const tokens = new AdminTokens(opened.store);
  const owner = await tokens.create({ id: "test-owner", role: "owner", createdBy: "test" });
  const gw = gateway.running.gateway;
  const admin = await startAdminServer({
    host: "127.0.0.1",
    port: 0,
    services: { store: opened.store, versions, tokens, gateway: gw, vault: gw.vault, audit: gw.audit, decisions: inProcessDecisions(gw.audit), log, subscriptionRecheckMs: 200 },
  });
  return {
    ...opened,
    versions,
    tokens,
    gateway,
    admin,
    url: admin.url,
    ownerToken: owner.token,
    async token(role, tenant) {
      return (await tokens.create({ id: `${role}-${++tokenSerial}`, role, tenant, createdBy: "test" })).token;
    },
    async close() {
      await admin.close();
      await gateway.close();
      await opened.close();
    },
  };
}

/** An API key for a document's tenant: the key, and the entry for `apiKeys`. */
export function testApiKey(id = "test"): { key: string; entry: { id: string; hash: string } } {
  const { key, hash } = generateApiKey();
  return { key, entry: { id, hash } };
}

/** A tenant on the recording server whose `echo` is denied by rule `echo-rule` and every other tool allowed. */
export const echoTenant = (id: string, apiKey: { id: string; hash: string }, recordFile: string) => ({
  id,
  apiKeys: [apiKey],
  connections: [recordingStdio("rec", recordFile)],
  policies: [
    { id: "echo-rule", target: "mcp.tool", pattern: "echo", action: "deny" },
    { id: "rest", target: "mcp.tool", pattern: "*", action: "allow" },
  ],
});

/** One tools/call through a gateway's `rec` connection, in `sid` or a new session: the HTTP status and JSON-RPC answer. */
export async function callTool(gatewayUrl: string, key: string, name: string, options: { sid?: string; user?: string } = {}) {
  const identity = { user: options.user ?? "alice", metadata: { role: "developer" } };
  const gw = { key, endpoint: (c: string) => `${gatewayUrl}/mcp/${c}` } as unknown as TestGateway;
  const sid = options.sid ?? (await rawSession(gw, "rec", identity));
  const reply = await raw(gw.endpoint("rec"), {
    method: "POST",
    headers: { ...MCP_POST_HEADERS, ...identityHeaders(key, identity), "mcp-session-id": sid },
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name, arguments: { n: 1 } } }),
  });
  return { sid, status: reply.status, message: messagesOf(reply)[0]! };
}
