/**
 * The configuration Sentinel is benchmarked with: one tenant, one API key, one connection to
 * the bench upstream (over HTTP, or to its stdio build), and a policy of N rules (1,000 by default) shaped like a large real
 * one rather than a best case.
 *
 * The allowing rule for `echo` sits near the end, so a call walks almost the whole policy
 * first. Exact-name rules can be indexed by name and cost nothing for other names, so three
 * quarters of the rules before it are patterns (prefix wildcards, alternatives, character
 * classes) that an engine must actually try against `echo`.
 * A few wildcards do match `echo` and are only ruled out by their conditions, so condition
 * evaluation is on the path as well. Kept separate from the target script so the policy
 * micro-benchmarks can evaluate the very same rule set.
 */
import type { ConditionConfig, PolicyConfig, SentinelConfig } from "../../engine/config/types.js";
import { parseConfig } from "../../engine/config/load-config.js";

export const BENCH_TENANT = "bench";
export const BENCH_CONNECTION = "echo";
export const BENCH_USER = "bench@example.com";
export const BENCH_METADATA = { role: "developer" } as const;

/** How many rules before the allowing one match `echo` by pattern but fail on conditions. */
const DECOYS = 5;
/** How many rules follow the allowing one. */
const AFTER_ALLOW = 9;

export function benchPolicies(count: number, tool = "echo"): PolicyConfig[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`the rule count must be a positive integer, not ${count}`);
  const allowAt = Math.max(0, count - 1 - AFTER_ALLOW);
  const decoysFrom = Math.max(0, allowAt - DECOYS);
  const rules: PolicyConfig[] = [];
  for (let i = 0; i < count; i++) {
    if (i === allowAt) {
      rules.push({
        id: `allow-${tool}`,
        description: "the one tool the bench calls",
        target: "mcp.tool",
        pattern: tool,
        conditions: [{ field: "role", op: "in", value: ["developer", "admin"] }],
        action: "allow",
      });
    } else if (i >= decoysFrom && i < allowAt) {
      // Matches the called tool's name; the contractor-only condition rules it out.
      rules.push({
        id: `decoy-${i}`,
        target: "mcp.tool",
        pattern: `${tool.slice(0, 2)}*`,
        conditions: [{ field: "role", op: "eq", value: "contractor" }, { field: "user", op: "exists" }],
        action: "deny",
      });
    } else {
      rules.push(otherRule(i));
    }
  }
  return rules;
}

/** A deny rule on names the bench never calls, cycling through the shapes real policies use. */
function otherRule(i: number): PolicyConfig {
  const byRole: ConditionConfig = { field: "role", op: "eq", value: "contractor" };
  const byUser: ConditionConfig = { field: "user", op: "in", value: [`user${i}@example.com`, `ops${i}@example.com`] };
  switch (i % 4) {
    case 0:
      return { id: `deny-exact-${i}`, target: "mcp.tool", pattern: `crm.record_${i}.delete`, conditions: [byRole], action: "deny" };
    case 1:
      return { id: `deny-prefix-${i}`, target: "mcp.tool", pattern: `billing_${i}.*`, conditions: [byUser], action: "deny" };
    case 2:
      return {
        id: `deny-alternatives-${i}`,
        target: "mcp.tool",
        pattern: `repo_${i}.{delete,force_push,transfer}`,
        conditions: [{ anyOf: [byRole, { field: "metadata.department", op: "eq", value: "finance" }] }],
        action: "deny",
      };
    default:
      return {
        id: `deny-class-${i}`,
        target: "mcp.tool",
        pattern: `*_v[0-9]_${i}`,
        conditions: [{ field: "role", op: "neq", value: "admin" }],
        action: "deny",
      };
  }
}

/** The bench upstream over Streamable HTTP, or the stdio build started per session. */
export type BenchUpstream = { readonly url: string } | { readonly command: string; readonly args: readonly string[]; readonly cwd: string };

/**
 * What of the pipeline runs: `full` is the configuration — the policy, Content Guard
 * with every default built-in pattern on the arguments, a bearer credential injected into every
 * upstream request from the vault, and the audit trail (spool, hash chain, signatures); `policy`
 * is API key, session identity and policy only, with audit off.
 */
export type BenchPipeline = "full" | "policy";

/** The credential the full pipeline injects; its secret is seeded into the bench's vault. */
export const BENCH_CREDENTIAL = "echo-token";

export interface BenchConfigOptions {
  readonly upstream: BenchUpstream;
  readonly keyHash: string;
  readonly rules: number;
  readonly pipeline: BenchPipeline;
  readonly port?: number;
}

/** The full config, passed through the same schema and semantic checks as a config file. */
export function benchConfig(options: BenchConfigOptions): SentinelConfig {
  const full = options.pipeline === "full";
  const credential = full ? { credential: BENCH_CREDENTIAL } : {};
  const raw = {
    version: 1,
    server: { host: "127.0.0.1", port: options.port ?? 0 },
    ...(full ? {} : { audit: { enabled: false } }),
    tenants: [
      {
        id: BENCH_TENANT,
        name: "Bench",
        apiKeys: [{ id: "bench-key", hash: options.keyHash, description: "bench load generator" }],
        connections: [
          "url" in options.upstream
            ? { name: BENCH_CONNECTION, transport: "http", url: options.upstream.url, timeoutMs: 30_000, ...credential }
            : { name: BENCH_CONNECTION, transport: "stdio", command: options.upstream.command, args: [...options.upstream.args], cwd: options.upstream.cwd, timeoutMs: 30_000, ...credential },
        ],
        policies: benchPolicies(options.rules),
        ...(full
          ? {
              // HTTP: an Authorization header on every upstream request; stdio: the child's environment.
              credentials: [
                {
                  name: BENCH_CREDENTIAL,
                  type: "bearer",
                  connections: [BENCH_CONNECTION],
                  ...("url" in options.upstream ? {} : { envVar: "ECHO_TOKEN" }),
                  description: "injected into every upstream request",
                },
              ],
              guard: { builtins: ["*"] },
            }
          : {}),
      },
    ],
  };
  // JSON is YAML, so the config file loader validates this exactly as it would a file.
  return parseConfig(JSON.stringify(raw), "<bench config>", { env: {} });
}
