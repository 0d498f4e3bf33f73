// Sink outages under load, against private PostgreSQL and Kafka instances the test stops and
// restarts (the shared services stay up for everyone else): records back up in the spool, calls
// keep being answered, and once each sink is back everything arrives, once, and verifies.
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exportKafkaTopic } from "../../engine/audit/kafka-export.js";
import { ed25519Verifier } from "../../engine/audit/signer.js";
import { verifyKafkaFile, verifyStore } from "../../engine/audit/verify-sources.js";
import { ChainVerifier } from "../../engine/audit/verify.js";
import { openStore } from "../../engine/store/open-store.js";
import { tempDir } from "../support/audit-fixtures.js";
import { allowAll, connectClient, demoConnection, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { throwawayKafka, throwawayPostgres, type ThrowawayKafka, type ThrowawayPostgres } from "../support/throwaway-services.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("sink outages under load", () => {
  let pg: ThrowawayPostgres | undefined;
  let kafka: ThrowawayKafka | undefined;
  let gw: TestGateway | undefined;
  afterAll(async () => {
    await gw?.close();
    try {
      pg?.stop();
    } catch {
      // already stopped
    }
    if (pg !== undefined) rmSync(pg.dir, { recursive: true, force: true });
    await kafka?.kill();
  });

  it("back up into the spool and drain once the sinks return, each record once", { timeout: 300_000 }, async () => {
    const dir = tempDir();
    [pg, kafka] = await Promise.all([throwawayPostgres(), throwawayKafka(join(dir, "kafka"))]);
    const topic = `outage-${randomUUID()}`;
    const auditDir = join(dir, "audit");
    gw = await startTestGateway({ connections: [demoConnection()], policies: allowAll }, {}, {}, {
      dir: auditDir,
      checkpoint: { everyRecords: 50, intervalMs: 200 },
      sinks: { store: { kind: "postgres", url: pg.url }, kafka: { brokers: kafka.brokers, topic, properties: { "reconnect.backoff.max.ms": 500 } } },
    });
    const audit = gw.gateway.audit!;
    const sink = (name: string) => audit.shippers.find((s) => s.sink.name === name)!;
    const client = await connectClient(gw, "github-prod", { user: "ops@acme.com" });
    let answered = 0;
    let failed = 0;
    let loading = true;
    const load = (async () => {
      while (loading) {
        try {
          await client.callTool({ name: "repo.read", arguments: { repo: "acme/api" } });
          answered++;
        } catch {
          failed++;
        }
        await sleep(5);
      }
    })();
    const waitFor = async (what: string, cond: () => boolean, ms = 60_000) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
      }
    };

    await waitFor("both sinks to ship", () => sink("store").acked > 20 && sink("kafka").acked > 20);
    pg.stop();
    const answeredAtPgStop = answered;
    await waitFor("the store sink to notice", () => sink("store").failures > 0);
    await sleep(1500);
    expect(answered).toBeGreaterThan(answeredAtPgStop);
    expect(sink("store").lag).toBeGreaterThan(0);
    pg.start();
    await waitFor("the store to catch up", () => sink("store").failures === 0 && sink("store").lag < 20);

    await kafka.kill();
    const answeredAtKafkaStop = answered;
    const kafkaAcked = sink("kafka").acked;
    await sleep(3000);
    expect(answered).toBeGreaterThan(answeredAtKafkaStop);
    expect(sink("kafka").acked - kafkaAcked).toBeLessThan(answered - answeredAtKafkaStop);
    await kafka.start();

    loading = false;
    await load;
    await client.close();
    expect(failed).toBe(0);
    await audit.flush();
    await waitFor("every sink to hold every record", () => audit.shippers.every((s) => s.acked === audit.spool.syncedSeq), 120_000);
    const chain = audit.chainHead.chain;
    const total = audit.spool.syncedSeq;
    await gw.close();
    gw = undefined;

    const verifier = ed25519Verifier(readFileSync(join(auditDir, "signing-key.pub.pem"), "utf8"));
    const keys = new Map([[verifier.keyId, verifier]]);
    const store = await openStore({ kind: "postgres", url: pg.url });
    try {
      const v = new ChainVerifier(keys, {}, true);
      await verifyStore(store, v, chain);
      expect(v.report()).toMatchObject({ ok: true, chains: [{ chain, firstSeq: 1 }] });
      expect(v.report().chains[0]!.records).toBeGreaterThanOrEqual(total);
    } finally {
      await store.close();
    }
    const file = join(dir, "topic.ndjson");
    const exported = await exportKafkaTopic({ brokers: kafka.brokers, topic, file, timeoutMs: 30_000 });
    const warnings: string[] = [];
    const v = new ChainVerifier(keys, {}, true);
    verifyKafkaFile(file, v, warnings);
    expect(v.report()).toMatchObject({ ok: true, chains: [{ chain, firstSeq: 1 }] });
    // Exactly once: no record came back twice, and none is missing.
    expect(warnings).toEqual([]);
    expect(exported).toBe(v.report().chains[0]!.records);
    expect(exported).toBeGreaterThanOrEqual(total);
    expect(answered).toBeGreaterThan(100);
  });
});
