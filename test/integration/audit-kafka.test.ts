// Produce through the gateway, consume back from the real Kafka broker (KAFKA_BROKERS) and the
// real Postgres (DATABASE_URL), verify the chain from both; and measure how fast a decision
// reaches another process by Postgres LISTEN/NOTIFY and by the Kafka topic.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Kafka from "node-rdkafka";
import { afterAll, describe, expect, it } from "vitest";
import { exportKafkaTopic } from "../../engine/audit/kafka-export.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { ed25519Verifier } from "../../engine/audit/signer.js";
import { DECISION_CHANNEL } from "../../engine/audit/sinks/store-sink.js";
import { verifyKafkaFile, verifyStore } from "../../engine/audit/verify-sources.js";
import { ChainVerifier } from "../../engine/audit/verify.js";
import { openStore } from "../../engine/store/open-store.js";
import { allowAll, connectClient, demoConnection, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { tempDir } from "../support/audit-fixtures.js";
import { serviceEnv } from "../support/services-env.js";

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

describe("audit through the gateway to Kafka and Postgres", () => {
  const topic = `sentinel-audit-test-${randomUUID()}`;
  const auditDir = join(tempDir(), "audit");
  let gw: TestGateway | undefined;
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    await gw?.close();
  });

  it("ships every record to both sinks, and the chain verifies from the Kafka export and from the store", { timeout: 120_000 }, async () => {
    const brokers = serviceEnv("KAFKA_BROKERS");
    const url = serviceEnv("DATABASE_URL");
    gw = await startTestGateway(
      { connections: [demoConnection()], policies: [{ id: "no-deletes", target: "mcp.tool", pattern: "repo.delete", action: "deny" }, ...allowAll] },
      {},
      {},
      { dir: auditDir, arguments: "full", checkpoint: { everyRecords: 25, intervalMs: 200 }, sinks: { store: { kind: "postgres", url }, kafka: { brokers, topic } } },
    );
    const audit = gw.gateway.audit!;

    // Decisions as other processes see them: LISTEN on a separate connection, and a Kafka consumer.
    const listener = await openStore({ kind: "postgres", url });
    cleanup.push(() => listener.close());
    const published = new Map<string, number>();
    audit.decisions.subscribe({}, (r) => published.set(`${r.chain}:${r.seq}`, performance.now()));
    const viaNotify: number[] = [];
    const stopListen = await listener.listen(DECISION_CHANNEL, (p) => {
      const d = JSON.parse(p) as { chain: string; seq: number };
      const t = published.get(`${d.chain}:${d.seq}`);
      if (t !== undefined) viaNotify.push(performance.now() - t);
    });
    cleanup.push(stopListen);
    const viaKafka: number[] = [];
    const consumer = new Kafka.KafkaConsumer(
      { "metadata.broker.list": brokers, "group.id": `latency-${randomUUID()}`, "fetch.wait.max.ms": 5, "topic.metadata.refresh.interval.ms": 200, "allow.auto.create.topics": true },
      { "auto.offset.reset": "earliest" },
    );
    await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(new Error(err.message)) : resolve())));
    cleanup.push(() => new Promise((resolve) => consumer.disconnect(() => resolve())));
    consumer.on("data", (m) => {
      const r = JSON.parse(m.value!.toString()) as AuditRecord;
      const t = published.get(`${r.chain}:${r.seq}`);
      if (t !== undefined && r.kind === "call") viaKafka.push(performance.now() - t);
    });
    consumer.subscribe([topic]);
    consumer.consume();

    const client = await connectClient(gw, "github-prod", { user: "alice@acme.com", metadata: { role: "developer" } });
    let denied = 0;
    const calls = 60;
    for (let i = 0; i < calls; i++) {
      try {
        await client.callTool({ name: i % 5 === 0 ? "repo.delete" : "repo.read", arguments: { repo: `acme/r${i}` } });
      } catch {
        denied++;
      }
      // Paced, so each decision's latency is measured on its own rather than queued behind others.
      await new Promise((r) => setTimeout(r, 20));
    }
    await client.close();
    expect(denied).toBe(12);

    await audit.flush();
    const deadline = Date.now() + 60_000;
    while (audit.shippers.some((s) => s.acked < audit.spool.syncedSeq) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const s of audit.shippers) expect({ sink: s.sink.name, acked: s.acked }).toEqual({ sink: s.sink.name, acked: audit.spool.syncedSeq });
    const lastSeq = audit.spool.syncedSeq;
    const chain = audit.chainHead.chain;
    await new Promise((r) => setTimeout(r, 1000));
    await gw.close();
    gw = undefined;

    const verifier = ed25519Verifier(readFileSync(join(auditDir, "signing-key.pub.pem"), "utf8"));
    const keys = new Map([[verifier.keyId, verifier]]);

    const file = join(tempDir(), "topic.ndjson");
    const exported = await exportKafkaTopic({ brokers, topic, file, timeoutMs: 30_000 });
    const fromKafka = new ChainVerifier(keys, {}, true);
    const warnings: string[] = [];
    verifyKafkaFile(file, fromKafka, warnings);
    const kafkaReport = fromKafka.report();
    expect(kafkaReport.ok, JSON.stringify(kafkaReport)).toBe(true);
    // close() adds a final checkpoint after lastSeq; every record up to it came back, once.
    expect(exported).toBeGreaterThanOrEqual(lastSeq);
    expect(warnings).toEqual([]);
    const records = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AuditRecord);
    const calls_ = records.filter((r) => r.method === "tools/call");
    expect(calls_).toHaveLength(calls);
    expect(calls_.filter((r) => r.decision === "deny").every((r) => r.ruleId === "no-deletes" && r.outcome?.code === "SENTINEL_POLICY_DENIED")).toBe(true);
    expect(calls_.find((r) => r.decision === "allow")).toMatchObject({ tenant: "acme", user: "alice@acme.com", role: "developer", connection: "github-prod", arguments: { repo: expect.any(String) } });

    const store = await openStore({ kind: "postgres", url });
    try {
      const fromStore = new ChainVerifier(keys, {}, true);
      await verifyStore(store, fromStore, chain);
      expect(fromStore.report()).toMatchObject({ ok: true, chains: [{ chain, records: exported }] });
    } finally {
      await store.close();
    }

    const fmt = (xs: number[]) => `p50 ${quantile(xs, 0.5).toFixed(1)} ms, p95 ${quantile(xs, 0.95).toFixed(1)} ms (n=${xs.length})`;
    process.stdout.write(`decision latency from in-process publish: LISTEN/NOTIFY ${fmt(viaNotify)}; Kafka ${fmt(viaKafka)}\n`);
    expect(viaNotify.length).toBeGreaterThan(calls / 2);
    expect(viaKafka.length).toBeGreaterThan(calls / 2);
  });
});
