// The GraphQL admin API over HTTP against both stores (PGlite and the real Postgres), with a
// gateway following the same store in this process, as under `sentinel start`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentFromText } from "../../engine/config-store/config-document.js";
import { recordingStdio } from "../support/gateway-harness.js";
import { callTool, echoTenant, gql, gqlData, gqlError, startAdminStack, STORE_KINDS, subscribe, testApiKey, type AdminStack } from "../support/admin-harness.js";

const scratch = mkdtempSync(join(tmpdir(), "sentinel-admin-api-"));
const acmeKey = testApiKey("acme-agent");
const globexKey = testApiKey("globex-agent");

const document = () => ({
  version: 1,
  server: { host: "127.0.0.1", port: 0 },
  tenants: [
    { ...echoTenant("acme", acmeKey.entry, join(scratch, "acme.jsonl")), name: "Acme" },
    { id: "globex", apiKeys: [globexKey.entry], connections: [recordingStdio("rec", join(scratch, "globex.jsonl"))], policies: [{ id: "g-all", target: "mcp.tool", pattern: "*", action: "allow" }] },
  ],
});

/** One tools/call through the stack's gateway. */
const call = (stack: AdminStack, key: string, name: string, sid?: string) => callTool(stack.gateway.running.url, key, name, { sid });

const POLICIES = `query($t: ID!) { tenant(id: $t) { policies { id action enabled pattern conditions { field op value } } } }`;

