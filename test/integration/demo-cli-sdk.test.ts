import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Igris, SentinelError } from "../../sdk/ts/src/index.js";
import { REPO_ROOT } from "../support/gateway-harness.js";

const CLI = resolve(REPO_ROOT, "dist/engine/cli/main.js");
const dataDir = mkdtempSync(join(tmpdir(), "sentinel-demo-"));
const sentinel = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });

interface Started {
  child: ChildProcessWithoutNullStreams;
  url: string;
  key: string;
  adminUrl: string;
  adminToken: string;
  output: string[];
}

/** Runs `sentinel start` the way `npm start` does, on an ephemeral port. */
async function startCli(): Promise<Started> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [CLI, "start", "--data-dir", dataDir, "--port", "0", "--admin-port", "0"], { cwd: REPO_ROOT });
  const output: string[] = [];
  child.stderr.on("data", (d: Buffer) => output.push(d.toString()));
  return new Promise((resolveStarted, reject) => {
    let url: string | undefined;
    let key: string | undefined;
    let adminUrl: string | undefined;
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      output.push(line);
      url ??= /listening on (http:\/\/\S+)/.exec(line)?.[1];
      key ??= /^\s+(sk_sentinel_\S+)$/.exec(line)?.[1];
      adminUrl ??= /^\s+admin\s+(http:\/\/\S+)/.exec(line)?.[1];
      const adminToken = /^\s+(sa_sentinel_\S+)$/.exec(line)?.[1];
      if (url !== undefined && key !== undefined && adminUrl !== undefined && adminToken !== undefined) resolveStarted({ child, url, key, adminUrl, adminToken, output });
    });
    child.once("exit", (code) => reject(new Error(`sentinel start exited with ${code}: ${output.join("")}`)));
  });
}

