/**
 * Opens the configured store and brings its schema up to date.
 */
import { migrate } from "./migrate.js";
import { openPostgresStore } from "./postgres-store.js";
import { openSharedEmbedded } from "./shared-embedded.js";
import type { Store } from "./store.js";

export type StoreSpec = { readonly kind: "embedded"; readonly dir: string } | { readonly kind: "postgres"; readonly url: string };

/** Opens the store without touching its schema (`sentinel migrate` reports what it applies). */
export async function openRawStore(spec: StoreSpec): Promise<Store> {
  // PGlite (a WebAssembly Postgres) is loaded only by processes that use the embedded store.
  if (spec.kind === "postgres") return openPostgresStore(spec.url);
  const { openPgliteStore } = await import("./pglite-store.js");
  // One instance per directory per process, locked against other processes (shared-embedded.ts).
  return openSharedEmbedded(spec.dir, openPgliteStore);
}

export async function openStore(spec: StoreSpec): Promise<Store> {
  const store = await openRawStore(spec);
  try {
    await migrate(store);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
