/**
 * Versioned config documents in the store (schema/migrations/002_config_store.sql). A commit
 * locks the head row, checks the version its writer read (optimistic concurrency), inserts the
 * next version and moves the head, all in one transaction; on Postgres the same transaction
 * NOTIFYs `sentinel_config`, so gateways in other processes hear of it only once it is visible.
 * Writers in this process are told through `onCommit`, with no round trip at all.
 */
import { describeConfigChange } from "../audit/admin-change.js";
import type { SentinelConfig } from "../config/types.js";
import type { Queryable, Store } from "../store/store.js";
import { documentDigest, type ConfigDocument } from "./config-document.js";

export const CONFIG_CHANNEL = "sentinel_config";

export interface VersionSummary {
  readonly version: number;
  readonly digest: string;
  readonly author: string;
  readonly comment: string | undefined;
  /** Against the previous version: `+rule acme/x`, `~connection acme/y`, `load` for the first. */
  readonly changes: readonly string[];
  readonly createdAt: string;
}

export interface StoredVersion extends VersionSummary {
  readonly document: ConfigDocument;
}

export interface CommitRequest {
  readonly document: ConfigDocument;
  readonly author: string;
  readonly comment?: string;
  /** The head the writer read; a different head is a conflict. Absent: commit on any head. */
  readonly expectedVersion?: number;
}

export interface CommitResult {
  readonly version: StoredVersion;
  /** The previous head's document (undefined for the first version). */
  readonly previous: ConfigDocument | undefined;
  /** True when the document equals the head's: no version was added. */
  readonly unchanged: boolean;
}

/** The head moved since the writer read it. */
export class ConfigConflictError extends Error {
  override readonly name = "ConfigConflictError";
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`the config is at version ${actual}, not ${expected}: it changed since it was read; read it again and retry`);
  }
}

interface Row extends Record<string, unknown> {
  version: string | number;
  digest: string;
  author: string;
  comment: string | null;
  changes: string;
  created_at: Date | string;
  document?: string;
}

const SUMMARY_COLUMNS = "version, digest, author, comment, changes, created_at";

function toVersion(row: Row): StoredVersion {
  return {
    version: Number(row.version),
    digest: row.digest,
    author: row.author,
    comment: row.comment ?? undefined,
    changes: JSON.parse(row.changes) as string[],
    createdAt: (row.created_at instanceof Date ? row.created_at : new Date(row.created_at)).toISOString(),
    document: row.document === undefined ? {} : (JSON.parse(row.document) as ConfigDocument),
  };
}

export class ConfigVersions {
  private readonly listeners = new Set<(version: number) => void>();

  constructor(readonly store: Store) {}

  /** Calls `fn` after every commit made through this object; returns the unsubscribe function. */
  onCommit(fn: (version: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The current version number; 0 before the first commit. */
  async headVersion(q: Queryable = this.store): Promise<number> {
    const rows = await q.query<{ version: string | number | null }>("SELECT version FROM config_head WHERE id");
    return rows[0]?.version == null ? 0 : Number(rows[0].version);
  }

  async current(): Promise<StoredVersion | undefined> {
    const rows = await this.store.query<Row>(
      `SELECT ${SUMMARY_COLUMNS}, document FROM config_versions WHERE version = (SELECT version FROM config_head WHERE id)`,
    );
    return rows[0] === undefined ? undefined : toVersion(rows[0]);
  }

  async get(version: number): Promise<StoredVersion | undefined> {
    const rows = await this.store.query<Row>(`SELECT ${SUMMARY_COLUMNS}, document FROM config_versions WHERE version = $1`, [version]);
    return rows[0] === undefined ? undefined : toVersion(rows[0]);
  }

  /** Newest first; `before` pages back. With documents only when asked (they can be large). */
  async list(options: { before?: number; limit?: number; documents?: boolean } = {}): Promise<StoredVersion[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    const columns = options.documents === true ? `${SUMMARY_COLUMNS}, document` : SUMMARY_COLUMNS;
    const rows = await this.store.query<Row>(
      `SELECT ${columns} FROM config_versions WHERE ($1::bigint IS NULL OR version < $1::bigint) ORDER BY version DESC LIMIT ${limit}`,
      [options.before ?? null],
    );
    return rows.map(toVersion);
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    const digest = documentDigest(request.document);
    const result = await this.store.transaction(async (tx): Promise<CommitResult> => {
      // The row lock is the serialisation point for every writer on this database.
      const locked = await tx.query<{ version: string | number | null }>("SELECT version FROM config_head WHERE id FOR UPDATE");
      const head = locked[0]?.version == null ? 0 : Number(locked[0].version);
      if (request.expectedVersion !== undefined && request.expectedVersion !== head) throw new ConfigConflictError(request.expectedVersion, head);
      let previous: StoredVersion | undefined;
      if (head > 0) {
        const rows = await tx.query<Row>(`SELECT ${SUMMARY_COLUMNS}, document FROM config_versions WHERE version = $1`, [head]);
        previous = rows[0] === undefined ? undefined : toVersion(rows[0]);
        if (previous !== undefined && previous.digest === digest) return { version: previous, previous: previous.document, unchanged: true };
      }
      const version = head + 1;
      const changes = previous === undefined ? ["load"] : describeConfigChange(previous.document as unknown as SentinelConfig, request.document as unknown as SentinelConfig);
      const rows = await tx.query<Row>(
        `INSERT INTO config_versions (version, document, digest, author, comment, changes) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${SUMMARY_COLUMNS}`,
        [version, JSON.stringify(request.document), digest, request.author, request.comment ?? null, JSON.stringify(changes)],
      );
      await tx.query("UPDATE config_head SET version = $1 WHERE id", [version]);
      if (this.store.kind === "postgres") await tx.query("SELECT pg_notify($1, $2)", [CONFIG_CHANNEL, String(version)]);
      return { version: { ...toVersion(rows[0]!), document: request.document }, previous: previous?.document, unchanged: false };
    });
    if (!result.unchanged) for (const fn of this.listeners) fn(result.version.version);
    return result;
  }
}
