/**
 * What may be shown about each credential (`sentinel vault list`, and the admin API): its
 * active version, age, days to rotate and masked secret. Never the secret itself: the mask is
 * made from a decrypted copy that is zeroed at once.
 */
import type { SentinelConfig } from "../config/types.js";
import type { KeyRing } from "./key-ring.js";
import { mask } from "./masking.js";
import { daysToRotate } from "./rotation-schedule.js";
import { openRecord, type SecretRecord } from "./secret-records.js";

export interface CredentialStatus {
  readonly tenant: string;
  readonly name: string;
  readonly type: string;
  readonly connections: readonly string[];
  readonly scopes: readonly string[];
  /** Undefined while the vault holds no secret for it. */
  readonly version: number | undefined;
  readonly createdAt: string | undefined;
  /** Negative when overdue; undefined without a rotation period or a version. */
  readonly daysToRotate: number | undefined;
  /** `ghp_•••8a4f`, or why the secret could not be opened. */
  readonly masked: string | undefined;
}

export async function credentialStatuses(
  config: SentinelConfig,
  latest: ReadonlyMap<string, SecretRecord>,
  ring: KeyRing | Error | undefined,
  now = Date.now(),
): Promise<CredentialStatus[]> {
  const out: CredentialStatus[] = [];
  for (const tenant of config.tenants) {
    for (const c of tenant.credentials ?? []) {
      const record = latest.get(`${tenant.id}/${c.name}`);
      let masked: string | undefined;
      if (record !== undefined) {
        try {
          if (ring === undefined || ring instanceof Error) throw ring ?? new Error("no root key");
          const plain = await openRecord(ring, record);
          masked = mask(plain.toString("utf8"));
          plain.fill(0);
        } catch (err) {
          masked = `(cannot open: ${(err as Error).message})`;
        }
      }
      out.push({
        tenant: tenant.id,
        name: c.name,
        type: c.type,
        connections: c.connections,
        scopes: c.scopes ?? [],
        version: record?.version,
        createdAt: record?.createdAt,
        daysToRotate: record === undefined || c.rotation === undefined ? undefined : daysToRotate(record.createdAt, c.rotation.periodDays, now),
        masked,
      });
    }
  }
  return out;
}
