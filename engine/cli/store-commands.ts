/**
 * The commands that work on the config store:
 *
 *   sentinel start   [--data-dir D] [--host H] [--port N] [--admin-host H] [--admin-port N]
 *       gateway + admin API in one process on the data dir's embedded store; the first start
 *       seeds it (the demo config, or an older data dir's sentinel.yaml) and prints the demo
 *       API key and owner token
 *   sentinel gateway --database-url URL (or DATABASE_URL) [--data-dir D] [--host H] [--port N]
 *   sentinel admin   --database-url URL (or DATABASE_URL; or --data-dir D for an embedded store
 *                    no gateway holds) [--admin-host H] [--admin-port N]
 *   sentinel apply   -f FILE [--comment C] [--data-dir D | --database-url URL]
 *   sentinel export  [-o FILE] [--version N] [--data-dir D | --database-url URL]
 *   sentinel admin-token create --role owner|admin|auditor [--tenant T] [--id ID] [--description D]
 *   sentinel admin-token list | revoke --id ID
 *
 * The store: `--database-url` is Postgres; an explicit `--data-dir` is that dir's embedded store;
 * otherwise DATABASE_URL when set, else `.sentinel`. A data dir whose store a running `start`
 * holds is reached through that process's admin API (admin-client.ts).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { adminChange } from "../audit/admin-change.js";
import { resolveAudit } from "../audit/audit-config.js";
import type { AuditLog } from "../audit/audit-log.js";
import { openAuditWithVault } from "../audit/open-audit.js";
import { ADMIN_AUDIT_DIR } from "../audit/signing-key.js";
import { lockHolder } from "../audit/spool-files.js";
import type { SentinelConfig } from "../config/types.js";
import { documentFromText, documentToYaml, loadDocument, validateDocument, type ConfigDocument } from "../config-store/config-document.js";
import { ConfigVersions } from "../config-store/config-versions.js";
import { startStoreGateway, versionLabel, withStoreDefaults } from "../config-store/store-gateway.js";
import { openStore, type StoreSpec } from "../store/open-store.js";
import { embeddedStoreHolder } from "../store/shared-embedded.js";
import type { Store } from "../store/store.js";
import { Vault } from "../vault/vault.js";
import { hashApiKey } from "../auth/api-keys.js";
import { ADMIN_ROLES, AdminTokens, DEMO_TOKEN_ID, type AdminRole } from "../../admin/admin-tokens.js";
import { inProcessDecisions, postgresDecisions } from "../../admin/feeds/decision-feed.js";
import { ADMIN_DEFAULT_PORT, startAdminServer } from "../../admin/server.js";
import { adminRequest, writeAdminEndpoint } from "./admin-client.js";
import { activeConfigPath, demoAdminTokenPath, demoConfig, demoKeyPath, embeddedStoreDir, ensureDataDir } from "./data-dir.js";

export class StoreUsageError extends Error {}

export interface StoreOptions {
  readonly dataDir: string;
  /** Whether --data-dir was given (it then wins over DATABASE_URL). */
  readonly explicitDataDir: boolean;
  readonly databaseUrl?: string;
  readonly adminToken?: string;
  readonly log: (line: string) => void;
}

type Out = (text: string) => void;

const cliUser = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli:unknown";
  }
};

/** Which store a command uses (see the header). `envFallback` is false for `start`, always embedded. */
export function storeSpec(o: StoreOptions, envFallback = true): StoreSpec {
  if (o.databaseUrl !== undefined) return { kind: "postgres", url: o.databaseUrl };
  const env = process.env.DATABASE_URL;
  if (envFallback && !o.explicitDataDir && env !== undefined && env !== "") return { kind: "postgres", url: env };
  return { kind: "embedded", dir: embeddedStoreDir(ensureDataDir(o.dataDir)) };
}

const describeSpec = (spec: StoreSpec) => (spec.kind === "embedded" ? `embedded store ${spec.dir}` : "postgres");

async function withStore<T>(spec: StoreSpec, fn: (store: Store, versions: ConfigVersions) => Promise<T>): Promise<T> {
  const store = await openStore(spec);
  try {
    return await fn(store, new ConfigVersions(store));
  } finally {
    await store.close();
  }
}

/** The live process holding this embedded store, if any (then go through its admin API). */
const holderOf = (spec: StoreSpec): number | undefined => (spec.kind === "embedded" ? embeddedStoreHolder(spec.dir) : undefined);

/**
 * Records a CLI change in the data dir's audit spool when no process holds it; otherwise says
 * where the change is kept (config_versions always has the author and time).
 */
