/**
 * Puts vault events (new versions, rotations with their drain times, failures, overdue
 * rotations, re-wraps) into the audit trail, as admin records made by "vault". The events carry
 * names, versions and timings only, never a secret or a mask.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { AdminChange } from "../audit/record.js";
import { describeVaultEvent, VAULT_EVENTS_CHANNEL, type VaultEvent } from "./vault-events.js";

export interface AdminRecorder {
  recordAdminChange(change: AdminChange, tenant?: string): void;
}

/** Subscribes the audit log to vault events; returns the unsubscribe function. */
export function auditVaultEvents(audit: AdminRecorder): () => void {
  const listener = (message: unknown) => {
    const event = message as VaultEvent;
    const tenant = "tenant" in event ? event.tenant : undefined;
    const subject = "tenant" in event ? `${event.tenant}/${event.credential}` : "vault";
    audit.recordAdminChange({ who: "vault", what: [describeVaultEvent(event)], before: null, after: `${event.type} ${subject}` }, tenant);
  };
  subscribe(VAULT_EVENTS_CHANNEL, listener);
  return () => void unsubscribe(VAULT_EVENTS_CHANNEL, listener);
}
