/**
 * The live config of a data dir, for commands that read it (`vault`, `policy test`): an older
 * data dir's `sentinel.yaml` when there is one, else the current version of its embedded store,
 * read through the admin API of the process holding the store, or directly when none does.
 */
import { existsSync } from "node:fs";
import { loadConfigFile } from "../config/load-config.js";
import type { SentinelConfig } from "../config/types.js";
import { documentFromText, loadDocument, type ConfigDocument } from "../config-store/config-document.js";
import { ConfigVersions } from "../config-store/config-versions.js";
import { openStore } from "../store/open-store.js";
import { embeddedStoreHolder } from "../store/shared-embedded.js";
import { adminRequest } from "./admin-client.js";
import { activeConfigPath, embeddedStoreDir } from "./data-dir.js";

export class NoLiveConfigError extends Error {
  override readonly name = "NoLiveConfigError";
}

export async function loadDataDirConfig(dataDir: string, adminToken?: string): Promise<SentinelConfig> {
  const legacy = activeConfigPath(dataDir);
  if (existsSync(legacy)) return loadConfigFile(legacy);
  const dir = embeddedStoreDir(dataDir);
  const holder = embeddedStoreHolder(dir);
  let doc: ConfigDocument | undefined;
  if (holder !== undefined) {
    const data = await adminRequest<{ config: { yaml: string } | null }>(dataDir, holder, "query { config { yaml } }", {}, adminToken);
    doc = data.config === null ? undefined : documentFromText(data.config.yaml, "config");
  } else if (existsSync(dir)) {
    const store = await openStore({ kind: "embedded", dir });
    try {
      doc = (await new ConfigVersions(store).current())?.document;
    } finally {
      await store.close();
    }
  }
  if (doc === undefined) throw new NoLiveConfigError(`${dataDir} has no config: run sentinel start, or sentinel apply -f FILE --data-dir ${dataDir}`);
  return loadDocument(doc, "config");
}
