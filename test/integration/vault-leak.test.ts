/**
 * The leak test: `sentinel start` (gateway and admin API in one process, embedded store) with
 * known secrets, driven through every path that could show a secret. On the MCP side: injected
 * calls, upstream echoes over JSON and SSE, upstream errors, stdio servers that print their
 * token to stderr (a bearer in API_TOKEN, an OAuth access token in ACCESS_TOKEN), a scope
 * refusal, a credential that cannot be used. On the admin side: every query that reads
 * credentials, connections, config, audit records (vault events and rotations included),
 * sessions, users, usage; the decision, alert and session subscriptions; the mutations that
 * create and rotate credentials; and mutations whose secret is refused, in every way GraphQL
 * can refuse an input. Rotations arrive through the admin API and through the CLI.
 *
 * Then every log line, the metrics scrape, every agent-visible response, every admin response
 * and subscription event, every CLI output and every file the gateway wrote (vault file, audit
 * spool, store) is searched for each secret: raw, base64, URL-encoded, JSON-escaped, and any
 * five characters of it in a row (a mask shows at most four). Zero hits.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../engine/auth/api-keys.js";
import { startCredentialUpstream, type CredentialUpstream } from "../fixtures/credential-upstream.js";
import { startOAuthServer, type OAuthTokenServer } from "../fixtures/oauth-token-server.js";
import { gql, subscribe, type Subscription } from "../support/admin-harness.js";
import { allowAll, MCP_POST_HEADERS, initializeBody, raw, REPO_ROOT } from "../support/gateway-harness.js";
import { introspect, selectAll, selectField, type SchemaTypes } from "../support/graphql-selection.js";
import { findLeaks, type KnownSecret, type Output } from "../support/leak-search.js";
import { credentialStdio } from "../support/vault-seed.js";

// Every secret has one of ~ ! ^ at least every third character, so none of its five-character
// pieces can occur by chance in the base64 and hex the gateway writes (ciphertext, hashes).
const GITHUB_V1 = "ghp_" + "Qm7~Xc8!Lp2^Zr7~Wd5!Jh1^";
const GITHUB_V2 = "ghp_" + "Ta4~Kb9!Hs6^Gy3~Vf2!Nq8^";
const TOOL_V1 = "tool_" + "Pz4~Kw1!Yb6^Ue3~Rm8!";
const TOOL_V2 = "tool_" + "Hd3~Lq7!Xa2^Vn5~Ct9!";
const CLIENT_SECRET = "cs_" + "Fg6~Jk2!Mn4^Qr8~St1!Uv3^";
const SPARE = "sk_" + "Wx5~Yz7!Ab9^Cd2~Ef4!Gh6^";
/** Offered to the admin API in ways it must refuse; never stored anywhere. */
const REJECTED = "ghp_" + "Ij8~Kl3!Mn5^Op7~Qr2!St4^";
const REJECTED_ENV = "Uv1~Wx6!Yz3^Ab8~Cd5!";
const INTROSPECT_SECRET = "introspect-" + "Rk2~Pw7!";

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

