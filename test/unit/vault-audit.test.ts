/**
 * Vault events become admin records of the audit trail: names, versions and timings, and the
 * tenant they concern, so a tenant's audit query finds its credentials' rotations.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AdminChange } from "../../engine/audit/record.js";
import { auditVaultEvents } from "../../engine/vault/vault-audit.js";
import { emitVaultEvent } from "../../engine/vault/vault-events.js";

const at = "2026-11-24T00:00:00.000Z";
let stop: (() => void) | undefined;
afterEach(() => stop?.());

function recorder() {
  const seen: Array<{ change: AdminChange; tenant: string | undefined }> = [];
  stop = auditVaultEvents({ recordAdminChange: (change, tenant) => void seen.push({ change, tenant }) });
  return seen;
}

describe("vault events in the audit trail", () => {
  it("a rotation is recorded by the vault, for the credential's tenant, with its drain figures", () => {
    const seen = recorder();
    emitVaultEvent({ type: "rotated", tenant: "acme", credential: "github-prod", from: 1, to: 2, drainMs: 12.5, inFlightAtStart: 3, held: 1, maxHoldMs: 4, forced: false, at });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.tenant).toBe("acme");
    expect(seen[0]!.change).toMatchObject({ who: "vault", before: null, after: "rotated acme/github-prod" });
    expect(seen[0]!.change.what[0]).toContain("rotated v1 -> v2: drained 3 in-flight calls in 12.5 ms");
  });

  it("an event about the whole vault (a re-wrap) belongs to no tenant", () => {
    const seen = recorder();
    emitVaultEvent({ type: "rewrapped", records: 4, rootKey: "file:abc", at });
    expect(seen).toEqual([{ change: expect.objectContaining({ after: "rewrapped vault" }), tenant: undefined }]);
  });
});
