/**
 * The demo upstream: a stdio MCP server that stands in for the `github-prod` connection.
 *
 * It serves the tools the product demo governs (`repo.read`, `repo.delete`, `stripe.charge`,
 * `stripe.refund`, `postgres.query`, `jira.issue.search`), one resource and one prompt, all backed
 * by the deterministic data in `./fake-data.ts`. Nothing real is read, charged or deleted.
 *
 * Run it with `node dist/engine/demo/demo-server.js` (after `npm run build`) or
 * `node --import tsx engine/demo/demo-server.ts`. stdout carries only MCP messages; diagnostics
 * go to stderr. Tests import `createDemoServer()` and connect it over an in-memory transport.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { CUSTOMERS, ISSUES, REPOS, SEED_CHARGES, digest, queryReplica, repoSummary } from "./fake-data.js";
import type { Charge } from "./fake-data.js";

export const DEMO_SERVER_NAME = "sentinel-demo-upstream";
export const DEMO_SERVER_VERSION = "0.1.0";
export const DEMO_README_URI = "repo://acme/api/README.md";

/**
 * A successful tool result: the value as JSON text. Deliberately text only (no
 * `structuredContent`), so content rules that inspect responses have one place to look.
 */
const ok = (value: Record<string, unknown>): CallToolResult => ({
  content: [{ type: "text", text: JSON.stringify(value, null, 2) }],
});

/** A tool-level failure: the tool ran and refused (`isError: true`), as opposed to a protocol error. */
const toolError = (message: string): CallToolResult => ({ isError: true, content: [{ type: "text", text: message }] });

const REPO = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected owner/name, e.g. acme/api")
  .describe("Repository as owner/name, e.g. acme/api");

/** Dollars with at most two decimals, as a number of cents, or undefined when `amount` has more precision. */
const toCents = (amount: number): number | undefined => {
  const cents = Math.round(amount * 100);
  return Math.abs(cents - amount * 100) < 1e-6 ? cents : undefined;
};

const dollars = (cents: number): number => cents / 100;

