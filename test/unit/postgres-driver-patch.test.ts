/**
 * The postgres driver repair (deploy/patches/postgres-closed-socket.mjs): a Postgres outage must
 * not crash the gateway through an uncatchable TypeError in the driver's deferred write.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SCRIPT = "deploy/patches/postgres-closed-socket.mjs";
const MARK = "sentinel: closed-socket guard";

/** The three places the repair edits, as the unrepaired driver has them. */
const UNREPAIRED = [
  "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n    return x\n  }\n",
  "  function terminate() {\n    clearImmediate(nextWriteTimer)\n    if (socket) {\n    }\n  }\n",
  "  async function closed(hadError) {\n    clearImmediate(nextWriteTimer)\n    socket.removeListener('data', data)\n  }\n",
].join("\n");

function driverCopy(text: string): string {
  const root = mkdtempSync(join(tmpdir(), "pg-patch-"));
  for (const build of ["src", "cjs/src"]) {
    mkdirSync(join(root, "node_modules", "postgres", build), { recursive: true });
    writeFileSync(join(root, "node_modules", "postgres", build, "connection.js"), text);
  }
  return root;
}
const read = (root: string, build: string) => readFileSync(join(root, "node_modules", "postgres", build, "connection.js"), "utf8");

describe("the postgres driver repair", () => {
  it("is applied to both module builds of the installed driver", () => {
    for (const build of ["src", "cjs/src"]) {
      const text = readFileSync(join("node_modules", "postgres", build, "connection.js"), "utf8");
      expect(text).toContain(MARK);
      expect(text).toMatch(/if \(socket === null\) \{[^}]*CONNECTION_CLOSED[^}]*return false/);
    }
  });

  it("guards the deferred write and makes teardown forget the cancelled write", () => {
    const root = driverCopy(UNREPAIRED);
    execFileSync(process.execPath, [SCRIPT, root]);
    for (const build of ["src", "cjs/src"]) {
      const text = read(root, build);
      expect(text.indexOf("if (socket === null)")).toBeLessThan(text.indexOf("socket.write(chunk, fn)"));
      expect(text.match(/clearImmediate\(nextWriteTimer\)\n {4}chunk = nextWriteTimer = null/g)).toHaveLength(2);
    }
  });

  it("is idempotent", () => {
    const root = driverCopy(UNREPAIRED);
    execFileSync(process.execPath, [SCRIPT, root]);
    const once = read(root, "src");
    execFileSync(process.execPath, [SCRIPT, root]);
    expect(read(root, "src")).toBe(once);
  });

  it("fails loudly, naming the edit, when the driver's code no longer has the expected shape", () => {
    const root = driverCopy(UNREPAIRED.replace("const x = socket.write(chunk, fn)", "const written = socket.write(chunk, fn)"));
    const run = spawnSync(process.execPath, [SCRIPT, root], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cannot apply "nextWrite without a socket"');
    expect(read(root, "src")).not.toContain(MARK);
  });
});
