import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { DEMO_README_URI, createDemoServer } from "../../engine/demo/demo-server.js";
import { queryReplica } from "../../engine/demo/fake-data.js";

const TOOLS = ["jira.issue.search", "postgres.query", "repo.delete", "repo.read", "stripe.charge", "stripe.refund"];

let client: Client;
let close: () => Promise<void>;

beforeEach(async () => {
  const server = createDemoServer();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: "demo-server-test", version: "0.0.0" });
  await client.connect(clientSide);
  close = async () => {
    await client.close();
    await server.close();
  };
});

afterEach(async () => {
  await close();
});

const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

const text = (result: CallToolResult): string => {
  const first = result.content[0];
  if (first?.type !== "text") throw new Error(`expected text content, got ${JSON.stringify(result.content)}`);
  return first.text;
};

const json = (result: CallToolResult): Record<string, unknown> => {
  expect(result.isError ?? false).toBe(false);
  return JSON.parse(text(result)) as Record<string, unknown>;
};

describe("demo upstream", () => {
  it("lists the six tools with object input schemas", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object");
      expect(tool.description).toBeTruthy();
    }
    const charge = tools.find((t) => t.name === "stripe.charge");
    expect(charge?.inputSchema.required).toEqual(expect.arrayContaining(["amount", "currency", "customer"]));
    expect(tools.find((t) => t.name === "repo.delete")?.annotations?.destructiveHint).toBe(true);
  });

  it("repo.read returns a summary with files", async () => {
    const body = json(await call("repo.read", { repo: "acme/api" }));
    expect(body.repo).toBe("acme/api");
    expect(body.defaultBranch).toBe("main");
    expect(body.files).toEqual(expect.arrayContaining([expect.objectContaining({ path: "README.md" })]));
  });

  it("repo.read is deterministic and reports unknown repositories as a tool error", async () => {
    expect(text(await call("repo.read", { repo: "acme/api" }))).toBe(text(await call("repo.read", { repo: "acme/api" })));
    const missing = await call("repo.read", { repo: "acme/nope" });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/not found/);
  });

  it("rejects arguments that do not match the input schema", async () => {
    const bad = await call("repo.read", { repo: "not a repo" });
    expect(bad.isError).toBe(true);
  });

  it("repo.delete answers without changing state", async () => {
    expect(json(await call("repo.delete", { repo: "acme/api" }))).toMatchObject({ repo: "acme/api", deleted: true });
    expect(json(await call("repo.read", { repo: "acme/api" })).repo).toBe("acme/api");
  });

  it("stripe.charge creates a charge in dollars that stripe.refund can refund", async () => {
    const charge = json(await call("stripe.charge", { amount: 42, currency: "USD", customer: "cus_Acme0001" }));
    expect(charge).toMatchObject({ amount: 42, currency: "usd", customer: "cus_Acme0001", status: "succeeded" });
    expect(charge.id).toMatch(/^ch_[0-9a-f]{20}$/);

    const refund = json(await call("stripe.refund", { charge_id: charge.id, amount: 40 }));
    expect(refund).toMatchObject({ charge: charge.id, amount: 40, currency: "usd", status: "succeeded" });
    expect(refund.id).toMatch(/^re_/);

    const over = await call("stripe.refund", { charge_id: charge.id, amount: 2.01 });
    expect(over.isError).toBe(true);
    expect(text(over)).toMatch(/exceeds/);
  });

  it("stripe.refund refunds a seeded charge and refuses unknown ones", async () => {
    expect(json(await call("stripe.refund", { charge_id: "ch_3PqA1cAcme0001", amount: 90 }))).toMatchObject({ amount: 90 });
    const unknown = await call("stripe.refund", { charge_id: "ch_nope", amount: 1 });
    expect(unknown.isError).toBe(true);
  });

  it("charge ids are the same on a fresh server for the same calls", async () => {
    const first = json(await call("stripe.charge", { amount: 10.5, currency: "usd", customer: "cus_Acme0002" })).id;
    const other = createDemoServer();
    const [c, s] = InMemoryTransport.createLinkedPair();
    await other.connect(s);
    const second = new Client({ name: "t", version: "0" });
    await second.connect(c);
    const again = (await second.callTool({ name: "stripe.charge", arguments: { amount: 10.5, currency: "usd", customer: "cus_Acme0002" } })) as CallToolResult;
    expect(JSON.parse(text(again)).id).toBe(first);
    await second.close();
    await other.close();
  });

  it("postgres.query returns rows for a SELECT", async () => {
    const body = json(await call("postgres.query", { sql: "SELECT id, email FROM users WHERE role = 'developer' ORDER BY id LIMIT 5;" }));
    expect(body.columns).toEqual(["id", "email"]);
    expect(body.rows).toEqual([
      { id: 1, email: "alice@acme.com" },
      { id: 3, email: "carol@acme.com" },
    ]);
    expect(body.rowCount).toBe(2);
  });

  it("postgres.query refuses writes with isError, as a read replica does", async () => {
    for (const sql of ["DELETE FROM users", "drop table users", "SELECT 1; DELETE FROM users", "UPDATE orders SET status = 'paid'"]) {
      const result = await call("postgres.query", { sql });
      expect(result.isError, sql).toBe(true);
    }
    expect(text(await call("postgres.query", { sql: "DROP TABLE users" }))).toMatch(/read-only transaction/);
  });

  it("jira.issue.search filters by project and words", async () => {
    const body = json(await call("jira.issue.search", { project: "ACME", query: "refund" }));
    expect(body.project).toBe("ACME");
    expect((body.issues as { key: string }[]).map((i) => i.key)).toEqual(["ACME-102", "ACME-104"]);
    const all = json(await call("jira.issue.search", { project: "acme", query: "" }));
    expect(all.total).toBe(4);
    expect((await call("jira.issue.search", { project: "NOPE", query: "x" })).isError).toBe(true);
  });

  it("serves the README resource and the summarize-repo prompt", async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([DEMO_README_URI]);
    const read = await client.readResource({ uri: DEMO_README_URI });
    const content = read.contents[0];
    expect(content && "text" in content ? content.text : "").toMatch(/^# acme\/api/);

    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["summarize-repo"]);
    const prompt = await client.getPrompt({ name: "summarize-repo", arguments: { repo: "acme/api" } });
    const message = prompt.messages[0];
    expect(message?.content.type === "text" ? message.content.text : "").toMatch(/acme\/api/);
  });
});

describe("queryReplica", () => {
  it("handles count, star, table-less selects and errors", () => {
    expect(queryReplica("select count(*) from orders where status = 'paid'")).toMatchObject({ ok: true, rows: [{ count: 2 }] });
    expect(queryReplica("SELECT * FROM public.customers LIMIT 1")).toMatchObject({ ok: true, rows: [{ id: "cus_Acme0001" }] });
    expect(queryReplica("SELECT 1")).toMatchObject({ ok: true, rows: [{ "?column?": 1 }] });
    expect(queryReplica("SELECT * FROM nope")).toEqual({ ok: false, error: 'ERROR: relation "nope" does not exist' });
    expect(queryReplica("SELECT nope FROM users")).toEqual({ ok: false, error: 'ERROR: column "nope" does not exist' });
    expect(queryReplica("-- comment\nINSERT INTO users VALUES (5)")).toMatchObject({ ok: false });
  });
});
