#!/usr/bin/env node
/**
 * The `sentinel` command.
 *
 *   sentinel start   [--config FILE] [--data-dir DIR] [--host H] [--port N]
 *   sentinel gateway --config FILE [--host H] [--port N]
 *   sentinel apply   -f FILE [--data-dir DIR]
 *   sentinel validate -f FILE
 *   sentinel bridge  --connection NAME [--url URL] [--api-key KEY] [--user U] [--metadata JSON]
 *   sentinel keys create
 *   sentinel policy test|replay …   (see policy-command.ts)
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { HEADERS, mcpPath } from "../../sdk/ts/src/wire.js";
import { generateApiKey } from "../auth/api-keys.js";
import { loadConfigFile } from "../config/load-config.js";
import { SentinelConfigError } from "../errors.js";
import { RecordedCallError } from "../policy/recorded-calls.js";
import { startGateway } from "../server.js";
import { runBridge } from "./bridge.js";
import { PolicyUsageError, runPolicyCommand } from "./policy-command.js";
import { demoKeyPath, ensureDataDir, ensureDemo, writeActiveConfig } from "./data-dir.js";

const USAGE = `usage: sentinel <command> [options]

commands:
  start      the gateway on the embedded data dir; serves the demo config on first run
  gateway    the data plane alone, on a config file
  apply      validate a config file and make it the active config of a data dir (a running gateway reloads it)
  validate   check a config file and report the first error with its path
  bridge     stdio <-> gateway bridge for stdio-only MCP hosts
  policy     'policy test' explains a hypothetical call; 'policy replay' runs a draft over recorded calls
  keys       'keys create' prints a new API key and the hash to put in the config

common options:
  --config FILE     config file (start, gateway)
  --data-dir DIR    embedded data directory (default .sentinel)
  --host HOST       listen address (default from config, 127.0.0.1)
  --port N          listen port (default from config, 8080)
`;

const options = {
  config: { type: "string" },
  file: { type: "string", short: "f" },
  "data-dir": { type: "string", default: ".sentinel" },
  host: { type: "string" },
  port: { type: "string" },
  connection: { type: "string" },
  url: { type: "string", default: "http://127.0.0.1:8080" },
  "api-key": { type: "string" },
  user: { type: "string" },
  metadata: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "policy") return runPolicyCommand(argv.slice(1), (s) => process.stdout.write(s));
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
  const [command, sub] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const port = values.port === undefined ? undefined : parsePort(values.port);

  switch (command) {
    case "start":
    case "gateway": {
      let configPath = values.config;
      let demoKey: string | undefined;
      if (configPath === undefined) {
        if (command === "gateway") throw new UsageError("gateway needs --config FILE");
        const dataDir = ensureDataDir(values["data-dir"]);
        const demo = ensureDemo(dataDir);
        configPath = demo.configPath;
        demoKey = demo.apiKey;
      }
      const running = await startGateway({ config: configPath, host: values.host, port, log: (l) => process.stderr.write(`sentinel: ${l}\n`) });
      const out = process.stdout;
      out.write(`Sentinel gateway listening on ${running.url}\n`);
      out.write(`  config   ${configPath}\n`);
      for (const [tenant, t] of running.gateway.runtime.tenants) {
        for (const name of t.connections.keys()) out.write(`  mcp      ${running.url}${mcpPath(name)}   (tenant ${tenant})\n`);
      }
      out.write(`  health   ${running.url}/healthz   metrics ${running.url}/metrics\n`);
      if (demoKey !== undefined) {
        out.write(`\nDemo API key (also in ${demoKeyPath(values["data-dir"])}):\n  ${demoKey}\n`);
        out.write(`Try it:  node --import tsx examples/agent.ts\n`);
        out.write(`Headers: Authorization: Bearer <key>, ${HEADERS.user}: alice@acme.com, ${HEADERS.metadata}: {"role":"developer"}\n`);
      }
      const stop = async () => {
        process.stderr.write("sentinel: shutting down\n");
        await running.close();
        process.exit(0);
      };
      process.once("SIGINT", () => void stop());
      process.once("SIGTERM", () => void stop());
      return -1;
    }
    case "apply": {
      if (values.file === undefined) throw new UsageError("apply needs -f FILE");
      const dataDir = ensureDataDir(values["data-dir"]);
      const target = writeActiveConfig(dataDir, readFileSync(values.file, "utf8"), values.file);
      process.stdout.write(`applied ${values.file} -> ${target}\n`);
      return 0;
    }
    case "validate": {
      if (values.file === undefined) throw new UsageError("validate needs -f FILE");
      const config = loadConfigFile(values.file);
      const rules = config.tenants.reduce((n, t) => n + (t.policies?.length ?? 0), 0);
      process.stdout.write(`${values.file}: valid (${config.tenants.length} tenants, ${rules} rules)\n`);
      return 0;
    }
    case "bridge": {
      if (values.connection === undefined) throw new UsageError("bridge needs --connection NAME");
      const apiKey = values["api-key"] ?? process.env.SENTINEL_API_KEY ?? readDemoKey(values["data-dir"]);
      if (apiKey === undefined) throw new UsageError("bridge needs --api-key, SENTINEL_API_KEY, or a demo key in the data dir");
      await runBridge({ url: values.url, connection: values.connection, apiKey, user: values.user, metadata: values.metadata });
      return -1;
    }
    case "keys": {
      if (sub !== "create") throw new UsageError("usage: sentinel keys create");
      const { key, hash } = generateApiKey();
      process.stdout.write(`key:  ${key}\nhash: ${hash}\n(the key is shown once; put the hash under a tenant's apiKeys)\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

class UsageError extends Error {}

function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, not "${text}"`);
  return n;
}

function readDemoKey(dataDir: string): string | undefined {
  try {
    return readFileSync(demoKeyPath(dataDir), "utf8").trim();
  } catch {
    return undefined;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof SentinelConfigError) process.stderr.write(`sentinel: invalid config: ${err.message}\n`);
    else if (err instanceof UsageError || err instanceof PolicyUsageError || err instanceof RecordedCallError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`sentinel: ${(err as Error).message}\n`);
    }
    else process.stderr.write(`sentinel: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(err instanceof UsageError || err instanceof PolicyUsageError || err instanceof RecordedCallError || err instanceof SentinelConfigError ? 2 : 1);
  },
);
