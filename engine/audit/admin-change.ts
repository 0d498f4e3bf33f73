/**
 * Admin-change records for config changes: a digest of the whole config before and after, and a
 * short list of what changed (tenants, keys, connections, rules, credentials, top-level
 * sections). Secrets never appear: items are named by id, and the digest is a hash.
 *
 * `sentinel apply` leaves a marker (`<active config>.applied`) with the digest it wrote, so
 * the running gateway's reload can tell an apply (who = "cli") from an edit of the file
 * (who = "file").
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import type { SentinelConfig } from "../config/types.js";
import { canonicalJson } from "./canonical.js";
import type { AdminChange } from "./record.js";

export const configDigest = (config: SentinelConfig): string => "sha256:" + createHash("sha256").update(canonicalJson(config)).digest("hex");

function diffById<T>(what: string, before: readonly T[] | undefined, after: readonly T[] | undefined, id: (t: T) => string, out: string[], reportChanged = true): void {
  const b = new Map((before ?? []).map((x) => [id(x), canonicalJson(x)]));
  const a = new Map((after ?? []).map((x) => [id(x), canonicalJson(x)]));
  for (const [k, v] of a) {
    if (!b.has(k)) out.push(`+${what} ${k}`);
    else if (reportChanged && b.get(k) !== v) out.push(`~${what} ${k}`);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`-${what} ${k}`);
}

/** What changed between two configs, one entry per item: `+rule acme/deny-all`, `~connection acme/github`. */
export function describeConfigChange(before: SentinelConfig | undefined, after: SentinelConfig): string[] {
  const out: string[] = [];
  for (const section of Object.keys({ ...before, ...after }).sort()) {
    if (section === "tenants") continue;
    const b = (before as Record<string, unknown> | undefined)?.[section];
    const a = (after as unknown as Record<string, unknown>)[section];
    if (canonicalJson(b ?? null) !== canonicalJson(a ?? null)) out.push(`~${section}`);
  }
  // A changed tenant is described item by item below, not as "~tenant".
  diffById("tenant", before?.tenants, after.tenants, (t) => t.id, out, false);
  const tenants = new Map((before?.tenants ?? []).map((t) => [t.id, t]));
  for (const t of after.tenants) {
    const prior = tenants.get(t.id);
    if (prior === undefined) continue;
    diffById("apiKey", prior.apiKeys, t.apiKeys, (k) => `${t.id}/${k.id}`, out);
    diffById("connection", prior.connections, t.connections, (c) => `${t.id}/${c.name}`, out);
    diffById("rule", prior.policies, t.policies, (p) => `${t.id}/${p.id}`, out);
    diffById("credential", prior.credentials, t.credentials, (c) => `${t.id}/${c.name}`, out);
    const rest = (x: typeof t) => canonicalJson({ ...x, apiKeys: undefined, connections: undefined, policies: undefined, credentials: undefined });
    if (rest(prior) !== rest(t)) out.push(`~tenant ${t.id} settings`);
  }
  return out;
}

export function adminChange(who: string, before: SentinelConfig | undefined, after: SentinelConfig): AdminChange {
  return { who, what: before === undefined ? ["load"] : describeConfigChange(before, after), before: before === undefined ? null : configDigest(before), after: configDigest(after) };
}

const markerPath = (configFile: string) => `${configFile}.applied`;

/** Left by `sentinel apply` next to the active config it wrote. */
export function writeApplyMarker(configFile: string, config: SentinelConfig): void {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): "unknown"
  }
  writeFileSync(markerPath(configFile), JSON.stringify({ digest: configDigest(config), user, at: new Date().toISOString() }), { mode: 0o600 });
}

/** "cli:<os user>" when the config now in force is the one `sentinel apply` wrote, else "file". */
export function whoChanged(configFile: string, config: SentinelConfig): string {
  if (!existsSync(markerPath(configFile))) return "file";
  try {
    const m = JSON.parse(readFileSync(markerPath(configFile), "utf8")) as { digest: string; user: string };
    return m.digest === configDigest(config) ? `cli:${m.user}` : "file";
  } catch {
    return "file";
  }
}
