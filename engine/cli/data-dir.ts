/**
 * The embedded data directory (default `.sentinel/`): the active config `sentinel.yaml`, and
 * for the demo its API key. `sentinel apply` writes the active config atomically (write a
 * temporary file, then rename), so a running gateway never reads half a file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateApiKey, hashApiKey } from "../auth/api-keys.js";
import { parseConfig, SENTINEL_HOME } from "../config/load-config.js";

export const activeConfigPath = (dataDir: string) => join(dataDir, "sentinel.yaml");
export const demoKeyPath = (dataDir: string) => join(dataDir, "demo-api-key");

export function ensureDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Validates `text` as a config (fails with file, path and reason) and makes it the active one. */
export function writeActiveConfig(dataDir: string, text: string, sourceName: string): string {
  parseConfig(text, sourceName);
  const target = activeConfigPath(dataDir);
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, target);
  return target;
}

export interface DemoSetup {
  readonly configPath: string;
  readonly apiKey: string;
  readonly created: boolean;
}

/** First start: the demo config with a new API key. Later starts reuse both. */
export function ensureDemo(dataDir: string): DemoSetup {
  const keyFile = demoKeyPath(dataDir);
  let apiKey: string;
  if (existsSync(keyFile)) {
    apiKey = readFileSync(keyFile, "utf8").trim();
  } else {
    apiKey = generateApiKey().key;
    writeFileSync(keyFile, apiKey + "\n", { mode: 0o600 });
  }
  const configPath = activeConfigPath(dataDir);
  if (existsSync(configPath)) return { configPath, apiKey, created: false };
  const template = readFileSync(join(SENTINEL_HOME, "examples/demo/sentinel.yaml"), "utf8");
  const text = template.replace("${DEMO_API_KEY_HASH}", hashApiKey(apiKey));
  writeActiveConfig(dataDir, text, configPath);
  return { configPath, apiKey, created: true };
}