const until = async (what: string, test: () => boolean | Promise<boolean>, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("no secret leaves the vault except on the wire", () => {
  let upstream: CredentialUpstream;
  let oauth: OAuthTokenServer;
  let gateway: ChildProcess;
  let dataDir: string;
  let url: string;
  let adminUrl: string;
  let adminToken: string;
  let key: string;
  const logs: string[] = [];
  const seen: Output[] = [];
  const subscriptions: Array<{ what: string; sub: Subscription<unknown>; events: string[] }> = [];

  beforeAll(async () => {
    const accepted = new Set([`Bearer ${GITHUB_V1}`, `Bearer ${GITHUB_V2}`, `Bearer ${SPARE}`]);
    upstream = await startCredentialUpstream({ check: (v) => (v !== undefined && accepted.has(v) ? "ok" : undefined) });
    oauth = await startOAuthServer({ clientId: "sentinel-leak", clientSecrets: () => [CLIENT_SECRET], lifetimeS: 3600, introspectSecret: INTROSPECT_SECRET });
    dataDir = mkdtempSync(join(tmpdir(), "sentinel-leak-"));
    // The test's own clear-text files live outside the data dir, which is searched whole.
    const outside = mkdtempSync(join(tmpdir(), "sentinel-leak-fixtures-"));
    const acceptedFile = join(outside, "accepted.json");
    writeFileSync(acceptedFile, JSON.stringify({ [TOOL_V1]: "tool", [TOOL_V2]: "tool-v2" }));
    const api = generateApiKey();
    key = api.key;
    const oauthTools = {
      ...credentialStdio(acceptedFile),
      name: "oauth-tools",
      credential: "tool-oauth",
      args: ["--import", "tsx", resolve(REPO_ROOT, "test/fixtures/credential-stdio-server.ts"), "--env", "ACCESS_TOKEN"],
      env: { INTROSPECT_URL: oauth.introspectUrl, INTROSPECT_SECRET },
    };
    // Imported into the embedded store on the first `sentinel start`.
    const configFile = join(dataDir, "sentinel.yaml");
    writeFileSync(
      configFile,
      stringify({
        version: 1,
        vault: { drainTimeoutMs: 2000 },
        audit: { checkpoint: { intervalMs: 100 } },
        tenants: [
          {
            id: "acme",
            apiKeys: [{ id: "leak", hash: api.hash }],
            credentials: [
              { name: "github-prod", type: "bearer", connections: ["github"], scopes: ["repos:read"], rotation: { periodDays: 30 } },
              { name: "tool-token", type: "bearer", envVar: "API_TOKEN", connections: ["tools"] },
              { name: "tool-oauth", type: "oauth-client-credentials", envVar: "ACCESS_TOKEN", connections: ["oauth-tools"], oauth: { tokenUrl: oauth.tokenUrl, clientId: "sentinel-leak" } },
              { name: "never-stored", type: "bearer", connections: ["empty"] },
            ],
            connections: [
              { name: "github", transport: "http", url: upstream.url, credential: "github-prod", requiredScopes: [{ tool: "ddl.*", scope: "ddl:*" }, { resource: "db://prod/*", scope: "db:prod" }] },
              credentialStdio(acceptedFile),
              oauthTools,
              { name: "empty", transport: "http", url: upstream.url, credential: "never-stored" },
            ],
            policies: allowAll,
            limits: [{ id: "calls-per-user", scope: "user", metric: "requests", window: "minute", max: 10_000 }],
          },
        ],
      }),
    );
    const common = ["--data-dir", dataDir, "--config", configFile, "--tenant", "acme"];
    seen.push({ what: "vault put github-prod", text: await cli(["vault", "put", ...common, "--credential", "github-prod", "--secret-file", "-"], GITHUB_V1 + "\n") });
    seen.push({ what: "vault put tool-token", text: await cli(["vault", "put", ...common, "--credential", "tool-token", "--secret-file", "-"], TOOL_V1) });
    seen.push({ what: "vault put tool-oauth", text: await cli(["vault", "put", ...common, "--credential", "tool-oauth", "--secret-file", "-"], CLIENT_SECRET) });

    gateway = spawn(process.execPath, ["--import", "tsx", "engine/cli/main.ts", "start", "--data-dir", dataDir, "--port", "0", "--admin-port", "0"], {
      cwd: REPO_ROOT,
      env: { ...process.env, SENTINEL_LOG_UPSTREAM_STDERR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    createInterface({ input: gateway.stderr! }).on("line", (l) => logs.push(l));
    [url, adminUrl] = await new Promise<[string, string]>((resolveUrls, reject) => {
      let gw: string | undefined;
      createInterface({ input: gateway.stdout! }).on("line", (line) => {
        logs.push(line);
        gw ??= /listening on (http:\/\/\S+)/.exec(line)?.[1];
        const admin = /^\s+admin\s+(http:\/\/\S+)/.exec(line)?.[1];
        if (gw !== undefined && admin !== undefined) resolveUrls([gw, admin]);
      });
      gateway.once("exit", (code) => reject(new Error(`gateway exited ${code}: ${logs.join("\n")}`)));
    });
    adminToken = readFileSync(join(dataDir, "demo-admin-token"), "utf8").trim();
  });

  afterAll(async () => {
    for (const s of subscriptions) s.sub.close();
    if (gateway !== undefined && gateway.exitCode === null) gateway.kill("SIGKILL");
    await upstream?.close();
    await oauth?.close();
  });

  async function post(connection: string, body: string, sid?: string) {
    const headers: Record<string, string> = { ...MCP_POST_HEADERS, authorization: `Bearer ${key}`, "x-sentinel-user": "alice@acme.com" };
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

  /** An admin operation; its whole response (data and errors) is an output to search. */
  async function admin(what: string, query: string, variables: Record<string, unknown> = {}) {
    const reply = await gql<Record<string, unknown>>(adminUrl, adminToken, query, variables);
    seen.push({ what: `admin ${what}`, text: JSON.stringify(reply) });
    return reply;
  }

  /** Keeps every event of a subscription as an output. */
  async function watch(what: string, query: string) {
    const sub = await subscribe<unknown>(adminUrl, adminToken, query);
    const entry = { what, sub, events: [] as string[] };
    subscriptions.push(entry);
    void (async () => {
      for (;;) {
        try {
          entry.events.push(JSON.stringify(await sub.next(120_000)));
        } catch {
          return;
        }
      }
    })();
  }

  it("every path is exercised, and no log line, response, admin answer, metric, CLI output or file holds a secret", async () => {
    const types: SchemaTypes = await introspect(adminUrl, adminToken);
    await watch("decisions", `subscription { decisions { ${selectField(types, "Subscription", "decisions", 3)} } }`);
    await watch("alerts", `subscription { alerts(minSeverity: info) { ${selectField(types, "Subscription", "alerts", 3)} } }`);
    await watch("sessionChanges", `subscription { sessionChanges { ${selectField(types, "Subscription", "sessionChanges", 3)} } }`);

    // The MCP side, before any rotation.
    const gh = await session("github");
    for (const [i, tool] of ["whoami", "echo-auth", "echo-auth-sse", "fail-echo", "ddl.drop_table"].entries()) await post("github", callBody(tool, 10 + i), gh);
    await post("github", JSON.stringify({ jsonrpc: "2.0", id: 20, method: "tools/list" }), gh);
    await post("github", JSON.stringify({ jsonrpc: "2.0", id: 21, method: "resources/read", params: { uri: "db://prod/users" } }), gh);
    const tools = await session("tools");
    expect((await post("tools", callBody("whoami", 30), tools)).text).toContain('\\"label\\":\\"tool\\"');
    expect((await post("tools", callBody("echo-env", 31), tools)).text).toContain("•••");
    const oauthTools = await session("oauth-tools");
    expect((await post("oauth-tools", callBody("whoami", 32), oauthTools)).text).toContain('\\"label\\":\\"oauth\\"');
    expect((await post("oauth-tools", callBody("echo-env", 33), oauthTools)).text).toContain("my ACCESS_TOKEN is ");
    await post("empty", initializeBody());

    // Rotations: one through the admin API (Vault.put), one with the CLI while the store is
    // held by the gateway (the CLI reads the live config through the admin API).
    const credential = selectField(types, "Mutation", "rotateCredential", 2);
    const rotated = await admin("rotateCredential github-prod", `mutation($s: String!) { rotateCredential(tenant: "acme", name: "github-prod", secret: $s) { ${credential} } }`, { s: GITHUB_V2 });
    expect(rotated.errors).toBeUndefined();
    seen.push({ what: "vault rotate tool-token", text: await cli(["vault", "rotate", "--data-dir", dataDir, "--tenant", "acme", "--credential", "tool-token", "--secret-file", "-"], TOOL_V2) });
    await until("both rotations", () => logs.some((l) => l.includes("acme/github-prod rotated v1 -> v2")) && logs.some((l) => l.includes("acme/tool-token rotated v1 -> v2")));
    await post("github", callBody("echo-auth", 40), gh);
    await post("github", callBody("echo-auth-sse", 41), gh);
    expect((await post("tools", callBody("whoami", 42), tools)).text).toContain('\\"label\\":\\"tool-v2\\"');

    // A credential created and given its first secret through the API.
    const payload = selectField(types, "Mutation", "createCredential", 3);
    expect((await admin("createCredential", `mutation { createCredential(tenant: "acme", input: { name: "spare", type: BEARER, connections: ["empty"], scopes: ["x:y"] }) { ${payload} } }`)).errors).toBeUndefined();
    expect((await admin("rotateCredential spare", `mutation($s: String!) { rotateCredential(tenant: "acme", name: "spare", secret: $s) { ${credential} } }`, { s: SPARE })).errors).toBeUndefined();
    expect((await admin("createCredential env", `mutation { createCredential(tenant: "acme", input: { name: "aws", type: ENV, connections: ["tools"] }) { ${payload} } }`)).errors).toBeUndefined();

    // Secrets the API must refuse, in every way GraphQL can refuse an input: none may be quoted back.
    const refusals = [
      await admin("a secret with a line break", `mutation($s: String!) { rotateCredential(tenant: "acme", name: "spare", secret: $s) { version } }`, { s: `${REJECTED}\r\nX-Injected: 1` }),
      await admin("an env secret whose line does not start with a name", `mutation($s: String!) { rotateCredential(tenant: "acme", name: "aws", secret: $s) { version } }`, { s: `9${REJECTED_ENV}=x` }),
      await admin("a secret for an unknown credential", `mutation($s: String!) { rotateCredential(tenant: "acme", name: "nope", secret: $s) { version } }`, { s: REJECTED }),
      await admin("a secret variable of the wrong type", `mutation($s: String!) { rotateCredential(tenant: "acme", name: "spare", secret: $s) { version } }`, { s: [REJECTED] }),
      await admin("a secret literal of the wrong type", `mutation { rotateCredential(tenant: "acme", name: "spare", secret: { value: "${REJECTED}" }) { version } }`),
      await admin("a secret in a document that does not parse", `mutation { rotateCredential(tenant: "acme", name: "spare", secret: "${REJECTED}" "${REJECTED}") { version } }`),
      await admin("a secret given to an argument that does not exist", `mutation { rotateCredential(tenant: "acme", name: "spare", secret: "x", secrets: "${REJECTED}") { version } }`),
    ];
    for (const r of refusals) expect(r.errors?.length ?? 0).toBeGreaterThan(0);
    expect(refusals[0]!.errors![0]!.extensions?.code).toBe("SENTINEL_ADMIN_VALIDATION");

    // Every read of the admin API that can show credentials, config, audit, sessions, usage.
    await until("the calls after the rotations in the audit store", async () => {
      const r = await gql<{ auditRecords: { records: Array<{ name: string | null }> } }>(adminUrl, adminToken, `{ auditRecords(tenant: "acme", first: 1000) { records { name } } }`);
      return (r.data?.auditRecords.records ?? []).filter((rec) => rec.name === "echo-auth-sse").length >= 2;
    });
    const reads: Array<[string, string]> = [
      ["tenants", `{ tenants { ${selectField(types, "Query", "tenants", 3)} } }`],
      ["tenant", `{ tenant(id: "acme") { ${selectField(types, "Query", "tenant", 3)} } }`],
      ["config", `{ config { ${selectField(types, "Query", "config", 2)} } configVersions { ${selectField(types, "Query", "configVersions", 2)} } configVersion(version: 1) { ${selectField(types, "Query", "configVersion", 2)} } }`],
      ["auditRecords", `{ auditRecords(tenant: "acme", first: 1000) { ${selectField(types, "Query", "auditRecords", 3)} } }`],
      ["sessions", `{ sessions { ${selectField(types, "Query", "sessions", 3)} } users(tenant: "acme") { ${selectField(types, "Query", "users", 2)} } roles(tenant: "acme") { ${selectField(types, "Query", "roles", 2)} } }`],
      ["policies", `{ policies(tenant: "acme") { ${selectField(types, "Query", "policies", 3)} } }`],
      ["dryRun", `{ dryRun(tenant: "acme", call: { name: "echo-auth", user: "alice@acme.com" }) { ${selectField(types, "Query", "dryRun", 3)} } }`],
      ["replay", `{ replay(tenant: "acme", draft: [{ id: "none", target: MCP_TOOL, pattern: "*", action: deny }]) { ${selectField(types, "Query", "replay", 3)} } }`],
      ["deployment", `{ whoami { ${selectAll(types, "Caller", 1)} } adminTokens { ${selectField(types, "Query", "adminTokens", 2)} } alertSinks { ${selectField(types, "Query", "alertSinks", 3)} } }`],
    ];
    for (const [what, query] of reads) expect((await admin(what, query)).errors, what).toBeUndefined();

    const metrics = await raw(`${url}/metrics`, {});
    seen.push({ what: "metrics", text: metrics.text });
    seen.push({ what: "readyz", text: (await raw(`${url}/readyz`, {})).text });
    seen.push({ what: "vault list", text: await cli(["vault", "list", "--data-dir", dataDir]) });

    for (const s of subscriptions) {
      s.sub.close();
      seen.push({ what: `subscription ${s.what}`, text: s.events.join("\n") });
    }
    gateway.kill("SIGTERM");
    await new Promise((r) => gateway.once("exit", r));
    seen.push({ what: "gateway log", text: logs.join("\n") });
    for (const file of filesUnder(dataDir)) seen.push({ what: `file ${file.slice(dataDir.length + 1)}`, text: readFileSync(file).toString("latin1") });

    // The paths really ran, so the search below is not vacuous: masks where secrets were
    // shown, refusals where they were refused, rotations in the log and in the audit trail.
    const all = seen.map((s) => s.text).join("\n");
    for (const secret of [GITHUB_V1, GITHUB_V2, SPARE]) expect(all).toContain(`${secret.slice(0, 4)}•••${secret.slice(-4)}`);
    expect(logs.filter((l) => l.includes("[upstream tools]"))).toContainEqual(expect.stringContaining(`API_TOKEN=tool•••${TOOL_V1.slice(-4)}`));
    expect(logs.filter((l) => l.includes("[upstream oauth-tools]"))).toContainEqual(expect.stringMatching(/ACCESS_TOKEN=\S{4}•••\S{4}/));
    expect(all).toContain("SENTINEL_SCOPE_DENIED");
    expect(all).toContain("SENTINEL_CREDENTIAL_UNAVAILABLE");
    // Vault events are admin records in the audit trail (by "vault"); the rotation history the
    // vault file keeps is on each credential.
    expect(seen.some((s) => s.what.startsWith("file audit") && s.text.includes("acme/tool-token rotated v1 -> v2"))).toBe(true);
    expect(seen.find((s) => s.what === "admin auditRecords")!.text).toContain('"name":"echo-auth-sse"');
    const history = (JSON.parse(seen.find((s) => s.what === "admin tenant")!.text) as { data: { tenant: { credentials: Array<{ name: string; versions: Array<{ version: number }> }> } } }).data.tenant.credentials;
    expect(history.find((c) => c.name === "github-prod")!.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(seen.find((s) => s.what === "subscription decisions")!.text).toContain("echo-auth");
    expect(seen.find((s) => s.what === "admin tenants")!.text).toContain(`"masked":"${SPARE.slice(0, 4)}•••${SPARE.slice(-4)}"`);
    expect(upstream.refused).toBe(0);
    expect(oauth.introspected.inactive).toBe(0);

    const secrets: KnownSecret[] = [
      ...Object.entries({ GITHUB_V1, GITHUB_V2, TOOL_V1, TOOL_V2, CLIENT_SECRET, SPARE, REJECTED, REJECTED_ENV }).map(([name, value]) => ({ name, value, pieces: true })),
      ...oauth.issuedTokens().map((value, i) => ({ name: `access token ${i + 1}`, value, pieces: false })),
    ];
    expect(oauth.issuedTokens().length).toBeGreaterThan(0);
    expect(findLeaks(seen, secrets)).toEqual([]);
    console.log(`leak test: searched ${seen.length} outputs (${logs.length} log lines, ${all.length} bytes) for ${secrets.length} secrets in every form and every 5-character piece: 0 hits`);
  });
});
