/**
 * The quick-start agent: open a governed connection to `github-prod` as alice (a developer),
 * read a repository (allowed), then try to delete it (denied by policy).
 *
 *   node --import tsx examples/agent.ts
 *
 * The API key comes from IGRIS_API_KEY, or from `.sentinel/demo-api-key` when that is unset;
 * the gateway address from SENTINEL_URL (default http://127.0.0.1:8080).
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Igris, SentinelError, TransportError } from "../sdk/ts/src/index.js";
import type { CallToolResult } from "../sdk/ts/src/index.js";

const KEY_FILE = new URL("../.sentinel/demo-api-key", import.meta.url);

const apiKey = (): string | undefined => {
  if (process.env.IGRIS_API_KEY !== undefined && process.env.IGRIS_API_KEY !== "") return process.env.IGRIS_API_KEY;
  try {
    return readFileSync(KEY_FILE, "utf8").trim();
  } catch {
    return undefined;
  }
};

/** The first line or so of a tool result's text, for the console. */
const preview = (result: CallToolResult, max = 100): string => {
  const text = result.content
    .map((c) => (c.type === "text" ? c.text : `[${c.type}]`))
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

/** Runs one governed call and prints its verdict. Resolves to "allow" or "deny". */
const governed = async (label: string, call: () => Promise<CallToolResult>): Promise<"allow" | "deny"> => {
  const started = performance.now();
  try {
    const result = await call();
    const ms = (performance.now() - started).toFixed(1);
    const note = result.isError === true ? " (the tool reported an error)" : "";
    console.log(`✓ allow · ${ms}ms · ${label} → ${preview(result)}${note}`);
    return "allow";
  } catch (error) {
    if (!(error instanceof SentinelError)) throw error;
    const rule = error.ruleId === undefined ? "" : ` (rule ${error.ruleId})`;
    const trace = error.traceId === undefined ? "" : ` · trace ${error.traceId}`;
    console.log(`✗ deny · ${error.reason}${rule} · ${label}${trace}`);
    return "deny";
  }
};

const main = async (): Promise<number> => {
  const key = apiKey();
  if (key === undefined) {
    console.error(`No API key: set IGRIS_API_KEY, or start the gateway once so it writes ${KEY_FILE.pathname}.`);
    return 1;
  }

  // 1. Three lines, as in the quick-start.
  const igris = new Igris({ apiKey: key, baseUrl: process.env.SENTINEL_URL ?? "http://127.0.0.1:8080" });

  // 2. Open a governed MCP connection for the current user.
  const mcp = await igris.connectStdio("github-prod", {
    user: "alice@acme.com",
    metadata: { role: "developer", tenant: "acme" },
  });

  try {
    // 3. Every tool call is now governed.
    const read = await governed("repo.read acme/api", () => mcp.call("repo.read", { repo: "acme/api" }));
    const del = await governed("repo.delete acme/api", () => mcp.call("repo.delete", { repo: "acme/api" }));
    if (read !== "allow" || del !== "deny") {
      console.error("Unexpected verdicts: the demo policy allows repo.read and denies repo.delete for developers.");
      return 1;
    }
    return 0;
  } finally {
    await mcp.close();
  }
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof TransportError) {
      console.error(`${error.message}\nIs the gateway running? Start it with \`npm start\` (or set SENTINEL_URL).`);
    } else if (error instanceof SentinelError) {
      console.error(`Sentinel refused the connection: ${error.code}: ${error.reason}`);
    } else {
      console.error(error);
    }
    process.exitCode = 1;
  },
);
