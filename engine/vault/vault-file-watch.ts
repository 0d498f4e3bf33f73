/**
 * Watches the vault file, so a version stored by `sentinel vault put|rotate` in another process
 * starts a rotation in the gateway. The directory is watched rather than the file: writers
 * replace the file by rename, which a watch on the old inode would miss.
 */
import { mkdirSync, watch } from "node:fs";
import { basename, dirname } from "node:path";

/** A burst of events (temp file written, renamed over) becomes one re-read. */
const DEBOUNCE_MS = 50;

/** Calls `changed` after the file at `path` changes; returns the function that stops watching. */
export function watchVaultFile(path: string, changed: () => void): () => void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = basename(path);
  let debounce: NodeJS.Timeout | undefined;
  const watcher = watch(dir, { persistent: false }, (_event, file) => {
    if (file !== null && file !== name) return;
    clearTimeout(debounce);
    debounce = setTimeout(changed, DEBOUNCE_MS);
  });
  return () => {
    watcher.close();
    clearTimeout(debounce);
  };
}
