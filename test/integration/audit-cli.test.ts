// The audit commands as an operator runs them: `sentinel apply` records an admin change,
// `sentinel audit verify` checks the spool and exits non-zero naming the record an edit broke,
// and `sentinel migrate` brings the real Postgres (DATABASE_URL) up to date.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { listSegments } from "../../engine/audit/spool-files.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { tempDir } from "../support/audit-fixtures.js";
import { REPO_ROOT } from "../support/gateway-harness.js";
import { serviceEnv } from "../support/services-env.js";

const sentinel = (args: string[]) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", resolve(REPO_ROOT, "engine/cli/main.ts"), ...args], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
};

const config = (rule: string) => `version: 1
audit:
  sinks:
    store: { kind: none }
tenants:
  - id: acme
    policies:
      - { id: ${rule}, target: mcp.tool, pattern: "*", action: deny }
`;

describe("sentinel audit", () => {
  it("records each apply as an admin change, verifies the spool, and names the record an edit broke", () => {
    const dataDir = tempDir();
    const file = join(tempDir(), "sentinel.yaml");
    writeFileSync(file, config("deny-all"));
    expect(sentinel(["apply", "-f", file, "--data-dir", dataDir]).status).toBe(0);
    writeFileSync(file, config("deny-everything"));
    const second = sentinel(["apply", "-f", file, "--data-dir", dataDir]);
    expect(second.status, second.err).toBe(0);
    expect(second.out).toContain("admin change recorded");

    const records = listSegments(join(dataDir, "audit")).flatMap((s) => readFileSync(s.path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AuditRecord));
    const admin = records.filter((r) => r.kind === "admin");
    expect(admin).toHaveLength(2);
    expect(admin[1]!.admin).toMatchObject({ who: expect.stringMatching(/^cli:/), what: ["+rule acme/deny-everything", "-rule acme/deny-all"], before: admin[0]!.admin!.after });

    const ok = sentinel(["audit", "verify", "--data-dir", dataDir, "--require-signed"]);
    expect(ok.status, ok.out + ok.err).toBe(0);
    expect(ok.out).toContain("OK: chain and signatures verified");

    const seg = listSegments(join(dataDir, "audit"))[0]!.path;
    // Someone rewrites who made the second change (seq 3; seq 2 is the checkpoint after the first).
    const lines = readFileSync(seg, "utf8").split("\n");
    const at = lines.findIndex((l) => l.includes('"seq":3,'));
    lines[at] = lines[at]!.replace('"who":"cli:', '"who":"xli:');
    writeFileSync(seg, lines.join("\n"));
    const bad = sentinel(["audit", "verify", "--data-dir", dataDir]);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/FAILED at chain \S+ seq 3 .*altered/);
  });

  it("refuses a config whose alert route names no channel, naming the path", () => {
    const file = join(tempDir(), "bad.yaml");
    writeFileSync(file, `version: 1
audit:
  alerts:
    channels: [{ id: ops, type: slack, url: "http://127.0.0.1:1/x" }]
    routes: [{ channels: [ops, security] }]
tenants: []
`);
    const r = sentinel(["validate", "-f", file]);
    expect(r.status).toBe(2);
    expect(r.err).toContain('audit.alerts.routes[0].channels[1]: no alert channel "security"');
  });

  it("migrates the Postgres store and reports when it is current", () => {
    const url = serviceEnv("DATABASE_URL");
    const first = sentinel(["migrate", "--database-url", url]);
    expect(first.status, first.err).toBe(0);
    const again = sentinel(["migrate", "--database-url", url]);
    expect(again.out).toBe("the postgres store is up to date\n");
  });
});
