// kill -9 under load: every call the client saw answered has its record exactly once, in the
// spool and in the real Postgres store, and the chain is intact across the crash. Half the
// workers call an upstream that answers in JSON, half one that streams its answers (SSE), and
// all of them send notifications between calls: a 202 the client saw is an answer too.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../engine/auth/api-keys.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { ed25519Verifier } from "../../engine/audit/signer.js";
import { verifySpool, verifyStore } from "../../engine/audit/verify-sources.js";
import { ChainVerifier } from "../../engine/audit/verify.js";
import { listSegments } from "../../engine/audit/spool-files.js";
import type { SentinelConfig } from "../../engine/config/types.js";
import { openStore } from "../../engine/store/open-store.js";
import { spawnGateway, metric, type ChildGateway } from "../support/audit-child.js";
import { tempDir } from "../support/audit-fixtures.js";
import { startConformanceServer, type ConformanceServerHandle } from "../fixtures/conformance-server.js";
import { allowAll, MCP_POST_HEADERS, messagesOf, raw, rawSession, startRecordingHttp, type ChildServer, type TestGateway } from "../support/gateway-harness.js";
import { serviceEnv } from "../support/services-env.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a gateway killed with kill -9 under load", () => {
  const children: ChildGateway[] = [];
  let upstream: ChildServer | undefined;
  let streaming: ConformanceServerHandle | undefined;
  afterAll(async () => {
    for (const c of children) await c.kill9().catch(() => undefined);
    upstream?.stop();
    await streaming?.close();
  });

  it("loses no record of an answered call, duplicates none, and keeps its chain intact", { timeout: 180_000 }, async () => {
    const url = serviceEnv("DATABASE_URL");
    const dir = tempDir();
    const auditDir = join(dir, "audit");
    upstream = await startRecordingHttp(join(dir, "upstream.jsonl"));
    streaming = await startConformanceServer(0);
    const key = generateApiKey();
    const tenant = `crash-${randomUUID().slice(0, 8)}`;
    const config: SentinelConfig = {
      version: 1,
      server: { host: "127.0.0.1", port: 0, maxBodyBytes: 1 << 20, sessionIdleTimeoutMs: 600_000 },
      audit: { dir: auditDir, durability: "written", checkpoint: { everyRecords: 200, intervalMs: 100 }, sinks: { store: { kind: "postgres", url } } },
      tenants: [{ id: tenant, apiKeys: [{ id: "k", hash: key.hash }], connections: [{ name: "rec", transport: "http", url: upstream.url }, { name: "sse", transport: "http", url: streaming.url }], policies: allowAll }],
    };

    const first = await spawnGateway(config);
    children.push(first);
    const gw = { key: key.key, endpoint: (c: string) => `${first.url}/mcp/${c}` } as TestGateway;
    const answered: string[] = [];
    let stop = false;
    let answeredStreams = 0;
    let answeredNotifications = 0;
    const worker = async (w: number) => {
      const connection = w % 2 === 0 ? "rec" : "sse";
      const sid = await rawSession(gw, connection, { user: `user-${w}` });
      const headers = { ...MCP_POST_HEADERS, authorization: `Bearer ${key.key}`, "mcp-session-id": sid };
      for (let i = 0; !stop; i++) {
        const body =
          i % 4 === 3
            ? JSON.stringify({ jsonrpc: "2.0", method: "notifications/roots/list_changed" })
            : JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: connection === "rec" ? { name: "echo", arguments: { w, i } } : { name: "test_simple_text", arguments: {} } });
        const reply = await raw(gw.endpoint(connection), { method: "POST", headers, body }).catch(() => undefined);
        if (reply === undefined) return; // the gateway died mid-call: not answered
        const traceId = reply.headers.get("x-sentinel-trace-id")!;
        if (reply.status === 202) {
          answered.push(traceId);
          answeredNotifications++;
        } else if (reply.status === 200 && messagesOf(reply).some((m) => m.id === i && m.result !== undefined)) {
          answered.push(traceId);
          if (reply.headers.get("content-type")?.startsWith("text/event-stream")) answeredStreams++;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await sleep(2500);
    await first.kill9();
    stop = true;
    await Promise.all(workers);
    expect(answered.length).toBeGreaterThan(200);
    expect(answeredStreams).toBeGreaterThan(20);
    expect(answeredNotifications).toBeGreaterThan(20);

    // Restart on the same spool: the lock of the dead process is taken over, the chain goes on,
    // and what the store had not received yet is shipped now.
    const second = await spawnGateway(config);
    children.push(second);
    const deadline = Date.now() + 60_000;
    while (((await metric(second.url, 'sentinel_audit_sink_lag_records{sink="store"}')) ?? 1) > 0 && Date.now() < deadline) await sleep(100);
    await second.stop();

    const verifier = ed25519Verifier(readFileSync(join(auditDir, "signing-key.pub.pem"), "utf8"));
    const keys = new Map([[verifier.keyId, verifier]]);
    const fromSpool = new ChainVerifier(keys, {}, true);
    verifySpool(auditDir, fromSpool, []);
    const spoolReport = fromSpool.report();
    expect(spoolReport.ok, JSON.stringify(spoolReport)).toBe(true);

    const spooled = listSegments(auditDir).flatMap((s) => readFileSync(s.path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AuditRecord));
    const countIds = (records: AuditRecord[]) => {
      const n = new Map<string, number>();
      for (const r of records) if (r.kind === "call") n.set(r.id, (n.get(r.id) ?? 0) + 1);
      return n;
    };
    const inSpool = countIds(spooled);
    const missing = answered.filter((id) => inSpool.get(id) !== 1);
    expect(missing, `${missing.length} of ${answered.length} answered calls lack exactly one spool record`).toEqual([]);

    const store = await openStore({ kind: "postgres", url });
    try {
      const chain = spooled[0]!.chain;
      const fromStore = new ChainVerifier(keys, {}, true);
      await verifyStore(store, fromStore, chain);
      expect(fromStore.report()).toMatchObject({ ok: true, chains: [{ chain, records: spooled.length }] });
      const rows = await store.query<{ record_id: string; n: string | number }>(
        "SELECT record_id, count(*) AS n FROM audit_records WHERE chain_id = $1 AND kind = 'call' GROUP BY record_id",
        [chain],
      );
      const inStore = new Map(rows.map((r) => [r.record_id, Number(r.n)]));
      expect(answered.filter((id) => inStore.get(id) !== 1)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