async function recordCliChange(dataDir: string, who: string, before: ConfigDocument | undefined, after: ConfigDocument): Promise<string> {
  const config = loadDocument(after, "config");
  const resolved = resolveAudit(config.audit, dataDir, "embedded");
  if (resolved === undefined) return "audit disabled: no admin record";
  const holder = lockHolder(resolved.dir);
  if (holder !== undefined) return `the spool in ${resolved.dir} is held by process ${holder}; the version keeps author ${who}`;
  const audit = await openAuditWithVault({ ...resolved, store: undefined, kafka: undefined, alerts: undefined }, config, dataDir, (l) => process.stderr.write(`sentinel: ${l}\n`));
  audit.recordAdminChange(adminChange(who, before as SentinelConfig | undefined, after as unknown as SentinelConfig));
  await audit.close();
  return `admin change recorded in ${resolved.dir} (seq ${audit.chainHead.seq - 1})`;
}

const APPLY_MUTATION = `mutation Apply($document: JSON!, $comment: String) { applyConfig(document: $document, comment: $comment) { version author } }`;
const EXPORT_QUERY = `query Export($version: Int!) { configVersion(version: $version) { version yaml } }`;
const CURRENT_QUERY = `query Current { config { version yaml } }`;

export async function runApply(o: StoreOptions & { readonly file: string; readonly comment?: string }, out: Out): Promise<number> {
  const doc = documentFromText(readFileSync(o.file, "utf8"), o.file);
  validateDocument(doc, o.file);
  const spec = storeSpec(o);
  const comment = o.comment ?? `sentinel apply -f ${o.file}`;
  const holder = holderOf(spec);
  if (holder !== undefined) {
    const data = await adminRequest<{ applyConfig: { version: number; author: string } }>(o.dataDir, holder, APPLY_MUTATION, { document: doc, comment }, o.adminToken);
    out(`applied ${o.file} -> config version ${data.applyConfig.version} through the admin API of process ${holder} (author ${data.applyConfig.author})\n`);
    out(`audit: recorded by process ${holder}\n`);
    return 0;
  }
  const who = cliUser();
  return withStore(spec, async (_store, versions) => {
    const committed = await versions.commit({ document: doc, author: who, comment });
    if (committed.unchanged) {
      out(`${o.file} is already the current config (version ${committed.version.version}) in the ${describeSpec(spec)}; nothing applied\n`);
      return 0;
    }
    out(`applied ${o.file} -> config version ${committed.version.version} in the ${describeSpec(spec)}\n`);
    out(`audit: ${await recordCliChange(ensureDataDir(o.dataDir), who, committed.previous, doc)}\n`);
    return 0;
  });
}

export async function runExport(o: StoreOptions & { readonly outFile?: string; readonly version?: number }, out: Out): Promise<number> {
  const spec = storeSpec(o);
  const holder = holderOf(spec);
  let yaml: string;
  let version: number;
  if (holder !== undefined) {
    const data =
      o.version === undefined
        ? (await adminRequest<{ config: { version: number; yaml: string } | null }>(o.dataDir, holder, CURRENT_QUERY, {}, o.adminToken)).config
        : (await adminRequest<{ configVersion: { version: number; yaml: string } }>(o.dataDir, holder, EXPORT_QUERY, { version: o.version }, o.adminToken)).configVersion;
    if (data === null) throw new StoreUsageError("the store has no config yet");
    ({ yaml, version } = data);
  } else {
    const found = await withStore(spec, (_s, versions) => (o.version === undefined ? versions.current() : versions.get(o.version)));
    if (found === undefined) throw new StoreUsageError(o.version === undefined ? "the store has no config yet" : `no config version ${o.version}`);
    yaml = documentToYaml(found.document);
    version = found.version;
  }
  if (o.outFile === undefined) out(yaml);
  else {
    writeFileSync(o.outFile, yaml, { mode: 0o600 });
    out(`exported config version ${version} to ${o.outFile}\n`);
  }
  return 0;
}

/** First start of a data dir: an older data dir's sentinel.yaml, else the demo config. */
async function seed(versions: ConfigVersions, dataDir: string, out: Out): Promise<void> {
  if ((await versions.headVersion()) > 0) return;
  const legacy = activeConfigPath(dataDir);
  if (existsSync(legacy)) {
    const doc = documentFromText(readFileSync(legacy, "utf8"), legacy);
    validateDocument(doc, legacy);
    await versions.commit({ document: doc, author: "import", comment: `imported from ${legacy}` });
    // One source of truth from now on: the file is kept for reference under another name.
    renameSync(legacy, `${legacy}.imported`);
    out(`imported ${legacy} into the embedded store (kept as ${legacy}.imported)\n`);
    return;
  }
  const demo = demoConfig(dataDir);
  const doc = documentFromText(demo.text, "examples/demo/sentinel.yaml");
  await versions.commit({ document: doc, author: "demo", comment: "the demo config (first start)" });
}

