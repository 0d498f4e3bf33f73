import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../engine/audit/query.js";
import { openStore } from "../../engine/store/open-store.js";
import { allowAll, connectClient, recordingStdio, REPO_ROOT, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { serviceEnv } from "../support/services-env.js";

const scratch = mkdtempSync(join(tmpdir(), "sentinel-replay-"));

describe("policy replay over the audit store", () => {
  let gw: TestGateway | undefined;
  afterAll(() => gw?.close());

  it("replays a draft over the last recorded calls and reports what would change", { timeout: 120_000 }, async () => {
    const url = serviceEnv("DATABASE_URL");
    // A tenant of its own, so other tests' records in the shared database do not count.
    const tenant = `replay${Date.now().toString(36)}`;
    gw = await startTestGateway(
      { id: tenant, connections: [recordingStdio("rec", join(scratch, "rec.jsonl"))], policies: [{ id: "no-crash", target: "mcp.tool", pattern: "crash", action: "deny" }, ...allowAll] },
      {},
      {},
      { dir: join(scratch, "audit"), arguments: "full", sinks: { store: { kind: "postgres", url } } },
    );
    const client = await connectClient(gw, "rec", { user: "alice", metadata: { role: "developer", department: "sales" } });
    for (let i = 0; i < 6; i++) await client.callTool({ name: i % 2 === 0 ? "echo" : "sleep", arguments: { ms: 1, i } });
    await client.callTool({ name: "crash", arguments: {} }).catch(() => undefined);
    await client.close();

    // Records reach the store asynchronously; wait until all seven calls are there.
    const store = await openStore({ kind: "postgres", url });
    try {
      for (let tries = 0; ; tries++) {
        const page = await queryAudit(store, { tenant, kind: "call", name: undefined, limit: 100 });
        if (page.records.filter((r) => r.method === "tools/call").length >= 7) break;
        if (tries > 100) throw new Error("the calls' audit records did not reach the store");
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await store.close();
    }

    const draft = join(scratch, "draft.yaml");
    writeFileSync(
      draft,
      stringify({
        version: 1,
        tenants: [
          {
            id: tenant,
            policies: [
              { id: "sales-no-sleep", target: "mcp.tool", pattern: "sleep", conditions: [{ field: "metadata.department", op: "eq", value: "sales" }], action: "deny" },
              { id: "no-crash", target: "mcp.tool", pattern: "crash", action: "deny" },
              ...allowAll,
            ],
          },
        ],
      }),
    );
    const run = spawnSync(process.execPath, ["--import", "tsx", resolve(REPO_ROOT, "engine/cli/main.ts"), "policy", "replay", "-f", draft, "--from-audit", "--tenant", tenant, "--database-url", url, "--json"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout) as { total: number; changed: Array<{ call: { name: string }; after: { ruleId: string } }>; transitions: Record<string, number> };
    // Seven tools/call decisions were recorded (the initialize and list records are not policy decisions).
    expect(report.total).toBe(7);
    expect(report.transitions).toEqual({ "allow → deny": 3 });
    expect(report.changed.every((c) => c.call.name === "sleep" && c.after.ruleId === "sales-no-sleep")).toBe(true);
  });
});
