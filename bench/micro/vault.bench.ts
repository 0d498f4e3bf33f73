/**
 * Vault micro-benchmarks: what the vault & scope stage and the credential interceptor add to
 * one call with the decrypted secret cached (the steady state), against a cold decrypt (unwrap
 * the data key, open the secret) and the response scrubber.
 *
 *   node --import tsx bench/micro/vault.bench.ts [--quick]
 *
 * Calls are timed in batches of 100; the table reports per-call microseconds.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bench } from "tinybench";
import type { Dispatcher } from "undici";
import type { CredentialConfig, SentinelConfig } from "../../engine/config/types.js";
import type { JsonRpcRequest } from "../../engine/mcp/jsonrpc.js";
import { CALL_CREDENTIAL, credentialHeaders } from "../../engine/upstream/interceptors/credential-headers.js";
import { openRecord } from "../../engine/vault/secret-records.js";
import { Vault } from "../../engine/vault/vault.js";
import { admit, type Admission } from "../../engine/vault/vault-stage.js";
import { markdownTable, writeMicroResult } from "./output.js";

const quick = process.argv.includes("--quick");
const BATCH = 100;
const SECRET = "ghp_" + "k7Qz2vX9mB4nR8tL1wP6sY3cF5hJ0dG8a4f";

async function main(): Promise<void> {
  const vault = new Vault({ dataDir: mkdtempSync(join(tmpdir(), "sentinel-vault-bench-")), config: undefined, log: () => undefined });
  const credential: CredentialConfig = { name: "github-prod", type: "bearer", connections: ["svc"], scopes: ["repos:read", "charge:create(amount <= 50)"] };
  const config: SentinelConfig = {
    version: 1,
    server: { host: "127.0.0.1", port: 0, maxBodyBytes: 1 << 20, sessionIdleTimeoutMs: 60_000 },
    tenants: [
      {
        id: "acme",
        credentials: [credential],
        connections: [{ name: "svc", transport: "http", url: "http://127.0.0.1:1/mcp", credential: "github-prod", requiredScopes: [{ tool: "repo.*", scope: "repos:read" }, { tool: "charge.*", scope: "charge:create" }] }],
      },
    ],
  };
  vault.publish(config);
  const record = await vault.put("acme", credential, SECRET, "bench");
  const binding = vault.binding("acme", "svc")!;
  const call: JsonRpcRequest = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "charge.create", arguments: { amount: 20 } } };

  // The interceptor as HttpUpstream composes it, in front of a dispatch that only takes the options.
  let sent: Dispatcher.DispatchOptions | undefined;
  const dispatch = credentialHeaders()((opts) => {
    sent = opts;
    return true;
  });
  const handler = {} as Dispatcher.DispatchHandler;
  const baseHeaders = { accept: "application/json, text/event-stream", "content-type": "application/json", "mcp-session-id": "abc", "mcp-protocol-version": "2025-11-25" };
  const warm = (await admit(binding, call)) as Admission;
  binding.credential.release(warm.lease);

  const scrubber = binding.credential.scrubber();
  const clean = { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "x".repeat(1024) }], structuredContent: { a: 1, b: ["c", "d"] } } };
  const echoed = { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: `${"x".repeat(500)} Bearer ${SECRET} ${"y".repeat(500)}` }] } };

  const bench = new Bench({ time: quick ? 500 : 3000, warmupTime: quick ? 100 : 500 });
  bench.add("vault stage + inject, warm cache (per call)", () => {
    for (let i = 0; i < BATCH; i++) {
      const a = admit(binding, call) as Admission;
      dispatch({ origin: "http://127.0.0.1:1", path: "/mcp", method: "POST", headers: baseHeaders, [CALL_CREDENTIAL]: a.lease } as Dispatcher.DispatchOptions, handler);
      binding.credential.release(a.lease);
    }
  });
  bench.add("cold decrypt: unwrap data key + open secret (per call)", async () => {
    for (let i = 0; i < BATCH; i++) (await openRecord(vault.ring(), record)).fill(0);
  });
  bench.add("scrub a 1 KB answer, no secret in it (per call)", () => {
    for (let i = 0; i < BATCH; i++) scrubber.json(clean);
  });
  bench.add("scrub a 1 KB answer that echoes the secret (per call)", () => {
    for (let i = 0; i < BATCH; i++) scrubber.json(echoed);
  });
  await bench.run();
  if (sent === undefined || (sent.headers as Record<string, string>).authorization !== `Bearer ${SECRET}`) throw new Error("the interceptor did not inject the credential");

  const rows = bench.tasks.map((t) => {
    const r = t.result as unknown as { latency: { p50: number; p99: number; mean: number } };
    return { task: t.name, "p50 µs": ((r.latency.p50 * 1000) / BATCH).toFixed(2), "p99 µs": ((r.latency.p99 * 1000) / BATCH).toFixed(2), "mean µs": ((r.latency.mean * 1000) / BATCH).toFixed(2) };
  });
  const warmP50 = Number(rows[0]!["p50 µs"]);
  const verdict = `decrypt + inject per call, warm cache: ${warmP50} µs p50 (target ≤ 20 µs): ${warmP50 <= 20 ? "met" : "NOT met"}`;
  writeMicroResult("vault", { rows, warmP50Micros: warmP50 }, [markdownTable(rows), "", verdict].join("\n"));
  await vault.close();
}

await main();
