// One contract, both store implementations: PGlite (embedded, in a temp dir) and Postgres (a
// fresh database on the real server from deploy/local/services.sh; DATABASE_URL unset fails).
// What the config store, admin tokens and audit queries rely on must hold on both.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminTokens } from "../../admin/admin-tokens.js";
import { ConfigConflictError, ConfigVersions } from "../../engine/config-store/config-versions.js";
import { ConfigFollower } from "../../engine/config-store/config-follower.js";
import { migrate } from "../../engine/store/migrate.js";
import { openRawStore, openStore } from "../../engine/store/open-store.js";
import { embeddedStoreHolder, StoreLockedError } from "../../engine/store/shared-embedded.js";
import { freshDatabase, openTestStore, STORE_KINDS, type OpenedStore } from "../support/admin-harness.js";

const doc = (rule: string) => ({ version: 1, tenants: [{ id: "acme", policies: [{ id: rule, target: "mcp.tool", pattern: "*", action: "deny" }] }] });

describe.each(STORE_KINDS)("the %s store", (kind) => {
  let s: OpenedStore;
  beforeAll(async () => {
    s = await openTestStore(kind);
  });
  afterAll(async () => {
    await s?.close();
  });

  it("applies the migrations once: a second run applies nothing", async () => {
    expect(await migrate(s.store)).toEqual([]);
    const tables = await s.store.query<{ name: string }>("SELECT name FROM schema_migrations ORDER BY name");
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["001_audit_records.sql", "002_config_store.sql"]));
  });

  it("binds parameters, and a transaction that throws leaves nothing behind", async () => {
    await s.store.exec("CREATE TABLE contract_t (k text PRIMARY KEY, v int)");
    await s.store.query("INSERT INTO contract_t VALUES ($1, $2)", ["a'; DROP TABLE contract_t; --", 1]);
    await expect(
      s.store.transaction(async (tx) => {
        await tx.query("INSERT INTO contract_t VALUES ($1, $2)", ["b", 2]);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    const rows = await s.store.query<{ k: string }>("SELECT k FROM contract_t ORDER BY k");
    expect(rows.map((r) => r.k)).toEqual(["a'; DROP TABLE contract_t; --"]);
  });

  it("delivers NOTIFY to a listener", async () => {
    const got: string[] = [];
    const stop = await s.store.listen("contract_channel", (p) => got.push(p));
    await s.store.query("SELECT pg_notify('contract_channel', $1)", ["hello"]);
    const deadline = Date.now() + 2000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await stop();
    expect(got).toEqual(["hello"]);
  });

  it("versions the config: head, history with changes, documents as written", async () => {
    const versions = new ConfigVersions(s.store);
    expect(await versions.headVersion()).toBe(0);
    expect(await versions.current()).toBeUndefined();
    const first = await versions.commit({ document: doc("a"), author: "t1", comment: "first" });
    const second = await versions.commit({ document: doc("b"), author: "t2" });
    expect([first.version.version, second.version.version]).toEqual([1, 2]);
    expect(second.previous).toEqual(doc("a"));
    const current = await versions.current();
    expect(current).toMatchObject({ version: 2, author: "t2", changes: ["+rule acme/b", "-rule acme/a"], document: doc("b") });
    // Key order survives the store (the document is not jsonb), so an export reads like the input.
    expect(Object.keys((await versions.get(1))!.document)).toEqual(["version", "tenants"]);
    expect((await versions.list()).map((v) => [v.version, v.comment ?? null])).toEqual([[2, null], [1, "first"]]);
    expect((await versions.list({ before: 2 })).map((v) => v.version)).toEqual([1]);
  });

  it("adds no version for an unchanged document", async () => {
    const versions = new ConfigVersions(s.store);
    const again = await versions.commit({ document: doc("b"), author: "t3" });
    expect(again).toMatchObject({ unchanged: true, version: { version: 2 } });
    expect(await versions.headVersion()).toBe(2);
  });

  it("refuses a commit based on an old head (optimistic concurrency)", async () => {
    const versions = new ConfigVersions(s.store);
    const error = await versions.commit({ document: doc("c"), author: "t", expectedVersion: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigConflictError);
    expect(error).toMatchObject({ expected: 1, actual: 2 });
  });

  it("serialises concurrent writers: each commit gets its own version", async () => {
    const versions = new ConfigVersions(s.store);
    const head = await versions.headVersion();
    const results = await Promise.allSettled(["x", "y", "z"].map((r) => versions.commit({ document: doc(r), author: r, expectedVersion: head })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const reasons = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as unknown);
    expect(reasons.every((e) => e instanceof ConfigConflictError)).toBe(true);
    expect(await versions.headVersion()).toBe(head + 1);
  });

  it("tells a follower about a commit at once", async () => {
    const versions = new ConfigVersions(s.store);
    const seen: number[] = [];
    const follower = new ConfigFollower(versions, { from: await versions.headVersion(), apply: (v) => void seen.push(v.version), log: () => undefined, pollMs: 60_000 });
    await follower.start();
    const committed = await versions.commit({ document: doc("followed"), author: "t" });
    const deadline = Date.now() + 2000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await follower.close();
    expect(seen).toEqual([committed.version.version]);
  });

  it("stores admin tokens as hashes, verifies them, and stops a revoked one", async () => {
    const tokens = new AdminTokens(s.store);
    const made = await tokens.create({ id: "contract-auditor", role: "auditor", tenant: "acme", createdBy: "test" });
    const raw = await s.store.query<{ hash: string }>("SELECT hash FROM admin_tokens WHERE id = $1", ["contract-auditor"]);
    expect(raw[0]!.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(raw[0]!.hash).not.toContain(made.token);
    expect(await tokens.verify(made.token)).toMatchObject({ id: "contract-auditor", role: "auditor", tenant: "acme" });
    expect(await tokens.verify(made.token + "x")).toBeUndefined();
    await tokens.revoke("contract-auditor");
    expect(await tokens.verify(made.token)).toBeUndefined();
  });
});

describe("migrating one empty Postgres database from several processes at once", () => {
  it("every migrator succeeds and each migration is applied exactly once", async () => {
    const db = await freshDatabase();
    try {
      // Six connections, as six gateways starting together would open; each races the others
      // from its first statement (the CREATE of schema_migrations included).
      const stores = await Promise.all(Array.from({ length: 6 }, () => openRawStore({ kind: "postgres", url: db.url })));
      try {
        const applied = await Promise.all(stores.map((st) => migrate(st)));
        const all = applied.flat().sort();
        expect(all).toEqual([...new Set(all)]);
        const rows = await stores[0]!.query<{ name: string }>("SELECT name FROM schema_migrations ORDER BY name");
        expect(rows.map((r) => r.name)).toEqual(all);
      } finally {
        await Promise.all(stores.map((st) => st.close()));
      }
    } finally {
      await db.drop();
    }
  });
});

describe("the embedded store is one instance per directory", () => {
  it("shares it within a process and locks it against other processes", async () => {
    const s = await openTestStore("pglite");
    try {
      if (s.spec.kind !== "embedded") throw new Error("unreachable");
      const second = await openStore(s.spec);
      await second.query("CREATE TABLE shared_t (x int)");
      await second.close();
      // The first handle still works after the second closed, and sees the second's table.
      expect(await s.store.query("SELECT count(*)::int AS n FROM shared_t")).toEqual([{ n: 0 }]);
      // This process holds it; another process would be refused (StoreLockedError names the pid).
      expect(embeddedStoreHolder(s.spec.dir)).toBeUndefined();
      expect(new StoreLockedError(s.spec.dir, 42).message).toContain("process 42");
    } finally {
      await s.close();
    }
  });
});
