/**
 * The embedded data directory (default `.sentinel/`): the embedded store (`store/`, config
 * versions, admin tokens and audit records), the vault and audit spool, the demo's API key and
 * owner token, and `admin.json`, where a running `sentinel start` says where its admin API is.
 * A `sentinel.yaml` found here is the config of an older data dir: the first start imports it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateApiKey, hashApiKey } from "../auth/api-keys.js";
import { SENTINEL_HOME } from "../config/load-config.js";

export const activeConfigPath = (dataDir: string) => join(dataDir, "sentinel.yaml");
export const demoKeyPath = (dataDir: string) => join(dataDir, "demo-api-key");
export const demoAdminTokenPath = (dataDir: string) => join(dataDir, "demo-admin-token");
export const embeddedStoreDir = (dataDir: string) => join(dataDir, "store");
export const adminEndpointPath = (dataDir: string) => join(dataDir, "admin.json");

export function ensureDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export interface DemoConfig {
  /** The demo config with the demo key's hash filled in. */
  readonly text: string;
  readonly apiKey: string;
}

/** The demo config and its API key; the key is created on first use and reused after. */
export function demoConfig(dataDir: string): DemoConfig {
  const keyFile = demoKeyPath(dataDir);
  let apiKey: string;
  if (existsSync(keyFile)) {
    apiKey = readFileSync(keyFile, "utf8").trim();
  } else {
    apiKey = generateApiKey().key;
    writeFileSync(keyFile, apiKey + "\n", { mode: 0o600 });
  }
  const template = readFileSync(join(SENTINEL_HOME, "examples/demo/sentinel.yaml"), "utf8");
  return { text: template.replace("${DEMO_API_KEY_HASH}", hashApiKey(apiKey)), apiKey };
}
