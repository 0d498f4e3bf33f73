/**
 * Sentinel as a bench target: the real gateway (startGateway, the same code `sentinel gateway`
 * runs) on the bench config — API key auth, session identity, a 1,000-rule policy and one
 * connection to the bench upstream: over HTTP (`--upstream URL`), or, with `--stdio`, to the
 * stdio build of the echo server, one child per session, as the peer proxies get it. It
 * generates a fresh API key and hands it to the parent with its address.
 *
 * `--pipeline full` (the default) adds Content Guard, credential injection from the vault and
 * the audit trail (sentinel-config.ts); `--pipeline policy` leaves them out.
 *
 *   node --import tsx bench/targets/sentinel.ts --upstream http://127.0.0.1:PORT/mcp [--port 0] [--rules 1000] [--pipeline full]
 *   node --import tsx bench/targets/sentinel.ts --stdio [--port 0] [--rules 1000] [--pipeline full]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateApiKey } from "../../engine/auth/api-keys.js";
import { startGateway } from "../../engine/server.js";
import { KeyRing } from "../../engine/vault/key-ring.js";
import { DEFAULT_VAULT_FILE, storeVersion } from "../../engine/vault/vault-file.js";
import { mcpPath } from "../../sdk/ts/src/wire.js";
import { announceReady, argValue, serveControl } from "../lib/child-side.js";
import { REPO_ROOT } from "../lib/processes.js";
import { ECHO_STDIO_COMMAND } from "./peers.js";
import { BENCH_CONNECTION, BENCH_CREDENTIAL, BENCH_TENANT, benchConfig, type BenchPipeline, type BenchUpstream } from "./sentinel-config.js";

const rules = Number(argValue("rules", "1000"));
const upstream: BenchUpstream = process.argv.includes("--stdio")
  ? { command: ECHO_STDIO_COMMAND.command, args: ECHO_STDIO_COMMAND.args, cwd: REPO_ROOT }
  : { url: argValue("upstream", "http://127.0.0.1:8081/mcp") };
const pipeline = argValue("pipeline", "full") as BenchPipeline;
if (pipeline !== "full" && pipeline !== "policy") throw new Error(`--pipeline must be full or policy, not ${pipeline}`);
const { key, hash } = generateApiKey();
const config = benchConfig({ upstream, keyHash: hash, rules, pipeline, port: Number(argValue("port", "0")) });

// The full pipeline needs a data dir: the vault (root key file, the seeded secret) and the
// audit spool live there, as they would under `sentinel gateway`. A fresh one per run.
let dataDir: string | undefined;
if (pipeline === "full") {
  dataDir = mkdtempSync(join(tmpdir(), "sentinel-bench-"));
  const ring = KeyRing.open(config.vault, dataDir, true);
  try {
    await storeVersion(ring, join(dataDir, DEFAULT_VAULT_FILE), BENCH_TENANT, BENCH_CREDENTIAL, `bench_${randomBytes(24).toString("hex")}`, "bench");
  } finally {
    await ring.close();
  }
}

const gateway = await startGateway({ config, ...(dataDir === undefined ? {} : { dataDir }) });
serveControl(async () => {
  await gateway.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});
announceReady({
  port: gateway.port,
  url: gateway.url + mcpPath(BENCH_CONNECTION),
  metricsUrl: `${gateway.url}/metrics`,
  apiKey: key,
  rules: gateway.gateway.runtime.tenants.get(config.tenants[0]!.id)?.policy.ruleCount ?? 0,
  pipeline,
});
