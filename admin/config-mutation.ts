/**
 * Every admin mutation of the config goes through here: read the current document, change one
 * object in a copy, validate the copy exactly as `sentinel apply` would (schema, semantics,
 * compile), commit it as the next version against the head that was read, and record the change
 * in the audit trail (who, what, the before and after digests, which name stored versions).
 *
 * A commit that loses a race with another writer is retried on the new head, since a change
 * to one object applies just as well there; a caller that passed `expectedVersion` asked for
 * strict optimistic concurrency and gets SENTINEL_ADMIN_CONFLICT instead.
 */
import { adminChange } from "../engine/audit/admin-change.js";
import { cloneDocument, validateDocument, type ConfigDocument } from "../engine/config-store/config-document.js";
import { ConfigConflictError, type StoredVersion } from "../engine/config-store/config-versions.js";
import type { SentinelConfig } from "../engine/config/types.js";
import { SentinelConfigError } from "../engine/errors.js";
import type { AdminContext } from "./context.js";
import { adminError, fromConfigError } from "./errors.js";

const ATTEMPTS = 5;

export interface MutationOptions {
  readonly expectedVersion?: number | null;
  readonly comment?: string | null;
}

export interface Mutated<T> {
  readonly result: T;
  readonly version: StoredVersion;
  /** False when the change left the document as it was (no version was added). */
  readonly changed: boolean;
}

/** The change itself: edits `doc` in place; `at` names where the changed object sits, for error fields. */
export type Change<T> = (doc: ConfigDocument, at: (objectPath: string) => void) => T;

export const EMPTY_DOCUMENT: ConfigDocument = { version: 1, tenants: [] };

export async function mutateConfig<T>(ctx: AdminContext, options: MutationOptions, change: Change<T>): Promise<Mutated<T>> {
  const { versions, audit } = ctx.services;
  const author = `api:${ctx.caller.id}`;
  for (let attempt = 1; ; attempt++) {
    const head = await versions.current();
    const headVersion = head?.version ?? 0;
    if (options.expectedVersion != null && options.expectedVersion !== headVersion) throw conflict(options.expectedVersion, headVersion);
    const doc = cloneDocument(head?.document ?? EMPTY_DOCUMENT);
    let objectPath: string | undefined;
    const result = change(doc, (p) => (objectPath = p));
    try {
      validateDocument(doc, "config");
    } catch (err) {
      if (err instanceof SentinelConfigError) throw fromConfigError(err, objectPath);
      throw err;
    }
    try {
      const committed = await versions.commit({ document: doc, author, comment: options.comment ?? undefined, expectedVersion: headVersion });
      if (!committed.unchanged) {
        audit?.recordAdminChange(adminChange(author, committed.previous as SentinelConfig | undefined, doc as unknown as SentinelConfig));
      }
      return { result, version: committed.version, changed: !committed.unchanged };
    } catch (err) {
      if (!(err instanceof ConfigConflictError)) throw err;
      if (options.expectedVersion != null || attempt >= ATTEMPTS) throw conflict(headVersion, err.actual);
    }
  }
}

function conflict(expected: number, actual: number) {
  return adminError("SENTINEL_ADMIN_CONFLICT", `the config is at version ${actual}, not ${expected}; read it again and retry`, { expectedVersion: expected, actualVersion: actual });
}
