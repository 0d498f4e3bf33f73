/**
 * The leak test: a gateway child process with known secrets, driven through every path that
 * could show a secret (injected calls, upstream echoes over JSON and SSE, upstream errors, a
 * stdio server that prints its token to stderr, a scope refusal, a credential that cannot be
 * used, a rotation pushed from the CLI, `vault list`). Then every log line, the metrics scrape,
 * every agent-visible response, every CLI output and every file the gateway wrote (audit spool,
 * store) is searched for the secrets. Zero hits.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../engine/auth/api-keys.js";
import { startCredentialUpstream, type CredentialUpstream } from "../fixtures/credential-upstream.js";
import { allowAll, MCP_POST_HEADERS, initializeBody, raw, REPO_ROOT } from "../support/gateway-harness.js";
import { credentialStdio } from "../support/vault-seed.js";

const GITHUB_V1 = "ghp_" + "LeakTestV1x9Qm3Xc8Lp2Zr7Wd5Jh1N";
const GITHUB_V2 = "ghp_" + "LeakTestV2a4Tb9Ks6Hy3Gf2Vn8Rq0M";
const TOOL = "tool_" + "LeakTestStdio7Pz4Kw1Yb6Ue3";
const SECRETS = [GITHUB_V1, GITHUB_V2, TOOL];
/** Forms a careless component could write instead of the raw value. */
const FORMS = SECRETS.flatMap((s) => [s, Buffer.from(s).toString("base64"), encodeURIComponent(s), JSON.stringify(s).slice(1, -1)]);

