/**
 * A gateway whose config comes from the store: it starts on the current version and then
 * follows the head (config-follower.ts), publishing each new version through Gateway.publish,
 * which swaps the compiled config in one assignment, so calls keep flowing during the switch.
 * A version that does not compile here (a `${VAR}` this host lacks) is logged and skipped; the
 * running config stays.
 */
import { compileConfig } from "../config/compile-config.js";
import type { SentinelConfig } from "../config/types.js";
import { startGateway, type RunningGateway } from "../server.js";
import type { StoreSpec } from "../store/open-store.js";
import { loadDocument } from "./config-document.js";
import { ConfigFollower } from "./config-follower.js";
import type { ConfigVersions } from "./config-versions.js";

export interface StoreGatewayOptions {
  readonly versions: ConfigVersions;
  /** Where the store is: a Postgres store is also the default audit sink. */
  readonly spec: StoreSpec;
  readonly dataDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly log: (line: string) => void;
  readonly pollMs?: number;
}

export interface StoreGateway {
  readonly running: RunningGateway;
  readonly follower: ConfigFollower;
  close(): Promise<void>;
}

export const versionLabel = (version: number): string => `config version ${version}`;

/**
 * The config a store-backed process runs with: on Postgres, audit records go to the same
 * database unless the document says otherwise (the embedded default is the data dir's store,
 * which is already the config store's directory).
 */
export function withStoreDefaults(config: SentinelConfig, spec: StoreSpec): SentinelConfig {
  if (spec.kind !== "postgres" || config.audit?.sinks?.store !== undefined || config.audit?.enabled === false) return config;
  return { ...config, audit: { ...config.audit, sinks: { ...config.audit?.sinks, store: { kind: "postgres", url: spec.url } } } };
}

export async function startStoreGateway(options: StoreGatewayOptions): Promise<StoreGateway> {
  const { versions, log } = options;
  const current = await versions.current();
  if (current === undefined) throw new Error(`the ${options.spec.kind} store has no config yet: run sentinel apply -f sentinel.yaml first`);
  const config = withStoreDefaults(loadDocument(current.document, versionLabel(current.version)), options.spec);
  const running = await startGateway({
    config,
    host: options.host,
    port: options.port,
    dataDir: options.dataDir,
    auditStore: options.spec.kind === "embedded" ? "embedded" : "none",
    log,
  });
  const follower = new ConfigFollower(versions, {
    from: current.version,
    log,
    pollMs: options.pollMs,
    apply: (version) => {
      const label = versionLabel(version.version);
      // Compiled before the swap: a version that fails here never replaces the running one.
      running.gateway.publish(compileConfig(withStoreDefaults(loadDocument(version.document, label), options.spec), label));
      log(`${label} published by ${version.author} (generation ${running.gateway.configGeneration})`);
    },
  });
  try {
    await follower.start();
  } catch (err) {
    await running.close();
    throw err;
  }
  return {
    running,
    follower,
    async close() {
      await follower.close();
      await running.close();
    },
  };
}