/** The demo API key, while the current config still accepts it. */
function activeDemoKey(dataDir: string, config: SentinelConfig): string | undefined {
  const file = demoKeyPath(dataDir);
  if (!existsSync(file)) return undefined;
  const key = readFileSync(file, "utf8").trim();
  const hash = hashApiKey(key);
  return config.tenants.some((t) => (t.apiKeys ?? []).some((k) => k.hash === hash && k.revoked !== true)) ? key : undefined;
}

export interface ServeOptions extends StoreOptions {
  readonly host?: string;
  readonly port?: number;
  readonly adminHost?: string;
  readonly adminPort?: number;
}

/** What a serving command started, stopped in reverse order (the store last). */
function shutdownList(first: () => Promise<void> | void) {
  const stops: Array<() => Promise<void> | void> = [first];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn();
  };
  return { stops, stop };
}

/** `sentinel start`: returns the function that stops everything. */
export async function runStart(o: ServeOptions, out: Out): Promise<() => Promise<void>> {
  const dataDir = ensureDataDir(o.dataDir);
  const spec = storeSpec(o, false);
  const store = await openStore(spec);
  const { stops, stop } = shutdownList(() => store.close());
  try {
    const versions = new ConfigVersions(store);
    await seed(versions, dataDir, out);
    const gw = await startStoreGateway({ versions, spec, dataDir, host: o.host, port: o.port, log: o.log });
    stops.push(() => gw.close());
    const gateway = gw.running.gateway;
    const tokens = new AdminTokens(store);
    const adminToken = await tokens.ensureDemoOwner(demoAdminTokenPath(dataDir));
    const admin = await startAdminServer({
      host: o.adminHost ?? "127.0.0.1",
      port: o.adminPort ?? ADMIN_DEFAULT_PORT,
      services: { store, versions, tokens, gateway, vault: gateway.vault, audit: gateway.audit, decisions: inProcessDecisions(gateway.audit), log: o.log },
    });
    stops.push(() => admin.close());
    stops.push(writeAdminEndpoint(dataDir, admin.url));
    out(`Sentinel gateway listening on ${gw.running.url}\n`);
    out(`  config   ${versionLabel(gw.follower.version)} (${describeSpec(spec)})\n`);
    for (const [tenant, t] of gateway.runtime.tenants) {
      for (const [name, c] of t.connections) {
        const kind = c.transport === "llm" ? "llm" : "mcp";
        out(`  ${kind}      ${gw.running.url}/${kind}/${encodeURIComponent(name)}${kind === "llm" ? "/v1" : ""}   (tenant ${tenant})\n`);
      }
    }
    out(`  health   ${gw.running.url}/healthz   metrics ${gw.running.url}/metrics\n`);
    out(`  admin    ${admin.url}   (GraphiQL in a browser)\n`);
    const demoKey = activeDemoKey(dataDir, gateway.runtime.source);
    if (demoKey !== undefined) {
      out(`\nDemo API key (also in ${demoKeyPath(dataDir)}):\n  ${demoKey}\n`);
      out(`Try it:  node --import tsx examples/agent.ts\n`);
      out(`Headers: Authorization: Bearer <key>, x-sentinel-user: alice@acme.com, x-sentinel-metadata: {"role":"developer"}\n`);
    }
    if (adminToken !== undefined) out(`\nDemo admin token, role owner (also in ${demoAdminTokenPath(dataDir)}):\n  ${adminToken}\n`);
    return stop;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `sentinel gateway` on the store: the data plane alone, following the store's head. */
export async function runStoreGateway(o: ServeOptions, out: Out): Promise<() => Promise<void>> {
  const spec = storeSpec(o);
  if (spec.kind !== "postgres") throw new StoreUsageError("gateway needs --config FILE, or --database-url URL (or DATABASE_URL)");
  const store = await openStore(spec);
  try {
    const gw = await startStoreGateway({ versions: new ConfigVersions(store), spec, dataDir: ensureDataDir(o.dataDir), host: o.host, port: o.port, log: o.log });
    out(`Sentinel gateway listening on ${gw.running.url}\n  config   ${versionLabel(gw.follower.version)} (postgres, following changes)\n`);
    return async () => {
      await gw.close();
      await store.close();
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The standalone admin's own audit spool (`<data dir>/admin-audit`), shipped like a gateway's. */
async function openAdminAudit(config: SentinelConfig, dataDir: string, spec: StoreSpec, log: (l: string) => void): Promise<AuditLog | undefined> {
  const resolved = resolveAudit(withStoreDefaults(config, spec).audit, dataDir, "embedded");
  if (resolved === undefined) return undefined;
  const dir = join(dataDir, ADMIN_AUDIT_DIR);
  return openAuditWithVault({ ...resolved, dir, signingKeyFile: join(dir, "signing-key.pem"), alerts: undefined }, config, dataDir, log);
}

/** `sentinel admin`: the admin API alone. */
export async function runAdmin(o: ServeOptions, out: Out): Promise<() => Promise<void>> {
  const spec = storeSpec(o);
  const dataDir = ensureDataDir(o.dataDir);
  const store = await openStore(spec);
  const { stops, stop } = shutdownList(() => store.close());
  try {
    const versions = new ConfigVersions(store);
    const current = await versions.current();
    const config = current === undefined ? undefined : loadDocument(current.document, versionLabel(current.version));
    const audit = config === undefined ? undefined : await openAdminAudit(config, dataDir, spec, o.log);
    if (audit !== undefined) stops.push(() => audit.close());
    const decisions = spec.kind === "postgres" ? await postgresDecisions(store, o.log) : inProcessDecisions(undefined);
    stops.push(() => decisions.close());
    const vault = new Vault({ dataDir, config: config?.vault, log: o.log });
    stops.push(() => vault.close());
    const admin = await startAdminServer({
      host: o.adminHost ?? "127.0.0.1",
      port: o.adminPort ?? ADMIN_DEFAULT_PORT,
      services: { store, versions, tokens: new AdminTokens(store), gateway: undefined, vault, audit, decisions, log: o.log },
    });
    stops.push(() => admin.close());
    if (spec.kind === "embedded") stops.push(writeAdminEndpoint(dataDir, admin.url));
    out(`Sentinel admin listening on ${admin.url}\n  store    ${describeSpec(spec)}${current === undefined ? " (no config yet)" : `, ${versionLabel(current.version)}`}\n`);
    return stop;
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface TokenOptions extends StoreOptions {
  readonly id?: string;
  readonly role?: string;
  readonly tenant?: string;
  readonly description?: string;
}

/** `sentinel admin-token create|list|revoke`: bootstraps access to a store (the first owner). */
export async function runAdminTokenCommand(sub: string | undefined, o: TokenOptions, out: Out): Promise<number> {
  const spec = storeSpec(o);
  const holder = holderOf(spec);
  if (holder !== undefined) throw new StoreUsageError(`process ${holder} holds this data dir's store: manage tokens through its admin API (createAdminToken) with the demo owner token`);
  return withStore(spec, async (store) => {
    const tokens = new AdminTokens(store);
    switch (sub) {
      case "create": {
        if (o.role === undefined || !(ADMIN_ROLES as readonly string[]).includes(o.role)) throw new StoreUsageError(`admin-token create needs --role ${ADMIN_ROLES.join("|")}`);
        const id = o.id ?? `${o.role}-${Date.now().toString(36)}`;
        if (id === DEMO_TOKEN_ID) throw new StoreUsageError(`"${DEMO_TOKEN_ID}" is the demo token's id`);
        const created = await tokens.create({ id, role: o.role as AdminRole, tenant: o.tenant, description: o.description, createdBy: cliUser() });
        out(`token: ${created.token}\nid:    ${id} (${o.role}${o.tenant === undefined ? ", every tenant" : `, tenant ${o.tenant}`})\n(the token is shown once; only its hash is stored)\n`);
        return 0;
      }
      case "list":
        for (const t of await tokens.list()) out(`${t.id}  ${t.role}  ${t.tenant ?? "*"}  ${t.createdAt}${t.revokedAt === undefined ? "" : `  revoked ${t.revokedAt}`}\n`);
        return 0;
      case "revoke": {
        if (o.id === undefined) throw new StoreUsageError("admin-token revoke needs --id ID");
        const revoked = await tokens.revoke(o.id);
        if (revoked === undefined) throw new StoreUsageError(`no admin token "${o.id}"`);
        out(`revoked ${o.id}\n`);
        return 0;
      }
      default:
        throw new StoreUsageError("usage: sentinel admin-token create|list|revoke …");
    }
  });
}