describe("npm start: the demo gateway, the SDK and the example agent", () => {
  let gw: Started;
  beforeAll(async () => {
    gw = await startCli();
  });
  afterAll(async () => {
    // Wait for the exit: later tests read the data dir's store, which the process holds until then.
    const exited = once(gw.child, "exit");
    gw.child.kill("SIGTERM");
    await exited;
  });

  it("prints an API key and an owner admin token, and writes them to the data dir", async () => {
    expect(readFileSync(join(dataDir, "demo-api-key"), "utf8").trim()).toBe(gw.key);
    expect(readFileSync(join(dataDir, "demo-admin-token"), "utf8").trim()).toBe(gw.adminToken);
    // The config lives in the embedded store now, holding the key's hash, never the key.
    expect(existsSync(join(dataDir, "sentinel.yaml"))).toBe(false);
    expect(sentinel(["export", "--data-dir", dataDir]).stdout).not.toContain(gw.key);
    const res = await fetch(gw.adminUrl, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ query: "{ whoami { tokenId role } config { version author } }" }),
    });
    expect(await res.json()).toEqual({ data: { whoami: { tokenId: "demo-owner", role: "owner" }, config: { version: 1, author: "demo" } } });
  });

  it("the example agent sees ALLOW for repo.read and DENY for repo.delete", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "examples/agent.ts"], {
      cwd: REPO_ROOT,
      env: { ...process.env, SENTINEL_URL: gw.url, IGRIS_API_KEY: gw.key },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/✓ allow .*repo\.read/);
    expect(run.stdout).toMatch(/✗ deny .*deletes-admin-only.*repo\.delete/);
    expect(run.status).toBe(0);
  });

  it("the SDK gets the rule and reason of a refusal as a typed error", async () => {
    const igris = new Igris({ apiKey: gw.key, baseUrl: gw.url });
    const mcp = await igris.connect("github-prod", { user: "alice@acme.com", metadata: { role: "developer", tenant: "acme" } });
    const result = await mcp.call("repo.read", { repo: "acme/api" });
    expect(result.content[0]).toMatchObject({ type: "text" });
    const error = await mcp.call("repo.delete", { repo: "acme/api" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect(error).toMatchObject({ code: "SENTINEL_POLICY_DENIED", ruleId: "deletes-admin-only" });
    const tools = (await mcp.listTools()).map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["repo.read", "postgres.query", "jira.issue.search"]));
    expect(tools).not.toContain("repo.delete");
    expect(tools).not.toContain("stripe.charge");
    await mcp.close();
  });

  it("an admin may delete; an agent may charge but not read repositories", async () => {
    const igris = new Igris({ apiKey: gw.key, baseUrl: gw.url });
    const admin = await igris.connect("github-prod", { user: "root@acme.com", metadata: { role: "admin" } });
    expect((await admin.call("repo.delete", { repo: "acme/api" })).content.length).toBeGreaterThan(0);
    await admin.close();
    const agent = await igris.connect("github-prod", { user: "bot", metadata: { role: "agent" } });
    expect((await agent.call("stripe.charge", { amount: 42, currency: "usd", customer: "cus_1" })).content.length).toBeGreaterThan(0);
    await expect(agent.call("repo.read", { repo: "acme/api" })).rejects.toMatchObject({ ruleId: "catch-all-deny" });
    await agent.close();
  });

  it("the demo server's token is passed to the stdio child and never reaches the agent", async () => {
    const igris = new Igris({ apiKey: gw.key, baseUrl: gw.url });
    const mcp = await igris.connect("github-prod", { user: "alice@acme.com", metadata: { role: "developer" } });
    const result = await mcp.call("repo.read", { repo: "acme/api" });
    expect(JSON.stringify(result)).not.toContain("ghp_demo_not_a_real_token");
    await mcp.close();
  });

  it("sentinel bridge lets a stdio-only MCP host use the gateway", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "bridge", "--connection", "github-prod", "--url", gw.url, "--api-key", gw.key, "--user", "ide@acme.com", "--metadata", '{"role":"developer"}'],
      cwd: REPO_ROOT,
      stderr: "pipe",
    });
    const client = new Client({ name: "stdio-host", version: "1.0.0" });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("repo.read");
    expect(await client.callTool({ name: "repo.read", arguments: { repo: "acme/api" } })).toMatchObject({ content: [{ type: "text" }] });
    const denied = await client.callTool({ name: "repo.delete", arguments: { repo: "acme/api" } }).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: -32003 });
    await client.close();
  });

  it("sentinel export then apply of the export changes nothing", () => {
    const exported = sentinel(["export", "--data-dir", dataDir]);
    expect(exported.status, exported.stderr).toBe(0);
    const file = join(dataDir, "exported.yaml");
    writeFileSync(file, exported.stdout);
    const applied = sentinel(["apply", "-f", file, "--data-dir", dataDir]);
    expect(applied.status, applied.stderr).toBe(0);
    expect(sentinel(["export", "--data-dir", dataDir]).stdout).toBe(exported.stdout);
  });

  it("sentinel apply changes the running gateway's policy", async () => {
    const active = sentinel(["export", "--data-dir", dataDir]).stdout;
    const draft = join(dataDir, "draft.yaml");
    writeFileSync(draft, active.replace("pattern: repo.read\n", "pattern: repo.read-nothing\n"));
    const applied = sentinel(["apply", "-f", draft, "--data-dir", dataDir]);
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/-> config version \d+ through the admin API of process \d+ \(author api:demo-owner\)/);
    const igris = new Igris({ apiKey: gw.key, baseUrl: gw.url });
    const mcp = await igris.connect("github-prod", { user: "alice@acme.com", metadata: { role: "developer" } });
    const deadline = Date.now() + 2000;
    let error: unknown;
    do {
      error = await mcp.call("repo.read", { repo: "acme/api" }).then(() => undefined, (e: unknown) => e);
    } while (error === undefined && Date.now() < deadline);
    expect(error).toMatchObject({ ruleId: "catch-all-deny" });
    await mcp.close();
    writeFileSync(draft, active);
    spawnSync(process.execPath, [CLI, "apply", "-f", draft, "--data-dir", dataDir]);
  });
});