describe.each(STORE_KINDS)("the admin API on %s", (kind) => {
  let stack: AdminStack;
  let url: string;
  let owner: string;
  beforeAll(async () => {
    stack = await startAdminStack(kind, document());
    url = stack.url;
    owner = stack.ownerToken;
  });
  afterAll(async () => {
    await stack?.close();
  });

  describe("CRUD", () => {
    it("creates, patches, disables, reorders and deletes a rule, each a new config version", async () => {
      const created = await gqlData<{ createPolicy: { version: number; policy: { id: string } } }>(
        url,
        owner,
        `mutation { createPolicy(tenant: "acme", position: 0, comment: "block deletes", input: { id: "no-delete", target: MCP_TOOL, pattern: "*.delete", action: deny, conditions: [{ field: "role", op: nin, value: ["admin"] }] }) { version policy { id } } }`,
      );
      expect(created.createPolicy.policy.id).toBe("no-delete");
      const v1 = created.createPolicy.version;
      await gqlData(url, owner, `mutation { updatePolicy(tenant: "acme", id: "no-delete", patch: { pattern: "{*.delete,delete_*}", conditions: null }) { version } }`);
      await gqlData(url, owner, `mutation { setPolicyEnabled(tenant: "acme", id: "no-delete", enabled: false) { version } }`);
      let policies = (await gqlData<{ tenant: { policies: Array<Record<string, unknown>> } }>(url, owner, POLICIES, { t: "acme" })).tenant.policies;
      expect(policies[0]).toEqual({ id: "no-delete", action: "deny", enabled: false, pattern: "{*.delete,delete_*}", conditions: [] });
      const reordered = await gqlData<{ reorderPolicies: { policies: Array<{ id: string }>; version: number } }>(
        url,
        owner,
        `mutation { reorderPolicies(tenant: "acme", ids: ["echo-rule", "no-delete", "rest"]) { version policies { id } } }`,
      );
      expect(reordered.reorderPolicies.policies.map((p) => p.id)).toEqual(["echo-rule", "no-delete", "rest"]);
      expect(reordered.reorderPolicies.version).toBe(v1 + 3);
      await gqlData(url, owner, `mutation { deletePolicy(tenant: "acme", id: "no-delete") }`);
      policies = (await gqlData<{ tenant: { policies: Array<Record<string, unknown>> } }>(url, owner, POLICIES, { t: "acme" })).tenant.policies;
      expect(policies.map((p) => p.id)).toEqual(["echo-rule", "rest"]);

      const history = await gqlData<{ policyHistory: Array<{ version: number; change: string; author: string; comment: string | null }> }>(
        url,
        owner,
        `{ policyHistory(tenant: "acme", id: "no-delete") { version change author comment } }`,
      );
      expect(history.policyHistory.map((h) => h.change)).toEqual(["REMOVED", "CHANGED", "CHANGED", "ADDED"]);
      expect(history.policyHistory.at(-1)).toMatchObject({ version: v1, author: "api:test-owner", comment: "block deletes" });

      // Rolled back to how it was when created: back in the list, enabled, with its condition.
      await gqlData(url, owner, `mutation { rollbackPolicy(tenant: "acme", id: "no-delete", version: ${v1}) { version } }`);
      policies = (await gqlData<{ tenant: { policies: Array<Record<string, unknown>> } }>(url, owner, POLICIES, { t: "acme" })).tenant.policies;
      expect(policies.find((p) => p.id === "no-delete")).toMatchObject({ enabled: true, pattern: "*.delete", conditions: [{ field: "role", op: "nin", value: ["admin"] }] });
      await gqlData(url, owner, `mutation { deletePolicy(tenant: "acme", id: "no-delete") }`);
    });

    it("creates an API key shown once, stores only its hash, and revokes it", async () => {
      const made = await gqlData<{ createApiKey: { key: string; apiKey: { id: string; fingerprint: string; revoked: boolean } } }>(
        url,
        owner,
        `mutation { createApiKey(tenant: "acme", id: "ci", description: "CI agent") { key apiKey { id fingerprint revoked } } }`,
      );
      expect(made.createApiKey.key).toMatch(/^sk_sentinel_/);
      expect(made.createApiKey.apiKey).toMatchObject({ id: "ci", revoked: false });
      expect(JSON.stringify((await stack.versions.current())!.document)).not.toContain(made.createApiKey.key);
      const listed = await gqlData<{ tenant: { apiKeys: Array<Record<string, unknown>> } }>(url, owner, `{ tenant(id: "acme") { apiKeys { id revoked } } }`);
      expect(JSON.stringify(listed)).not.toContain(made.createApiKey.key);
      await gqlData(url, owner, `mutation { revokeApiKey(tenant: "acme", id: "ci") { apiKey { revoked } } }`);
      const after = await gqlData<{ tenant: { apiKeys: Array<{ id: string; revoked: boolean }> } }>(url, owner, `{ tenant(id: "acme") { apiKeys { id revoked } } }`);
      expect(after.tenant.apiKeys.find((k) => k.id === "ci")?.revoked).toBe(true);
    });

    it("manages connections, guard patterns, limits and alert channels, masking what could be a secret", async () => {
      await gqlData(url, owner, `mutation($h: JSON) { createConnection(tenant: "acme", input: { name: "search", transport: http, url: "http://127.0.0.1:9/mcp", headers: $h }) { version } }`, {
        h: { "x-api-key": "abcdefghijklmnopqrstuvwxyz123456", "x-team": "${SENTINEL_HOME}" },
      });
      await gqlData(url, owner, `mutation { updateConnection(tenant: "acme", name: "search", patch: { timeoutMs: 5000 }) { version } }`);
      const c = await gqlData<{ tenant: { connections: Array<Record<string, unknown>> } }>(url, owner, `{ tenant(id: "acme") { connections { name transport url headers timeoutMs } } }`);
      expect(c.tenant.connections.find((x) => x.name === "search")).toEqual({
        name: "search",
        transport: "http",
        url: "http://127.0.0.1:9/mcp",
        headers: { "x-api-key": "abcd•••3456", "x-team": "${SENTINEL_HOME}" },
        timeoutMs: 5000,
      });
      await gqlData(url, owner, `mutation { deleteConnection(tenant: "acme", id: "search") }`);

      const g = await gqlData<{ upsertGuardPattern: { guard: { patterns: Array<{ id: string }> } } }>(
        url,
        owner,
        `mutation { upsertGuardPattern(tenant: "acme", input: { id: "emp", pattern: "EMP-\\\\d{6}", action: redact }) { guard { patterns { id } } } }`,
      );
      expect(g.upsertGuardPattern.guard.patterns.map((p) => p.id)).toEqual(["emp"]);
      const l = await gqlData<{ upsertLimit: { limit: { id: string; usage: { used: number; max: number; text: string } } } }>(
        url,
        owner,
        `mutation { upsertLimit(tenant: "acme", input: { id: "rpm", scope: tenant, metric: requests, window: minute, max: 100 }) { limit { id } } }`,
      );
      expect(l.upsertLimit.limit.id).toBe("rpm");
      // Usage comes from the gateway of this process once it published the change.
      let usage: { text: string } | undefined;
      for (let i = 0; i < 50 && usage === undefined; i++) {
        const r = await gql<{ tenant: { limits: Array<{ usage: { text: string } }> } }>(url, owner, `{ tenant(id: "acme") { limits { usage { text } } } }`);
        usage = r.data?.tenant.limits[0]?.usage;
        if (usage === undefined) await new Promise((res) => setTimeout(res, 20));
      }
      expect(usage?.text).toBe("0% of 100 req/min");

      const sinks = await gqlData<{ upsertAlertChannel: { alertSinks: { channels: Array<{ url: string; hasSecret: boolean }> } } }>(
        url,
        owner,
        `mutation { upsertAlertChannel(input: { id: "ops", type: slack, url: "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX" }) { alertSinks { channels { url hasSecret } } } }`,
      );
      expect(sinks.upsertAlertChannel.alertSinks.channels[0]!.url).not.toContain("XXXXXXXXXXXXXXXXXXXX");
      await gqlData(url, owner, `mutation { deleteAlertChannel(id: "ops") { version } }`);
    });
  });

  describe("validation and errors", () => {
    it("refuses a rule that would not compile, naming the document path and the input field", async () => {
      const e = await gqlError(url, owner, `mutation { createPolicy(tenant: "acme", input: { id: "bad", target: MCP_TOOL, pattern: "{a,b", action: allow }) { version } }`);
      expect(e.extensions).toMatchObject({ code: "SENTINEL_ADMIN_VALIDATION", field: "pattern" });
      expect(e.extensions?.path).toMatch(/^tenants\[0\]\.policies\[\d+\]\.pattern$/);
      const re = await gqlError(url, owner, `mutation { updatePolicy(tenant: "acme", id: "rest", patch: { conditions: [{ field: "user", op: matches, value: "(a)\\\\1" }] }) { version } }`);
      expect(re.extensions).toMatchObject({ code: "SENTINEL_ADMIN_VALIDATION", field: "conditions[0].value" });
      const schema = await gqlError(url, owner, `mutation { createConnection(tenant: "acme", input: { name: "x", transport: http }) { version } }`);
      expect(schema.extensions).toMatchObject({ code: "SENTINEL_ADMIN_VALIDATION" });
      expect(schema.message).toContain('missing required property "url"');
    });

    it("answers not-found, conflict and stale versions with stable codes", async () => {
      expect((await gqlError(url, owner, `{ tenant(id: "nope") { id } }`)).extensions?.code).toBe("SENTINEL_ADMIN_NOT_FOUND");
      expect((await gqlError(url, owner, `mutation { deletePolicy(tenant: "acme", id: "nope") }`)).extensions?.code).toBe("SENTINEL_ADMIN_NOT_FOUND");
      expect((await gqlError(url, owner, `mutation { createPolicy(tenant: "acme", input: { id: "rest", target: MCP_TOOL, pattern: "*", action: allow }) { version } }`)).extensions?.code).toBe("SENTINEL_ADMIN_CONFLICT");
      const stale = await gqlError(url, owner, `mutation { setPolicyEnabled(tenant: "acme", id: "rest", enabled: true, expectedVersion: 1) { version } }`);
      expect(stale.extensions).toMatchObject({ code: "SENTINEL_ADMIN_CONFLICT", expectedVersion: 1 });
      expect((await gqlError(url, owner, `{ auditRecords(tenant: "acme", after: "not-a-cursor") { records { id } } }`)).extensions?.code).toBe("SENTINEL_ADMIN_VALIDATION");
    });

    it("refuses requests without a valid admin token before parsing them", async () => {
      const none = await gqlError(url, undefined, `{ tenants { id } }`);
      expect([none.status, none.extensions?.code]).toEqual([401, "SENTINEL_ADMIN_UNAUTHENTICATED"]);
      const bad = await gqlError(url, "sa_sentinel_not-a-token", `{ __schema { types { name } } }`);
      expect([bad.status, bad.extensions?.code]).toEqual([401, "SENTINEL_ADMIN_UNAUTHENTICATED"]);
    });

    it("serves GraphiQL to a browser without a token", async () => {
      const page = await fetch(url, { headers: { accept: "text/html" } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("GraphiQL");
    });
  });

  describe("authorization", () => {
    it("an auditor reads everything of its scope but cannot change anything", async () => {
      const auditor = await stack.token("auditor");
      expect((await gqlData<{ tenants: Array<{ id: string }> }>(url, auditor, `{ tenants { id } }`)).tenants.map((t) => t.id)).toEqual(["acme", "globex"]);
      for (const m of [
        `mutation { createPolicy(tenant: "acme", input: { id: "x", target: MCP_TOOL, pattern: "*", action: allow }) { version } }`,
        `mutation { setPolicyEnabled(tenant: "acme", id: "rest", enabled: false) { version } }`,
        `mutation { createApiKey(tenant: "acme", id: "x") { key } }`,
        `mutation { applyConfig(yaml: "version: 1\\ntenants: []\\n") { version } }`,
        `mutation { createAdminToken(id: "x", role: owner) { token } }`,
      ]) {
        expect((await gqlError(url, auditor, m)).extensions?.code).toBe("SENTINEL_ADMIN_FORBIDDEN");
      }
      expect((await gqlError(url, auditor, `{ config { document } }`)).extensions?.code).toBe("SENTINEL_ADMIN_FORBIDDEN");
    });

    it("a tenant-scoped admin sees and changes only its tenant", async () => {
      const admin = await stack.token("admin", "globex");
      expect((await gqlData<{ tenants: Array<{ id: string }> }>(url, admin, `{ tenants { id } }`)).tenants.map((t) => t.id)).toEqual(["globex"]);
      expect((await gqlError(url, admin, `{ tenant(id: "acme") { id } }`)).extensions?.code).toBe("SENTINEL_ADMIN_FORBIDDEN");
      expect((await gqlError(url, admin, `{ policies(tenant: "acme") { id } }`)).extensions?.code).toBe("SENTINEL_ADMIN_FORBIDDEN");
      expect((await gqlError(url, admin, `{ auditRecords(tenant: "acme") { records { id } } }`)).extensions?.code).toBe("SENTINEL_ADMIN_FORBIDDEN");
      expect((await gqlError(url, admin, `mutation { deletePolicy(tenant: "acme", id: "rest") }`)).extensions?.code).toBe("SENTINEL_ADMIN_FORBIDDEN");
      expect((await gqlError(url, admin, `mutation { createTenant(id: "initech") { version } }`)).extensions?.code).toBe("SENTINEL_ADMIN_FORBIDDEN");
      expect((await gqlError(url, admin, `{ alertSinks { channels { id } } }`)).extensions?.code).toBe("SENTINEL_ADMIN_FORBIDDEN");
      const own = await gqlData<{ createPolicy: { version: number } }>(url, admin, `mutation { createPolicy(tenant: "globex", input: { id: "g-deny", target: MCP_TOOL, pattern: "x", action: deny }) { version } }`);
      expect(own.createPolicy.version).toBeGreaterThan(0);
      // History entries about other tenants are not shown to it.
      const versions = await gqlData<{ configVersions: Array<{ changes: string[] }> }>(url, admin, `{ configVersions(limit: 100) { changes } }`);
      expect(versions.configVersions.flatMap((v) => v.changes).filter((c) => c.includes("acme"))).toEqual([]);
    });

    it("a revoked token stops working at once, and its open subscriptions end", async () => {
      const t = await stack.tokens.create({ id: "short-lived", role: "admin", createdBy: "test" });
      expect((await gqlData<{ whoami: { tokenId: string } }>(url, t.token, `{ whoami { tokenId } }`)).whoami.tokenId).toBe("short-lived");
      const sub = await subscribe(url, t.token, `subscription { decisions { tenant } }`);
      try {
        await gqlData(url, owner, `mutation { revokeAdminToken(id: "short-lived") { revokedAt } }`);
        expect((await gqlError(url, t.token, `{ whoami { tokenId } }`)).status).toBe(401);
        await expect(sub.next(3000)).rejects.toThrow("the subscription ended");
      } finally {
        sub.close();
      }
    });
  });

  describe("live effect and subscriptions", () => {
    it("a decision made through the gateway arrives in a subscription, filtered by tenant and tool", async () => {
      const scopedToGlobex = await stack.token("auditor", "globex");
      const acmeSub = await subscribe<{ decisions: { tenant: string; name: string; decision: string; ruleId: string; user: string } }>(
        url,
        owner,
        `subscription { decisions(tenant: "acme", tool: "echo") { tenant name decision ruleId user traceId } }`,
      );
      const globexSub = await subscribe<{ decisions: { tenant: string } }>(url, scopedToGlobex, `subscription { decisions { tenant name } }`);
      try {
        const { message } = await call(stack, acmeKey.key, "echo");
        expect(message).toMatchObject({ error: { data: { code: "SENTINEL_POLICY_DENIED", ruleId: "echo-rule" } } });
        const event = await acmeSub.next();
        expect(event.decisions).toMatchObject({ tenant: "acme", name: "echo", decision: "deny", ruleId: "echo-rule", user: "alice" });
        // The globex-scoped subscriber saw nothing of acme's call; its own tenant's call arrives.
        await call(stack, globexKey.key, "repo.read");
        const theirs = await globexSub.next();
        expect(theirs.decisions.tenant).toBe("globex");
      } finally {
        acmeSub.close();
        globexSub.close();
      }
    });

    it("lists the gateway's open sessions and streams their starts", async () => {
      const sub = await subscribe<{ sessionChanges: { type: string; session: { id: string; tenant: string; user: string; apiKey: string } } }>(
        url,
        owner,
        `subscription { sessionChanges(tenant: "acme") { type session { id tenant user apiKey } } }`,
      );
      try {
        const { sid } = await call(stack, acmeKey.key, "repo.read");
        const started = await sub.next();
        expect(started.sessionChanges).toEqual({ type: "STARTED", session: { id: sid, tenant: "acme", user: "alice", apiKey: "acme-agent" } });
        const listed = await gqlData<{ sessions: Array<{ id: string; role: string }> }>(url, owner, `{ sessions(tenant: "acme") { id role } }`);
        expect(listed.sessions).toEqual(expect.arrayContaining([{ id: sid, role: "developer" }]));
        const scoped = await stack.token("auditor", "globex");
        expect((await gqlData<{ sessions: Array<{ id: string }> }>(url, scoped, `{ sessions { id } }`)).sessions.map((s) => s.id)).not.toContain(sid);
      } finally {
        sub.close();
      }
    });

    it("a tenant-scoped token cannot subscribe to another tenant", async () => {
      const scoped = await stack.token("admin", "globex");
      await expect(subscribe(url, scoped, `subscription { decisions(tenant: "acme") { tenant } }`).then((s) => s.next(2000))).rejects.toThrow(/403/);
      const reply = await gqlError(url, scoped, `subscription { decisions(tenant: "acme") { tenant } }`);
      expect([reply.status, reply.extensions?.code]).toEqual([403, "SENTINEL_ADMIN_FORBIDDEN"]);
    });

    it("a rule change flips the next call's decision in the same session", async () => {
      const first = await call(stack, acmeKey.key, "echo");
      expect(first.message).toMatchObject({ error: { data: { ruleId: "echo-rule" } } });
      await gqlData(url, owner, `mutation { updatePolicy(tenant: "acme", id: "echo-rule", patch: { action: allow }) { version } }`);
      let after = first.message;
      for (let i = 0; i < 100 && after.error !== undefined; i++) {
        after = (await call(stack, acmeKey.key, "echo", first.sid)).message;
        if (after.error !== undefined) await new Promise((r) => setTimeout(r, 10));
      }
      expect(after).toMatchObject({ result: { content: [{ type: "text" }] } });
      await gqlData(url, owner, `mutation { updatePolicy(tenant: "acme", id: "echo-rule", patch: { action: deny }) { version } }`);
    });

    it("dry-runs a call against the live rules and a draft, and replays a draft over recorded calls", async () => {
      const live = await gqlData<{ dryRun: { action: string; ruleId: string; trace: Array<{ ruleId: string; outcome: string }> } }>(
        url,
        owner,
        `{ dryRun(tenant: "acme", call: { name: "echo", user: "alice", metadata: { role: "developer" } }) { action ruleId trace { ruleId outcome } } }`,
      );
      expect(live.dryRun).toMatchObject({ action: "deny", ruleId: "echo-rule", trace: [{ ruleId: "echo-rule", outcome: "matched" }] });
      const draft = `[{ id: "all", target: MCP_TOOL, pattern: "*", action: allow }]`;
      const drafted = await gqlData<{ dryRun: { action: string; ruleId: string } }>(url, owner, `{ dryRun(tenant: "acme", call: { name: "echo" }, draft: ${draft}) { action ruleId } }`);
      expect(drafted.dryRun).toEqual({ action: "allow", ruleId: "all" });
      // Recorded calls reach the audit store asynchronously: wait for the echo denials to land.
      let replay: { total: number; transitions: Array<{ transition: string; count: number }> } | undefined;
      for (let i = 0; i < 100; i++) {
        replay = (await gqlData<{ replay: typeof replay }>(url, owner, `{ replay(tenant: "acme", draft: ${draft}) { total transitions { transition count } changed { name before { ruleId } after { ruleId } } } }`)).replay;
        if ((replay?.transitions ?? []).some((t) => t.transition === "deny → allow")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(replay!.transitions).toEqual(expect.arrayContaining([expect.objectContaining({ transition: "deny → allow" })]));
      const users = await gqlData<{ users: Array<{ id: string; roles: string[] }> }>(url, owner, `{ users(tenant: "acme") { id roles calls } }`);
      expect(users.users).toEqual(expect.arrayContaining([expect.objectContaining({ id: "alice", roles: ["developer"] })]));
      const page = await gqlData<{ auditRecords: { records: Array<{ name: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
        url,
        owner,
        `{ auditRecords(tenant: "acme", kind: call, first: 1) { records { name decision } pageInfo { hasNextPage endCursor } } }`,
      );
      expect(page.auditRecords.records).toHaveLength(1);
      expect(page.auditRecords.pageInfo.hasNextPage).toBe(true);
      const next = await gqlData<{ auditRecords: { records: Array<{ name: string }> } }>(url, owner, `query($a: String) { auditRecords(tenant: "acme", kind: call, first: 1, after: $a) { records { name } } }`, {
        a: page.auditRecords.pageInfo.endCursor,
      });
      expect(next.auditRecords.records).toHaveLength(1);
    });
  });

  describe("the whole document", () => {
    it("round-trips: applying the export changes nothing, and the YAML parses back to the stored document", async () => {
      const exported = await gqlData<{ config: { version: number; yaml: string } }>(url, owner, `{ config { version yaml } }`);
      expect(documentFromText(exported.config.yaml, "export")).toEqual((await stack.versions.current())!.document);
      const applied = await gqlData<{ applyConfig: { version: number } }>(url, owner, `mutation($y: String!) { applyConfig(yaml: $y) { version } }`, { y: exported.config.yaml });
      expect(applied.applyConfig.version).toBe(exported.config.version);
      const changed = exported.config.yaml.replace("name: Acme\n", "name: Acme Corp\n");
      const next = await gqlData<{ applyConfig: { version: number; changes: string[] } }>(url, owner, `mutation($y: String!) { applyConfig(yaml: $y, comment: "rename") { version changes } }`, { y: changed });
      expect(next.applyConfig).toEqual({ version: exported.config.version + 1, changes: ["~tenant acme settings"] });
      const back = await gqlData<{ rollbackConfig: { version: number } }>(url, owner, `mutation { rollbackConfig(version: ${exported.config.version}) { version } }`);
      expect((await stack.versions.get(back.rollbackConfig.version))!.document).toEqual((await stack.versions.get(exported.config.version))!.document);
    });

    it("refuses an invalid document with the path of the fault", async () => {
      const e = await gqlError(url, owner, `mutation { applyConfig(yaml: "version: 1\\ntenants:\\n  - id: acme\\n    colour: blue\\n") { version } }`);
      expect(e.extensions).toMatchObject({ code: "SENTINEL_ADMIN_VALIDATION", path: "tenants[0].colour" });
    });
  });
});
