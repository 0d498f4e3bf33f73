/**
 * The official MCP conformance suite (server mode, every active scenario) against the
 * upstream fixture, with nothing in between. Needs test/conformance/setup.sh to have run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startConformanceServer, type ConformanceServerHandle } from "../fixtures/conformance-server.js";
import { assertToolsInstalled, formatSummary, REPO_ROOT, runConformance } from "../conformance/run.js";
import { runResumeCheck } from "../conformance/resume-check.js";
import { ACTIVE_SERVER_SCENARIOS } from "../conformance/scenarios.js";

describe("MCP conformance suite against the fixture server (direct)", () => {
  let fixture: ConformanceServerHandle | undefined;

  beforeAll(async () => {
    fixture = await startConformanceServer(0);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it("passes every active server scenario", async () => {
    assertToolsInstalled(); // fails with "run test/conformance/setup.sh" when .tools is missing
    const run = await runConformance({ url: fixture!.url, suite: "active", timeoutMs: 240_000 });
    const summary = formatSummary(run);
    if (!run.ok) {
      const bad = [...run.failing, ...run.missing.map((m) => `${m} (missing)`)];
      const why = bad.length > 0 ? bad.join(", ") : `suite exit code ${run.exitCode}${run.timedOut ? " (timed out)" : ""}`;
      throw new Error(`conformance failures: ${why}\n${summary}\n--- suite output (tail) ---\n${run.stdout.slice(-8000)}${run.stderr.slice(-2000)}`);
    }
    expect(run.scenarios.map((s) => s.scenario).sort()).toEqual([...ACTIVE_SERVER_SCENARIOS].sort());
    expect(run.exitCode).toBe(0);
  }, 300_000);

  it("resumes a POST SSE stream closed mid-call via GET + Last-Event-ID", async () => {
    const check = await runResumeCheck(fixture!.url);
    expect(check.resultText).toContain("Reconnection test completed successfully");
    expect(check.resumedWith.length).toBeGreaterThan(0);
  }, 60_000);
});

describe("conformance fixture as a standalone process", () => {
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  });

  it("prints its URL as one JSON line and serves MCP there", async () => {
    child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/conformance-server.ts", "--port", "0"], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const firstLine = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child!.stdout! });
      const timer = setTimeout(() => reject(new Error(`no URL line within 30 s; stderr: ${stderr}`)), 30_000);
      rl.once("line", (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      child!.once("exit", (code) => reject(new Error(`fixture exited with ${code}; stderr: ${stderr}`)));
    });
    const { url } = JSON.parse(firstLine) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "probe", version: "1.0.0" } },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("mcp-session-id")).toBeTruthy();
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(await res.text()).toContain('"serverInfo"');
  }, 60_000);
});