async function cli(args: string[], input?: string): Promise<string> {
  const child = execFile(process.execPath, ["--import", "tsx", "engine/cli/main.ts", ...args], { cwd: REPO_ROOT });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  if (input !== undefined) child.stdin!.end(input);
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`sentinel ${args.join(" ")} exited ${code}: ${out}`);
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("no secret leaves the vault except on the wire", () => {
  let upstream: CredentialUpstream;
  let gateway: ChildProcess;
  let dataDir: string;
  let url: string;
  let key: string;
  const logs: string[] = [];
  const seen: Array<{ what: string; text: string }> = [];

  beforeAll(async () => {
    const accepted = new Set([`Bearer ${GITHUB_V1}`, `Bearer ${GITHUB_V2}`]);
    upstream = await startCredentialUpstream({ check: (v) => (v !== undefined && accepted.has(v) ? "ok" : undefined) });
    dataDir = mkdtempSync(join(tmpdir(), "sentinel-leak-"));
    const acceptedFile = join(dataDir, "accepted.json");
    writeFileSync(acceptedFile, JSON.stringify({ [TOOL]: "tool" }));
    const api = generateApiKey();
    key = api.key;
    const configFile = join(dataDir, "sentinel.yaml");
    writeFileSync(
      configFile,
      stringify({
        version: 1,
        vault: { drainTimeoutMs: 2000 },
        tenants: [
          {
            id: "acme",
            apiKeys: [{ id: "leak", hash: api.hash }],
            credentials: [
              { name: "github-prod", type: "bearer", connections: ["github"], scopes: ["repos:read"], rotation: { periodDays: 30 } },
              { name: "tool-token", type: "bearer", envVar: "API_TOKEN", connections: ["tools"] },
              { name: "never-stored", type: "bearer", connections: ["empty"] },
            ],
            connections: [
              { name: "github", transport: "http", url: upstream.url, credential: "github-prod", requiredScopes: [{ tool: "ddl.*", scope: "ddl:*" }] },
              credentialStdio(acceptedFile),
              { name: "empty", transport: "http", url: upstream.url, credential: "never-stored" },
            ],
            policies: allowAll,
          },
        ],
      }),
    );
    const common = ["--data-dir", dataDir, "--config", configFile, "--tenant", "acme"];
    seen.push({ what: "vault put github-prod", text: await cli(["vault", "put", ...common, "--credential", "github-prod", "--secret-file", "-"], GITHUB_V1 + "\n") });
    seen.push({ what: "vault put tool-token", text: await cli(["vault", "put", ...common, "--credential", "tool-token", "--secret-file", "-"], TOOL) });

    gateway = spawn(process.execPath, ["--import", "tsx", "engine/cli/main.ts", "start", "--config", configFile, "--data-dir", dataDir, "--port", "0"], {
      cwd: REPO_ROOT,
      env: { ...process.env, SENTINEL_LOG_UPSTREAM_STDERR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    createInterface({ input: gateway.stderr! }).on("line", (l) => logs.push(l));
    url = await new Promise<string>((resolveUrl, reject) => {
      createInterface({ input: gateway.stdout! }).on("line", (line) => {
        logs.push(line);
        const m = /listening on (http:\/\/\S+)/.exec(line);
        if (m !== null) resolveUrl(m[1]!);
      });
      gateway.once("exit", (code) => reject(new Error(`gateway exited ${code}: ${logs.join("\n")}`)));
    });
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.exitCode === null) {
      gateway.kill("SIGKILL");
    }
    await upstream?.close();
  });

  async function post(connection: string, body: string, sid?: string) {
    const headers: Record<string, string> = { ...MCP_POST_HEADERS, authorization: `Bearer ${key}` };
    if (sid !== undefined) headers["mcp-session-id"] = sid;
    const reply = await raw(`${url}/mcp/${connection}`, { method: "POST", headers, body });
    seen.push({ what: `POST /mcp/${connection} ${body.slice(0, 80)}`, text: `${reply.status} ${JSON.stringify(Object.fromEntries(["mcp-session-id", "content-type"].map((h) => [h, reply.headers.get(h)])))}\n${reply.text}` });
    return reply;
  }

  async function session(connection: string): Promise<string> {
    const init = await post(connection, initializeBody());
    const sid = init.headers.get("mcp-session-id")!;
    await post(connection, JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), sid);
    return sid;
  }

  const callBody = (name: string, id: number, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

  it("every path is exercised, and no log line, response, metric, CLI output or file holds a secret", async () => {
    const gh = await session("github");
    for (const [i, tool] of ["whoami", "echo-auth", "echo-auth-sse", "fail-echo", "ddl.drop_table"].entries()) {
      await post("github", callBody(tool, 10 + i), gh);
    }
    await post("github", JSON.stringify({ jsonrpc: "2.0", id: 20, method: "tools/list" }), gh);
    const tools = await session("tools");
    const whoami = await post("tools", callBody("whoami", 30), tools);
    expect(whoami.text).toContain('\\"label\\":\\"tool\\"');
    const echoed = await post("tools", callBody("echo-env", 31), tools);
    expect(echoed.text).toContain("•••");
    await post("empty", initializeBody());

    // A rotation pushed from the CLI while the gateway runs, then calls on the new version.
    seen.push({ what: "vault rotate", text: await cli(["vault", "rotate", "--data-dir", dataDir, "--config", join(dataDir, "sentinel.yaml"), "--tenant", "acme", "--credential", "github-prod", "--secret-file", "-"], GITHUB_V2) });
    const deadline = Date.now() + 15_000;
    while (!logs.some((l) => l.includes("rotated v1 -> v2")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(logs.some((l) => l.includes("acme/github-prod rotated v1 -> v2"))).toBe(true);
    await post("github", callBody("echo-auth", 40), gh);
    await post("github", callBody("echo-auth-sse", 41), gh);

    const metrics = await raw(`${url}/metrics`, {});
    seen.push({ what: "metrics", text: metrics.text });
    seen.push({ what: "readyz", text: (await raw(`${url}/readyz`, {})).text });
    seen.push({ what: "vault list", text: await cli(["vault", "list", "--data-dir", dataDir, "--config", join(dataDir, "sentinel.yaml")]) });

    gateway.kill("SIGTERM");
    await new Promise((r) => gateway.once("exit", r));
    seen.push({ what: "gateway log", text: logs.join("\n") });
    for (const file of filesUnder(dataDir)) {
      // The vault file holds sealed secrets (checked below); the test's own fixture file is the one place they are written in clear.
      if (file.endsWith("accepted.json") || file.endsWith("new-secret")) continue;
      seen.push({ what: `file ${file.slice(dataDir.length + 1)}`, text: readFileSync(file).toString("latin1") });
    }

    // The paths really ran: the masked forms are there, so the search below is not vacuous.
    const all = seen.map((s) => s.text).join("\n");
    expect(all).toContain(`ghp_•••${GITHUB_V1.slice(-4)}`);
    expect(all).toContain(`ghp_•••${GITHUB_V2.slice(-4)}`);
    expect(logs.filter((l) => l.includes("[upstream tools]"))).toContainEqual(expect.stringContaining(`API_TOKEN=tool•••${TOOL.slice(-4)}`));
    expect(all).toContain("SENTINEL_SCOPE_DENIED");
    expect(all).toContain("SENTINEL_CREDENTIAL_UNAVAILABLE");
    expect(upstream.refused).toBe(0);
    // The rotation is in the audit trail, as an admin record by "vault".
    expect(seen.some((s) => s.what.startsWith("file audit") && s.text.includes("acme/github-prod rotated v1 -> v2"))).toBe(true);

    const hits = seen.flatMap((s) => FORMS.filter((f) => s.text.includes(f)).map((f) => `${s.what} contains ${f.slice(0, 6)}…`));
    expect(hits).toEqual([]);
    console.log(`leak test: searched ${seen.length} outputs (${logs.length} log lines, ${all.length} bytes) for ${FORMS.length} forms of ${SECRETS.length} secrets: 0 hits`);
  });
});