describe("the CLI refuses bad config with the file, the path and the reason", () => {
  it.each([
    ["an unknown property", "version: 1\ntenants:\n  - id: acme\n    colour: blue\n", /bad\.yaml: tenants\[0\]\.colour: unknown property/],
    ["a bad transport", "version: 1\ntenants:\n  - id: acme\n    connections:\n      - { name: x, transport: carrier-pigeon }\n", /tenants\[0\]\.connections\[0\]/],
    ["broken YAML", "version: 1\ntenants: [\n", /bad\.yaml: line \d+, column \d+/],
    ["an unset variable", "version: 1\ntenants:\n  - id: ${NOT_SET_ANYWHERE}\n", /tenants\[0\]\.id: environment variable \$\{NOT_SET_ANYWHERE\} is not set/],
  ])("%s", (_what, text, message) => {
    const file = join(dataDir, "bad.yaml");
    writeFileSync(file, text);
    for (const command of [["validate", "-f", file], ["apply", "-f", file, "--data-dir", join(dataDir, "other")]]) {
      const run = spawnSync(process.execPath, [CLI, ...command], { encoding: "utf8" });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });

  it("the demo config validates", () => {
    const file = join(dataDir, "demo-export.yaml");
    writeFileSync(file, sentinel(["export", "--data-dir", dataDir]).stdout);
    const run = spawnSync(process.execPath, [CLI, "validate", "-f", file], { encoding: "utf8" });
    expect(run.stdout).toMatch(/valid \(1 tenants, \d+ rules\)/);
  });
});

describe("sentinel policy test and replay", () => {
  const brief = resolve(REPO_ROOT, "examples/brief-rules/sentinel.yaml");
  const policy = (...args: string[]) => spawnSync(process.execPath, [CLI, "policy", ...args], { encoding: "utf8" });

  it("explains a refused call with its rule and the trace, exiting 1", () => {
    const run = policy("test", "-f", brief, "--tenant", "acme", "--tool", "delete_repo", "--meta", "role=developer");
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^DENY {2}mcp\.tool "delete_repo" {2}rule no-deletes-unless-admin/);
    expect(run.stdout).toMatch(/repo-read-developers\s+pattern did not match/);
    expect(run.stdout).toMatch(/no-deletes-unless-admin\s+matched\s+role nin \["admin"\]/);
  });

  it("explains an allowed call as JSON, exiting 0", () => {
    const run = policy("test", "-f", brief, "--tenant", "acme", "--name", "stripe.charge.create", "--args", '{"amount":90}', "--json");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ decision: { action: "alert", ruleId: "big-charges-alert", permitted: true } });
  });

  it("replays recorded calls against a draft and lists what would change", () => {
    const calls = join(dataDir, "calls.jsonl");
    writeFileSync(
      calls,
      [
        { tenant: "acme", name: "repo.read", role: "developer", decision: "allow", ruleId: "repo-read-developers", traceId: "t1" },
        { tenant: "acme", name: "repo.write", metadata: { department: "sales" }, decision: "allow", ruleId: "old-rule", traceId: "t2" },
      ]
        .map((c) => JSON.stringify(c))
        .join("\n"),
    );
    const run = policy("replay", "-f", brief, "--calls", calls);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("2 calls replayed");
    expect(run.stdout).toContain("1 would change");
    expect(run.stdout).toMatch(/t2 {2}mcp\.tool "repo\.write".*allow \(old-rule\) → deny \(catch-all-deny\)/);
  });

  it("refuses bad usage with exit 2", () => {
    expect(policy("test", "-f", brief).status).toBe(2);
    expect(policy("replay", "-f", brief, "--calls", "/nonexistent").status).not.toBe(0);
  });
});
