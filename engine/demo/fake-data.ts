/**
 * Deterministic fake data for the demo upstream (`engine/demo/demo-server.ts`).
 *
 * Everything here is invented and fixed: the same call always answers the same way, so demos,
 * recordings and tests are reproducible. The identifiers look like the real services' (a GitHub
 * repository, Stripe `ch_`/`re_` ids, Postgres rows, Jira keys) but point at nothing.
 */
import { createHash } from "node:crypto";

export interface RepoFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha: string;
}

export interface Repo {
  readonly fullName: string;
  readonly description: string;
  readonly defaultBranch: string;
  readonly visibility: "private" | "internal" | "public";
  readonly language: string;
  readonly stars: number;
  readonly openIssues: number;
  readonly lastCommit: { readonly sha: string; readonly author: string; readonly message: string; readonly date: string };
  readonly files: readonly RepoFile[];
  readonly readme: string;
}

/** A short, stable hex digest, used wherever a fake id or sha is needed. */
export const digest = (input: string, length = 12): string =>
  createHash("sha256").update(input).digest("hex").slice(0, length);

const file = (repo: string, path: string, bytes: number): RepoFile => ({ path, bytes, sha: digest(`${repo}:${path}`, 7) });

const API_README = `# acme/api

The Acme public API: orders, customers and billing, served over HTTPS.

## Layout

- \`src/server.ts\`: HTTP entry point
- \`src/routes/\`: one module per resource
- \`migrations/\`: Postgres schema migrations

## Running locally

\`\`\`sh
npm ci
npm run dev
\`\`\`

Owned by the platform team (#platform on Slack).
`;

export const REPOS: Readonly<Record<string, Repo>> = {
  "acme/api": {
    fullName: "acme/api",
    description: "Acme public API: orders, customers and billing",
    defaultBranch: "main",
    visibility: "private",
    language: "TypeScript",
    stars: 42,
    openIssues: 7,
    lastCommit: {
      sha: digest("acme/api@head", 40),
      author: "bob@acme.com",
      message: "orders: paginate GET /orders with cursors",
      date: "2025-03-14T09:26:53Z",
    },
    files: [
      file("acme/api", "README.md", Buffer.byteLength(API_README)),
      file("acme/api", "package.json", 1184),
      file("acme/api", "src/server.ts", 2310),
      file("acme/api", "src/routes/orders.ts", 4127),
      file("acme/api", "src/routes/customers.ts", 3391),
      file("acme/api", "src/routes/billing.ts", 2876),
      file("acme/api", "migrations/0001_init.sql", 1650),
    ],
    readme: API_README,
  },
  "acme/web": {
    fullName: "acme/web",
    description: "Customer dashboard (Next.js)",
    defaultBranch: "main",
    visibility: "private",
    language: "TypeScript",
    stars: 17,
    openIssues: 12,
    lastCommit: {
      sha: digest("acme/web@head", 40),
      author: "carol@acme.com",
      message: "dashboard: show refund status on the order page",
      date: "2025-03-13T16:02:11Z",
    },
    files: [
      file("acme/web", "README.md", 812),
      file("acme/web", "package.json", 1420),
      file("acme/web", "app/page.tsx", 1988),
      file("acme/web", "app/orders/[id]/page.tsx", 3302),
    ],
    readme: "# acme/web\n\nThe customer dashboard. `npm run dev` serves it on port 3000.\n",
  },
  "acme/infra": {
    fullName: "acme/infra",
    description: "Terraform for the Acme production and staging accounts",
    defaultBranch: "main",
    visibility: "internal",
    language: "HCL",
    stars: 5,
    openIssues: 2,
    lastCommit: {
      sha: digest("acme/infra@head", 40),
      author: "dave@acme.com",
      message: "rds: add a read replica in eu-west-1",
      date: "2025-03-11T11:45:00Z",
    },
    files: [
      file("acme/infra", "README.md", 640),
      file("acme/infra", "main.tf", 5120),
      file("acme/infra", "rds.tf", 2204),
    ],
    readme: "# acme/infra\n\nTerraform root module. Plans run in CI; applies need two approvals.\n",
  },
};

/** A repository summary, as `repo.read` returns it. */
export const repoSummary = (repo: Repo) => ({
  repo: repo.fullName,
  description: repo.description,
  defaultBranch: repo.defaultBranch,
  visibility: repo.visibility,
  language: repo.language,
  stars: repo.stars,
  openIssues: repo.openIssues,
  lastCommit: repo.lastCommit,
  files: repo.files,
});

export interface Charge {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
  readonly customer: string;
  readonly created: string;
}

/** Charges that exist before any `stripe.charge` call, so `stripe.refund` has something to refund. */
export const SEED_CHARGES: readonly Charge[] = [
  { id: "ch_3PqA1cAcme0001", amount: 120, currency: "usd", customer: "cus_Acme0001", created: "2025-03-10T14:03:22Z" },
  { id: "ch_3PqA1cAcme0002", amount: 42, currency: "usd", customer: "cus_Acme0002", created: "2025-03-12T08:47:10Z" },
  { id: "ch_3PqA1cAcme0003", amount: 899.5, currency: "eur", customer: "cus_Acme0003", created: "2025-03-13T19:21:05Z" },
];

