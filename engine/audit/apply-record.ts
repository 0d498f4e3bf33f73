/**
 * The admin record of `sentinel apply`. When a gateway runs on the data dir it owns the spool, so
 * apply leaves a marker and the gateway's reload records the change as "cli:<user>"; when none
 * runs, apply opens the spool itself, records the change, and leaves shipping to the next start.
 */
import { existsSync } from "node:fs";
import { loadConfigFile } from "../config/load-config.js";
import type { SentinelConfig } from "../config/types.js";
import { adminChange, whoChanged, writeApplyMarker } from "./admin-change.js";
import { resolveAudit } from "./audit-config.js";
import { openAuditWithVault } from "./open-audit.js";
import { lockHolder } from "./spool-files.js";

/** The active config before an apply; undefined when there is none or it no longer loads. */
export function previousConfig(file: string): SentinelConfig | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return loadConfigFile(file);
  } catch {
    return undefined;
  }
}

/** Returns where the change will be recorded, for the command's output. */
export async function recordApply(dataDir: string, configFile: string, before: SentinelConfig | undefined, after: SentinelConfig): Promise<string> {
  writeApplyMarker(configFile, after);
  const resolved = resolveAudit(after.audit, dataDir, "embedded");
  if (resolved === undefined) return "audit disabled: no admin record";
  const holder = lockHolder(resolved.dir);
  if (holder !== undefined) return `the running gateway (pid ${holder}) records the change when it reloads`;
  const audit = await openAuditWithVault({ ...resolved, store: undefined, kafka: undefined, alerts: undefined }, after, dataDir, (l) => process.stderr.write(`sentinel: ${l}\n`));
  audit.recordAdminChange(adminChange(whoChanged(configFile, after), before, after));
  await audit.close();
  return `admin change recorded in ${resolved.dir} (seq ${audit.chainHead.seq - 1})`;
}
