/**
 * Locates the `bin` entry of a package installed in the repository's node_modules, so tests
 * can run reference MCP servers and tools with `process.execPath <entry>`. Throws (never
 * returns undefined) when the package or its entry is missing: a test that needs it must fail.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO_ROOT = resolve(import.meta.dirname, "../..");

export function packageBin(name: string, binName?: string): string {
  const dir = resolve(REPO_ROOT, "node_modules", name);
  const manifestPath = join(dir, "package.json");
  if (!existsSync(manifestPath)) throw new Error(`${name} is not installed (expected ${manifestPath}); run npm install`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: string | Record<string, string> };
  const bins = typeof manifest.bin === "string" ? { [name]: manifest.bin } : (manifest.bin ?? {});
  const bin = binName === undefined ? Object.values(bins)[0] : bins[binName];
  if (bin === undefined) throw new Error(`${name} declares no bin${binName ? ` named ${binName}` : ""} in ${manifestPath}`);
  const entry = resolve(dir, bin);
  if (!existsSync(entry)) throw new Error(`${name}'s bin ${entry} does not exist`);
  return entry;
}