export const CUSTOMERS: Readonly<Record<string, { readonly name: string; readonly email: string }>> = {
  cus_Acme0001: { name: "Globex Corporation", email: "billing@globex.example" },
  cus_Acme0002: { name: "Initech", email: "ap@initech.example" },
  cus_Acme0003: { name: "Umbrella GmbH", email: "finance@umbrella.example" },
};

/** Tables of the read-only Postgres replica. Columns are listed in order. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, string | number | boolean | null>>[];
}

export const TABLES: Readonly<Record<string, Table>> = {
  users: {
    columns: ["id", "email", "name", "role", "created_at"],
    rows: [
      { id: 1, email: "alice@acme.com", name: "Alice Martin", role: "developer", created_at: "2024-01-08T10:00:00Z" },
      { id: 2, email: "bob@acme.com", name: "Bob Chen", role: "admin", created_at: "2024-01-09T10:00:00Z" },
      { id: 3, email: "carol@acme.com", name: "Carol Diaz", role: "developer", created_at: "2024-02-15T10:00:00Z" },
      { id: 4, email: "dave@acme.com", name: "Dave Okafor", role: "sre", created_at: "2024-03-02T10:00:00Z" },
    ],
  },
  orders: {
    columns: ["id", "customer_id", "status", "total_usd", "created_at"],
    rows: [
      { id: 1001, customer_id: "cus_Acme0001", status: "paid", total_usd: 120, created_at: "2025-03-10T14:03:22Z" },
      { id: 1002, customer_id: "cus_Acme0002", status: "paid", total_usd: 42, created_at: "2025-03-12T08:47:10Z" },
      { id: 1003, customer_id: "cus_Acme0003", status: "refunded", total_usd: 899.5, created_at: "2025-03-13T19:21:05Z" },
      { id: 1004, customer_id: "cus_Acme0001", status: "pending", total_usd: 15.25, created_at: "2025-03-14T07:12:40Z" },
    ],
  },
  customers: {
    columns: ["id", "name", "email", "ssn", "country"],
    rows: [
      // SSN-shaped values in the never-issued 9xx range: something for content rules to catch.
      { id: "cus_Acme0001", name: "Globex Corporation", email: "billing@globex.example", ssn: "900-12-3456", country: "US" },
      { id: "cus_Acme0002", name: "Initech", email: "ap@initech.example", ssn: "900-65-4321", country: "US" },
      { id: "cus_Acme0003", name: "Umbrella GmbH", email: "finance@umbrella.example", ssn: null, country: "DE" },
    ],
  },
};

export interface Issue {
  readonly key: string;
  readonly project: string;
  readonly summary: string;
  readonly status: "To Do" | "In Progress" | "In Review" | "Done";
  readonly priority: "Highest" | "High" | "Medium" | "Low";
  readonly assignee: string | null;
  readonly labels: readonly string[];
  readonly updated: string;
}

export const ISSUES: readonly Issue[] = [
  {
    key: "ACME-101",
    project: "ACME",
    summary: "Orders endpoint times out for customers with more than 10k orders",
    status: "In Progress",
    priority: "High",
    assignee: "alice@acme.com",
    labels: ["api", "performance"],
    updated: "2025-03-14T08:30:00Z",
  },
  {
    key: "ACME-102",
    project: "ACME",
    summary: "Refund webhook retries create duplicate ledger entries",
    status: "To Do",
    priority: "Highest",
    assignee: null,
    labels: ["billing", "stripe"],
    updated: "2025-03-13T17:05:00Z",
  },
  {
    key: "ACME-103",
    project: "ACME",
    summary: "Rotate the github-prod deploy token",
    status: "Done",
    priority: "Medium",
    assignee: "dave@acme.com",
    labels: ["security"],
    updated: "2025-03-12T02:00:00Z",
  },
  {
    key: "ACME-104",
    project: "ACME",
    summary: "Dashboard shows stale refund status after a partial refund",
    status: "In Review",
    priority: "Medium",
    assignee: "carol@acme.com",
    labels: ["web", "billing"],
    updated: "2025-03-13T16:10:00Z",
  },
  {
    key: "OPS-7",
    project: "OPS",
    summary: "Read replica lag alert fires during nightly vacuum",
    status: "To Do",
    priority: "Low",
    assignee: "dave@acme.com",
    labels: ["postgres", "alerting"],
    updated: "2025-03-11T23:40:00Z",
  },
];

export type Row = Readonly<Record<string, string | number | boolean | null>>;

export type QueryOutcome =
  | { readonly ok: true; readonly command: "SELECT"; readonly columns: readonly string[]; readonly rows: readonly Row[] }
  | { readonly ok: false; readonly error: string };

const fail = (error: string): QueryOutcome => ({ ok: false, error });

const SELECT_SHAPE =
  /^select\s+(?<list>.+?)(?:\s+from\s+(?<table>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?))?(?:\s+where\s+(?<where>.+?))?(?:\s+order\s+by\s+(?<order>[a-z_][a-z0-9_]*)(?:\s+(?<dir>asc|desc))?)?(?:\s+limit\s+(?<limit>\d+))?$/is;

const literal = (text: string): string | number | boolean | null | undefined => {
  const t = text.trim();
  if (/^-?\d+(?:\.\d+)?$/.test(t)) return Number(t);
  if (/^'(?:[^']|'')*'$/.test(t)) return t.slice(1, -1).replaceAll("''", "'");
  if (/^(?:true|false)$/i.test(t)) return t.toLowerCase() === "true";
  if (/^null$/i.test(t)) return null;
  return undefined;
};

/**
 * Runs `sql` against the fake read-only replica.
 *
 * Only a single `SELECT` is accepted; anything else is refused the way a Postgres hot standby
 * refuses it. The demo understands `SELECT <*|count(*)|columns> FROM <table> [WHERE col = value
 * [AND ...]] [ORDER BY col [ASC|DESC]] [LIMIT n]` and a table-less `SELECT 1` / `SELECT version()`.
 */
