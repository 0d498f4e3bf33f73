/**
 * The embedded store is one PGlite instance per directory per process, shared by everything
 * in the process that uses it (the config store, the audit sink): two PGlite instances over
 * one directory do not see each other's writes and corrupt it. Across processes a lock file
 * (`<dir>.lock`, the owner's pid) makes a second process fail with a clear error instead; a
 * lock left by a dead process is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import type { Store } from "./store.js";
import { processAlive } from "../util/process-alive.js";

export class StoreLockedError extends Error {
  override readonly name = "StoreLockedError";
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the embedded store ${dir} is in use by process ${pid}; stop it, or go through its admin API`);
  }
}

interface Entry {
  readonly store: Promise<Store>;
  refs: number;
}

const open = new Map<string, Entry>();
const lockFile = (dir: string) => `${dir}.lock`;


/** The live process other than this one that holds the embedded store at `dir`, if any. */
export function embeddedStoreHolder(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(lockFile(resolve(dir)), "utf8").trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid) ? pid : undefined;
}

function takeLock(dir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile(dir), "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = embeddedStoreHolder(dir);
    if (holder !== undefined) throw new StoreLockedError(dir, holder);
    rmSync(lockFile(dir), { force: true });
  }
  throw new StoreLockedError(dir, Number(readFileSync(lockFile(dir), "utf8").trim()));
}

/** A handle on the process's PGlite instance for `dir`; the instance closes with its last handle. */
export async function openSharedEmbedded(dir: string, openPglite: (dir: string) => Promise<Store>): Promise<Store> {
  const key = resolve(dir);
  let entry = open.get(key);
  if (entry === undefined) {
    takeLock(key);
    const store = openPglite(key).catch((err: unknown) => {
      open.delete(key);
      rmSync(lockFile(key), { force: true });
      throw err;
    });
    entry = { store, refs: 0 };
    open.set(key, entry);
  }
  const shared = entry;
  shared.refs++;
  let inner: Store;
  try {
    inner = await shared.store;
  } catch (err) {
    shared.refs--;
    throw err;
  }
  let closed = false;
  return {
    ...inner,
    async close() {
      if (closed) return;
      closed = true;
      if (--shared.refs > 0) return;
      open.delete(key);
      try {
        await inner.close();
      } finally {
        rmSync(lockFile(key), { force: true });
      }
    },
  };
}