/** Creates the demo server. Each instance has its own charge ledger, so tests do not see each other's charges. */
export const createDemoServer = (): McpServer => {
  const server = new McpServer(
    { name: DEMO_SERVER_NAME, version: DEMO_SERVER_VERSION },
    {
      instructions:
        "Demo upstream for the github-prod connection: GitHub repositories, Stripe payments, a read-only Postgres replica and Jira. All data is fake.",
    },
  );

  const charges = new Map<string, Charge & { refundedCents: number }>(
    SEED_CHARGES.map((c) => [c.id, { ...c, refundedCents: 0 }]),
  );
  let chargeSeq = 0;
  let refundSeq = 0;

  server.registerTool(
    "repo.read",
    {
      title: "Read repository",
      description: "Return a repository's summary: description, default branch, last commit and file listing.",
      inputSchema: { repo: REPO },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ repo }) => {
      const found = REPOS[repo];
      if (found === undefined) return toolError(`Repository ${repo} not found (known: ${Object.keys(REPOS).join(", ")}).`);
      return ok(repoSummary(found));
    },
  );

  server.registerTool(
    "repo.delete",
    {
      title: "Delete repository",
      description: "Permanently delete a repository. Destructive and irreversible.",
      inputSchema: { repo: REPO },
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ repo }) => {
      const found = REPOS[repo];
      if (found === undefined) return toolError(`Repository ${repo} not found.`);
      // The demo never changes state: a later repo.read still finds the repository.
      return ok({ repo: found.fullName, deleted: true, simulated: true });
    },
  );

  server.registerTool(
    "stripe.charge",
    {
      title: "Create charge",
      description: "Charge a customer. `amount` is in dollars (major units), e.g. 42.5 for $42.50.",
      inputSchema: {
        amount: z.number().positive().max(999_999.99).describe("Amount in dollars (major currency units), at most two decimals"),
        currency: z
          .string()
          .regex(/^[A-Za-z]{3}$/, "expected a three-letter ISO 4217 code")
          .describe("Three-letter ISO 4217 currency code, e.g. usd"),
        customer: z
          .string()
          .regex(/^cus_[A-Za-z0-9]+$/, "expected a customer id such as cus_Acme0001")
          .describe("Stripe customer id, e.g. cus_Acme0001"),
      },
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ amount, currency, customer }) => {
      const cents = toCents(amount);
      if (cents === undefined) return toolError(`Invalid amount ${amount}: at most two decimals.`);
      const known = CUSTOMERS[customer];
      if (known === undefined) return toolError(`No such customer: ${customer}.`);
      chargeSeq += 1;
      const id = `ch_${digest(`${customer}:${cents}:${currency.toLowerCase()}:${chargeSeq}`, 20)}`;
      const charge = { id, amount: dollars(cents), currency: currency.toLowerCase(), customer, created: "2025-03-14T12:00:00Z" };
      charges.set(id, { ...charge, refundedCents: 0 });
      return ok({ ...charge, customerName: known.name, status: "succeeded", livemode: false });
    },
  );

  server.registerTool(
    "stripe.refund",
    {
      title: "Refund charge",
      description: "Refund all or part of a charge. `amount` is in dollars (major units).",
      inputSchema: {
        charge_id: z.string().regex(/^ch_[A-Za-z0-9]+$/, "expected a charge id such as ch_3PqA1cAcme0001").describe("The charge to refund"),
        amount: z.number().positive().describe("Amount to refund in dollars, at most the charge's unrefunded amount"),
      },
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ charge_id, amount }) => {
      const charge = charges.get(charge_id);
      if (charge === undefined) return toolError(`No such charge: ${charge_id}.`);
      const cents = toCents(amount);
      if (cents === undefined) return toolError(`Invalid amount ${amount}: at most two decimals.`);
      const remaining = Math.round(charge.amount * 100) - charge.refundedCents;
      if (cents > remaining) {
        return toolError(
          `Refund of ${dollars(cents).toFixed(2)} ${charge.currency} exceeds the unrefunded ${dollars(remaining).toFixed(2)} ${charge.currency} on ${charge_id}.`,
        );
      }
      charge.refundedCents += cents;
      refundSeq += 1;
      return ok({
        id: `re_${digest(`${charge_id}:${cents}:${refundSeq}`, 20)}`,
        charge: charge_id,
        amount: dollars(cents),
        currency: charge.currency,
        status: "succeeded",
        chargeRefundedTotal: dollars(charge.refundedCents),
      });
    },
  );

  server.registerTool(
    "postgres.query",
    {
      title: "Query Postgres (read replica)",
      description:
        "Run one SQL SELECT against the read-only replica. Tables: users, orders, customers. Writes and DDL are refused.",
      inputSchema: { sql: z.string().min(1).max(10_000).describe("A single SELECT statement") },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ sql }) => {
      const outcome = queryReplica(sql);
      if (!outcome.ok) return toolError(outcome.error);
      return ok({ command: outcome.command, rowCount: outcome.rows.length, columns: outcome.columns, rows: outcome.rows });
    },
  );

  server.registerTool(
    "jira.issue.search",
    {
      title: "Search Jira issues",
      description: "Search a Jira project's issues. Every word of `query` must appear in the key, summary, status or labels.",
      inputSchema: {
        project: z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9]{1,9}$/, "expected a project key such as ACME")
          .describe("Project key, e.g. ACME"),
        query: z.string().max(500).describe("Free-text words to match; empty returns every issue in the project"),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ project, query }) => {
      const key = project.toUpperCase();
      const inProject = ISSUES.filter((i) => i.project === key);
      if (inProject.length === 0) return toolError(`The value '${key}' does not exist for the field 'project'.`);
      const words = query.toLowerCase().split(/\s+/).filter((w) => w !== "");
      const issues = inProject.filter((i) => {
        const haystack = [i.key, i.summary, i.status, ...i.labels].join(" ").toLowerCase();
        return words.every((w) => haystack.includes(w));
      });
      return ok({ project: key, query, total: issues.length, issues });
    },
  );

  server.registerResource(
    "acme-api-readme",
    DEMO_README_URI,
    { title: "acme/api README", description: "The README of the acme/api repository", mimeType: "text/markdown" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/markdown", text: REPOS["acme/api"]?.readme ?? "" }] }),
  );

  server.registerPrompt(
    "summarize-repo",
    {
      title: "Summarize repository",
      description: "Ask the model for a short summary of a repository, with its README and recent activity as context.",
      argsSchema: { repo: z.string().describe("Repository as owner/name, e.g. acme/api") },
    },
    ({ repo }) => {
      const found = REPOS[repo];
      const context =
        found === undefined
          ? `The repository ${repo} is not known to this server; say so.`
          : `README:\n\n${found.readme}\nLast commit: ${found.lastCommit.message} (${found.lastCommit.author}, ${found.lastCommit.date}).\nOpen issues: ${found.openIssues}.`;
      return {
        description: `Summarize ${repo}`,
        messages: [
          {
            role: "user",
            content: { type: "text", text: `Summarize the repository ${repo} in three sentences for a new engineer.\n\n${context}` },
          },
        ],
      };
    },
  );

  return server;
};

/** Serves a demo server on this process's stdin/stdout until stdin closes or a signal arrives. */
export const runStdio = async (): Promise<void> => {
  const server = createDemoServer();
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = (code: number): void => {
    if (closing) return;
    closing = true;
    server
      .close()
      .catch((err: unknown) => console.error("demo upstream: close failed:", err))
      .finally(() => process.exit(code));
  };
  transport.onerror = (err) => console.error("demo upstream: transport error:", err.message);
  process.stdin.once("end", () => shutdown(0));
  process.once("SIGINT", () => shutdown(0));
  process.once("SIGTERM", () => shutdown(0));
  await server.connect(transport);
  console.error(`demo upstream: ${DEMO_SERVER_NAME} ${DEMO_SERVER_VERSION} serving MCP on stdio (pid ${process.pid})`);
};

const isEntryPoint = (): boolean => {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};

if (isEntryPoint()) {
  runStdio().catch((err: unknown) => {
    console.error("demo upstream: failed to start:", err);
    process.exit(1);
  });
}
