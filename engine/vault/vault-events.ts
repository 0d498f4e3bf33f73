/**
 * Vault events (rotations, new versions, failures) on a named diagnostics channel, the same
 * way undici reports: the gateway logs them, and the audit pipeline subscribes to
 * `sentinel:vault` to record them in the audit trail. Events never carry a secret, only names,
 * versions, masks and timings.
 */
import { channel } from "node:diagnostics_channel";

export const VAULT_EVENTS_CHANNEL = "sentinel:vault";

/** How a switch of versions drained: the same figures for a rotation and a token refresh. */
export interface DrainFigures {
  /** From the switch's start until new calls were let through on the new version. */
  drainMs: number;
  /** Calls in flight on the old version when the switch started. */
  inFlightAtStart: number;
  /** Calls held until the switch, and the longest any of them waited. */
  held: number;
  maxHoldMs: number;
  /** True when the drain timeout expired with old calls still running (they finish on the old version). */
  forced: boolean;
}

export type VaultEvent =
  | { type: "version-stored"; tenant: string; credential: string; version: number; source: string; at: string }
  | ({
      type: "rotated";
      tenant: string;
      credential: string;
      from: number;
      to: number;
      at: string;
    } & DrainFigures)
  | ({
      /** An OAuth token given to stdio children was replaced: drained like a rotation, then the children restart. */
      type: "token-refreshed";
      tenant: string;
      credential: string;
      version: number;
      at: string;
    } & DrainFigures)
  | { type: "rotation-failed"; tenant: string; credential: string; from: number; to: number; reason: string; at: string }
  | { type: "rotation-overdue"; tenant: string; credential: string; version: number; daysOverdue: number; at: string }
  | { type: "token-refresh-failed"; tenant: string; credential: string; reason: string; at: string }
  | { type: "credential-unavailable"; tenant: string; credential: string; reason: string; at: string }
  | { type: "rewrapped"; records: number; rootKey: string; at: string };

const events = channel(VAULT_EVENTS_CHANNEL);

/** The audit hook: everything the vault reports goes through here. */
export function emitVaultEvent(event: VaultEvent): void {
  if (events.hasSubscribers) events.publish(event);
}

export function describeVaultEvent(e: VaultEvent): string {
  switch (e.type) {
    case "version-stored":
      return `vault: ${e.tenant}/${e.credential} v${e.version} stored (${e.source})`;
    case "rotated":
      return `vault: ${e.tenant}/${e.credential} rotated v${e.from} -> v${e.to}: drained ${e.inFlightAtStart} in-flight calls in ${e.drainMs.toFixed(1)} ms, held ${e.held} new calls (longest ${e.maxHoldMs.toFixed(1)} ms)${e.forced ? "; drain timeout hit, older calls finish on the old version" : ""}`;
    case "token-refreshed":
      return `vault: ${e.tenant}/${e.credential} v${e.version} access token refreshed for stdio children: drained ${e.inFlightAtStart} in-flight calls in ${e.drainMs.toFixed(1)} ms, held ${e.held} new calls (longest ${e.maxHoldMs.toFixed(1)} ms)${e.forced ? "; drain timeout hit, older calls finish on the old token" : ""}`;
    case "rotation-failed":
      return `vault: ${e.tenant}/${e.credential} rotation v${e.from} -> v${e.to} failed, staying on v${e.from}: ${e.reason}`;
    case "rotation-overdue":
      return `vault: ${e.tenant}/${e.credential} v${e.version} is ${e.daysOverdue.toFixed(1)} days past its rotation period`;
    case "token-refresh-failed":
      return `vault: ${e.tenant}/${e.credential} token refresh failed: ${e.reason}`;
    case "credential-unavailable":
      return `vault: ${e.reason}`;
    case "rewrapped":
      return `vault: ${e.records} data keys re-wrapped under root key ${e.rootKey}`;
  }
}
