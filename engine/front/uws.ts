/**
 * Loads the native uWebSockets.js binary, and only that.
 *
 * The package's own entry point silently falls back to a slow pure-JS server when the binary
 * does not match the running Node; a gateway quietly running on that fallback would miss every
 * latency target with no sign why. So the binary is required directly and start-up fails
 * loudly, naming the file it needed, when it cannot load.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as Uws from "uWebSockets.js";

export type UwsModule = typeof Uws;

export class UwsLoadError extends Error {
  override readonly name = "UwsLoadError";
}

let loaded: UwsModule | undefined;

export function loadUws(): UwsModule {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve("uWebSockets.js/package.json"));
  const binary = join(packageDir, "binaries", `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    loaded = require(binary) as UwsModule;
  } catch (err) {
    throw new UwsLoadError(
      `the native uWebSockets.js binary did not load (${binary}): ${(err as Error).message}. ` +
        `Sentinel needs Node ${process.versions.node.split(".")[0] === "20" ? "20 on glibc >= 2.36" : "20 (ABI 115)"}; it never runs on the JS fallback.`,
    );
  }
  if (typeof loaded.App !== "function" || typeof loaded.us_listen_socket_close !== "function") {
    throw new UwsLoadError(`${binary} loaded but is not the uWebSockets.js native module`);
  }
  return loaded;
}
