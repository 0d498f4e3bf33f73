#!/usr/bin/env node
/**
 * The `sentinel` command.
 *
 *   sentinel start   [--config FILE] [--data-dir DIR] [--host H] [--port N] [--admin-host H] [--admin-port N]
 *   sentinel gateway --config FILE | --database-url URL [--host H] [--port N]
 *   sentinel admin   [--database-url URL] [--admin-host H] [--admin-port N]
 *   sentinel apply   -f FILE [--data-dir DIR | --database-url URL], sentinel export, sentinel admin-token …
 *                    (see store-commands.ts)
 *   sentinel validate -f FILE
 *   sentinel bridge  --connection NAME [--url URL] [--api-key KEY] [--user U] [--metadata JSON]
 *   sentinel keys create
 *   sentinel policy test|replay …   (see policy-command.ts)
 *   sentinel vault put|rotate|list|rewrap …   (see vault-cli.ts)
 *   sentinel audit verify|query|dead-letters|export-kafka …, sentinel migrate   (see audit-command.ts)
 */
import { readFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { parseArgs } from "node:util";
import { mcpPath } from "../../sdk/ts/src/wire.js";
import { generateApiKey } from "../auth/api-keys.js";
import { loadConfigFile } from "../config/load-config.js";
import { SentinelConfigError } from "../errors.js";
import { RecordedCallError } from "../policy/recorded-calls.js";
import { startGateway } from "../server.js";
import { runBridge } from "./bridge.js";
import { runVaultCli, VaultUsageError } from "./vault-cli.js";
import { PolicyUsageError, runPolicyCommand } from "./policy-command.js";
import { AuditUsageError, runAuditCommand, runMigrateCommand } from "./audit-command.js";
import { demoKeyPath } from "./data-dir.js";
import { runAdmin, runAdminTokenCommand, runApply, runExport, runStart, runStoreGateway, StoreUsageError, type ServeOptions } from "./store-commands.js";
import { AdminClientError } from "./admin-client.js";
import { NoLiveConfigError } from "./live-config.js";
import { StoreLockedError } from "../store/shared-embedded.js";

const USAGE = `usage: sentinel <command> [options]

commands:
  start      gateway + admin API (127.0.0.1:8081/graphql) on the data dir's embedded store; the first
             run serves the demo config and prints a demo API key and owner admin token
  gateway    the data plane alone: on a config file (--config), or following a Postgres store
             (--database-url URL or DATABASE_URL)
  admin      the GraphQL admin API alone, on Postgres (--database-url URL or DATABASE_URL)
  apply      validate a config file and make it the store's current config version (running gateways
             publish it within a second); --comment C
  export     print the current config (or --version N) as YAML; -o FILE to write it
  admin-token  create --role owner|admin|auditor [--tenant T] [--id ID] | list | revoke --id ID
  validate   check a config file and report the first error with its path
  bridge     stdio <-> gateway bridge for stdio-only MCP hosts
  policy     'policy test' explains a hypothetical call; 'policy replay' runs a draft over recorded calls
  keys       'keys create' prints a new API key and the hash to put in the config
  audit      verify [--source spool|store|kafka-file FILE] [--from --to] checks chain and signatures;
             query --tenant T …; dead-letters list|replay; export-kafka --brokers B --topic T --out F
  migrate    bring the store's schema up to date (--database-url URL, or the data dir's config)
  vault      put|rotate a credential's secret (--secret-file F, or - for stdin), list versions and
             days to rotate, rewrap data keys under the configured root key

common options:
  --config FILE     config file (start, gateway)
  --data-dir DIR    embedded data directory (default .sentinel)
  --database-url U  a Postgres store (gateway, admin, apply, export, admin-token; default DATABASE_URL
                    unless --data-dir is given)
  --admin-host H, --admin-port N   where the admin API listens (default 127.0.0.1:8081)
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
  tenant: { type: "string" },
  credential: { type: "string" },
  "secret-file": { type: "string" },
  "new-root-key": { type: "boolean", default: false },
  "retire-old": { type: "boolean", default: false },
  "database-url": { type: "string" },
  "admin-host": { type: "string" },
  "admin-port": { type: "string" },
  "admin-token": { type: "string" },
  comment: { type: "string" },
  out: { type: "string", short: "o" },
  version: { type: "string" },
  role: { type: "string" },
  id: { type: "string" },
  description: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "policy") return runPolicyCommand(argv.slice(1), (s) => process.stdout.write(s));
  if (argv[0] === "audit") return runAuditCommand(argv.slice(1), (s) => process.stdout.write(s));
  if (argv[0] === "migrate") return runMigrateCommand(argv.slice(1), (s) => process.stdout.write(s));
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
  const [command, sub] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const port = values.port === undefined ? undefined : parsePort(values.port);
  const store: ServeOptions = {
    dataDir: values["data-dir"],
    explicitDataDir: argv.some((a) => a === "--data-dir" || a.startsWith("--data-dir=")),
    databaseUrl: values["database-url"],
    adminToken: values["admin-token"],
    host: values.host,
    port,
    adminHost: values["admin-host"],
    adminPort: values["admin-port"] === undefined ? undefined : parsePort(values["admin-port"]),
    log: (l) => process.stderr.write(`sentinel: ${l}\n`),
  };
  const print = (s: string) => process.stdout.write(s);

  switch (command) {
    case "start":
    case "gateway":
    case "admin": {
      if (values.config !== undefined && command === "admin") throw new UsageError("admin works on the store, not on a config file");
      if (values.config === undefined) {
        // The config lives in the store: the data dir's embedded one, or Postgres.
        const stopStore = command === "start" ? await runStart(store, print) : command === "gateway" ? await runStoreGateway(store, print) : await runAdmin(store, print);
        const stopAll = async () => {
          process.stderr.write("sentinel: shutting down\n");
          await stopStore();
          process.exit(0);
        };
        process.once("SIGINT", () => void stopAll());
        process.once("SIGTERM", () => void stopAll());
        return -1;
      }
      // --config FILE: the file is the config, watched for changes (no store, no admin API).
      const configPath = values.config;
      const running = await startGateway({
        config: configPath,
        host: values.host,
        port,
        dataDir: resolvePath(values["data-dir"]),
        auditStore: command === "start" ? "embedded" : "none",
        log: (l) => process.stderr.write(`sentinel: ${l}\n`),
      });
      const out = process.stdout;
      out.write(`Sentinel gateway listening on ${running.url}\n`);
      out.write(`  config   ${configPath}\n`);
      for (const [tenant, t] of running.gateway.runtime.tenants) {
        for (const [name, c] of t.connections) {
          out.write(c.transport === "llm" ? `  llm      ${running.url}/llm/${encodeURIComponent(name)}/v1   (tenant ${tenant})\n` : `  mcp      ${running.url}${mcpPath(name)}   (tenant ${tenant})\n`);
        }
      }
      out.write(`  health   ${running.url}/healthz   metrics ${running.url}/metrics\n`);
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
      return runApply({ ...store, file: values.file, comment: values.comment }, print);
    }
    case "export": {
      const version = values.version === undefined ? undefined : Number(values.version);
      if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw new UsageError(`--version must be a positive integer, not "${values.version}"`);
      return runExport({ ...store, outFile: values.out, version }, print);
    }
    case "admin-token":
      return runAdminTokenCommand(sub, { ...store, id: values.id, role: values.role, tenant: values.tenant, description: values.description }, print);
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
    case "vault": {
      const vaultOptions = {
        dataDir: values["data-dir"],
        config: values.config ?? values.file,
        tenant: values.tenant,
        credential: values.credential,
        secretFile: values["secret-file"],
        newRootKey: values["new-root-key"],
        retireOld: values["retire-old"],
      };
      try {
        return await runVaultCli(sub, vaultOptions, (line) => process.stdout.write(line + "\n"));
      } catch (err) {
        if (err instanceof VaultUsageError) throw new UsageError(err.message);
        throw err;
      }
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

class UsageError extends Error {}

/** Operator-facing vault faults: the message says what to do; a stack trace would only bury it. */
const VAULT_ERRORS = new Set(["RootKeyError", "VaultFileError", "VaultIntegrityError", "CredentialUnavailableError"]);

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
    else if (err instanceof UsageError || err instanceof PolicyUsageError || err instanceof AuditUsageError || err instanceof RecordedCallError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`sentinel: ${(err as Error).message}\n`);
    }
    else if (VAULT_ERRORS.has((err as Error).name)) process.stderr.write(`sentinel: vault: ${(err as Error).message}\n`);
    else if (err instanceof StoreUsageError || err instanceof StoreLockedError || err instanceof AdminClientError || err instanceof NoLiveConfigError) process.stderr.write(`sentinel: ${err.message}\n`);
    else process.stderr.write(`sentinel: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(err instanceof UsageError || err instanceof PolicyUsageError || err instanceof AuditUsageError || err instanceof RecordedCallError || err instanceof SentinelConfigError || err instanceof StoreUsageError ? 2 : 1);
  },
);
