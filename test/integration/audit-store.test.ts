// The audit store against both implementations: embedded PGlite and the real Postgres from
// deploy/local/services.sh (DATABASE_URL; fails, never skips, without it). Same migrations, same
// sink, same queries, same verification.
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENESIS_HASH, seal, type ChainHead } from "../../engine/audit/chain.js";
import { queryAudit } from "../../engine/audit/query.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { DECISION_CHANNEL, storeSink } from "../../engine/audit/sinks/store-sink.js";
import { verifyStore } from "../../engine/audit/verify-sources.js";
import { ChainVerifier } from "../../engine/audit/verify.js";
import { migrate } from "../../engine/store/migrate.js";
import { openStore } from "../../engine/store/open-store.js";
import type { Store } from "../../engine/store/store.js";
import { callRecord, tempDir, testKeys } from "../support/audit-fixtures.js";
import { serviceEnv } from "../support/services-env.js";

const databaseUrl = () => serviceEnv("DATABASE_URL");

const { keys } = testKeys();

/** `n` records of one chain, for one run's own tenants (so runs never see each other's rows). */
function chainOf(n: number, tenants: [string, string]) {
  const chain = randomUUID();
  let head: ChainHead = { chain, seq: 0, hash: GENESIS_HASH };
  const out: Array<{ record: AuditRecord; line: string }> = [];
  for (let i = 1; i <= n; i++) {
    const s = seal({ ...callRecord(i), tenant: tenants[i % 2]! }, head);
    head = { chain, seq: s.record.seq, hash: s.record.hash };
    out.push(s);
  }
  return { chain, records: out };
}

const pgliteDir = tempDir("sentinel-pglite-");
afterAll(() => rmSync(pgliteDir, { recursive: true, force: true }));

describe.each([
  ["PGlite (embedded)", () => openStore({ kind: "embedded", dir: pgliteDir })],
  ["Postgres", () => openStore({ kind: "postgres", url: databaseUrl() })],
])("the audit store on %s", (_name, open) => {
  let store: Store;
  const tenants: [string, string] = [`t-${randomUUID().slice(0, 8)}`, `u-${randomUUID().slice(0, 8)}`];
  const { chain, records } = chainOf(120, tenants);

  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it("migrates once and reports nothing to do the second time", async () => {
    expect(await migrate(store)).toEqual([]);
    const rows = await store.query<{ name: string }>("SELECT name FROM schema_migrations ORDER BY name");
    expect(rows.map((r) => r.name)).toContain("001_audit_records.sql");
  });

  it("inserts batches once, even when a batch is shipped again after a crash", async () => {
    const sink = storeSink(store, { notify: store.kind === "postgres" });
    expect(await sink.write(records.slice(0, 80))).toBe(80);
    expect(await sink.write(records.slice(40))).toBe(80);
    const [row] = await store.query<{ n: string | number }>("SELECT count(*) AS n FROM audit_records WHERE chain_id = $1", [chain]);
    expect(Number(row!.n)).toBe(120);
  });

  it("pages a tenant's records newest first, filtered by user, tool and decision", async () => {
    const all: AuditRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await queryAudit(store, { tenant: tenants[0], limit: 7, cursor });
      all.push(...page.records);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(all.map((r) => r.seq)).toEqual(records.map((s) => s.record).filter((r) => r.tenant === tenants[0]).map((r) => r.seq).reverse());

    const denied = await queryAudit(store, { tenant: tenants[0], decision: "deny", name: "repo.delete", user: "user-0" });
    expect(denied.records.length).toBeGreaterThan(0);
    for (const r of denied.records) expect(r).toMatchObject({ decision: "deny", name: "repo.delete", user: "user-0", tenant: tenants[0] });

    const window = await queryAudit(store, { tenant: tenants[1], from: records[10]!.record.time, to: records[20]!.record.time });
    expect(window.records.map((r) => r.seq)).toEqual([19, 17, 15, 13, 11]);
  });

  it("verifies the stored chain", async () => {
    const v = new ChainVerifier(keys);
    await verifyStore(store, v, chain);
    expect(v.report()).toMatchObject({ ok: true, chains: [{ chain, records: 120 }] });
  });

  it.each<[string, (s: Store) => Promise<unknown>, number, RegExp]>([
    ["an edited body", (s) => s.query("UPDATE audit_records SET body = replace(body, '\"user-1\"', '\"mallory\"') WHERE chain_id = $1 AND seq = 31", [chain]), 31, /altered/],
    ["an edited column", (s) => s.query("UPDATE audit_records SET decision = 'allow' WHERE chain_id = $1 AND seq = 52", [chain]), 52, /column decision/],
    ["a deleted record", (s) => s.query("DELETE FROM audit_records WHERE chain_id = $1 AND seq = 77", [chain]), 78, /77\.\.77 are missing/],
  ])("names %s", async (_what, tamper, seq, reason) => {
    // Each case starts from the intact chain, so the first failure is this case's.
    await store.query("DELETE FROM audit_records WHERE chain_id = $1", [chain]);
    await storeSink(store, { notify: false }).write(records);
    await tamper(store);
    const v = new ChainVerifier(keys);
    await verifyStore(store, v, chain);
    expect(v.report().failure).toMatchObject({ chain, seq, reason: expect.stringMatching(reason) });
  });

  it("notifies the decision channel for newly stored calls (Postgres) or stays silent (PGlite)", async () => {
    const got: string[] = [];
    const stop = await store.listen(DECISION_CHANNEL, (p) => got.push(p));
    const fresh = chainOf(3, tenants);
    await storeSink(store, { notify: store.kind === "postgres" }).write(fresh.records);
    await new Promise((r) => setTimeout(r, 300));
    await stop();
    const mine = got.map((p) => JSON.parse(p) as { chain: string; seq: number }).filter((d) => d.chain === fresh.chain);
    expect(mine.map((d) => d.seq)).toEqual(store.kind === "postgres" ? [1, 2, 3] : []);
  });
});