export const queryReplica = (sql: string): QueryOutcome => {
  const text = sql
    .replace(/--[^\n]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .trim()
    .replace(/[;\s]+$/, "");
  if (text === "") return fail("ERROR: empty query");
  if (text.includes(";")) return fail("ERROR: cannot insert multiple commands into a prepared statement");
  const keyword = (/^[a-z]+/i.exec(text)?.[0] ?? "").toUpperCase();
  if (keyword !== "SELECT") {
    return fail(`ERROR: cannot execute ${keyword || "this statement"} in a read-only transaction (postgres-ro is a read replica)`);
  }
  const shape = SELECT_SHAPE.exec(text)?.groups;
  if (shape === undefined || shape.list === undefined) return fail(`ERROR: the demo replica cannot parse: ${text}`);
  const list = shape.list.trim();

  if (shape.table === undefined) {
    if (/^version\(\)$/i.test(list)) return { ok: true, command: "SELECT", columns: ["version"], rows: [{ version: "PostgreSQL 16.2 (demo read replica)" }] };
    const value = literal(list);
    if (value === undefined) return fail(`ERROR: the demo replica cannot evaluate: ${list}`);
    return { ok: true, command: "SELECT", columns: ["?column?"], rows: [{ "?column?": value }] };
  }

  const tableName = shape.table.toLowerCase().replace(/^public\./, "");
  const table = TABLES[tableName];
  if (table === undefined) return fail(`ERROR: relation "${shape.table}" does not exist`);
  const known = (column: string): boolean => table.columns.includes(column);

  let rows: Row[] = [...table.rows];
  if (shape.where !== undefined) {
    for (const clause of shape.where.split(/\s+and\s+/i)) {
      const m = /^([a-z_][a-z0-9_]*)\s*=\s*(.+)$/is.exec(clause.trim());
      const column = m?.[1]?.toLowerCase();
      const value = m?.[2] === undefined ? undefined : literal(m[2]);
      if (column === undefined || value === undefined) return fail(`ERROR: the demo replica supports only WHERE column = value [AND ...], got: ${clause.trim()}`);
      if (!known(column)) return fail(`ERROR: column "${column}" does not exist`);
      rows = rows.filter((row) => row[column] === value);
    }
  }
  if (shape.order !== undefined) {
    const column = shape.order.toLowerCase();
    if (!known(column)) return fail(`ERROR: column "${column}" does not exist`);
    const sign = shape.dir?.toLowerCase() === "desc" ? -1 : 1;
    rows.sort((a, b) => {
      const x = a[column] ?? "";
      const y = b[column] ?? "";
      return x < y ? -sign : x > y ? sign : 0;
    });
  }
  if (/^count\(\s*\*\s*\)$/i.test(list)) {
    const counted: Row[] = [{ count: rows.length }];
    return { ok: true, command: "SELECT", columns: ["count"], rows: shape.limit !== undefined && Number(shape.limit) === 0 ? [] : counted };
  }
  if (shape.limit !== undefined) rows = rows.slice(0, Number(shape.limit));
  if (list === "*") return { ok: true, command: "SELECT", columns: table.columns, rows };
  const columns = list.split(",").map((c) => c.trim().toLowerCase());
  for (const column of columns) {
    if (!/^[a-z_][a-z0-9_]*$/.test(column)) return fail(`ERROR: the demo replica supports only plain column names, got: ${column}`);
    if (!known(column)) return fail(`ERROR: column "${column}" does not exist`);
  }
  return {
    ok: true,
    command: "SELECT",
    columns,
    rows: rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null]))),
  };
};
