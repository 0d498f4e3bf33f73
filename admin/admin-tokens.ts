/**
 * Admin API tokens: random bearer secrets shown once and stored only as a SHA-256 hash (the same
 * reasoning as API keys: 256 bits of entropy leave nothing to brute-force), with a role and an
 * optional tenant scope. Every request looks its token up in the store, so a revocation made by
 * any admin process takes effect on the next request everywhere.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hashApiKey } from "../engine/auth/api-keys.js";
import type { Store } from "../engine/store/store.js";

export const ADMIN_ROLES = ["owner", "admin", "auditor"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

const TOKEN_PREFIX = "sa_sentinel_";
export const DEMO_TOKEN_ID = "demo-owner";

export interface AdminTokenRecord {
  readonly id: string;
  readonly role: AdminRole;
  readonly tenant: string | undefined;
  readonly description: string | undefined;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly revokedAt: string | undefined;
}

export interface NewAdminToken {
  /** Shown once; never stored. */
  readonly token: string;
  readonly record: AdminTokenRecord;
}

interface Row extends Record<string, unknown> {
  id: string;
  role: AdminRole;
  tenant: string | null;
  description: string | null;
  created_by: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();
const toRecord = (r: Row): AdminTokenRecord => ({
  id: r.id,
  role: r.role,
  tenant: r.tenant ?? undefined,
  description: r.description ?? undefined,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  revokedAt: r.revoked_at === null ? undefined : iso(r.revoked_at),
});
const COLUMNS = "id, role, tenant, description, created_by, created_at, revoked_at";

export const generateAdminToken = (): string => TOKEN_PREFIX + randomBytes(32).toString("base64url");

export class AdminTokenExistsError extends Error {
  override readonly name = "AdminTokenExistsError";
}

export class AdminTokens {
  constructor(private readonly store: Store) {}

  /** The active token a bearer secret names, or undefined (unknown or revoked). */
  async verify(token: string): Promise<AdminTokenRecord | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const rows = await this.store.query<Row>(`SELECT ${COLUMNS} FROM admin_tokens WHERE hash = $1 AND revoked_at IS NULL`, [hashApiKey(token)]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async list(tenant?: string): Promise<AdminTokenRecord[]> {
    const rows = await this.store.query<Row>(`SELECT ${COLUMNS} FROM admin_tokens WHERE ($1::text IS NULL OR tenant = $1) ORDER BY created_at, id`, [tenant ?? null]);
    return rows.map(toRecord);
  }

  async get(id: string): Promise<AdminTokenRecord | undefined> {
    const rows = await this.store.query<Row>(`SELECT ${COLUMNS} FROM admin_tokens WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async create(options: { id: string; role: AdminRole; tenant?: string; description?: string; createdBy: string; token?: string }): Promise<NewAdminToken> {
    const token = options.token ?? generateAdminToken();
    const rows = await this.store.query<Row>(
      `INSERT INTO admin_tokens (id, hash, role, tenant, description, created_by) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [options.id, hashApiKey(token), options.role, options.tenant ?? null, options.description ?? null, options.createdBy],
    );
    if (rows[0] === undefined) throw new AdminTokenExistsError(`an admin token with id "${options.id}" already exists`);
    return { token, record: toRecord(rows[0]) };
  }

  /** Returns the revoked token, or undefined when there is no such token. Revoking twice is a no-op. */
  async revoke(id: string): Promise<AdminTokenRecord | undefined> {
    await this.store.query("UPDATE admin_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", [id]);
    return this.get(id);
  }

  /**
   * The demo owner token of a data dir: the file holds the secret (mode 0600), the store its
   * hash. A missing file gets a new token; a revoked demo token stays revoked (undefined).
   */
  async ensureDemoOwner(file: string): Promise<string | undefined> {
    let token = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
    if (!token.startsWith(TOKEN_PREFIX)) {
      token = generateAdminToken();
      writeFileSync(file, token + "\n", { mode: 0o600 });
    }
    const known = await this.store.query<{ hash: string; revoked_at: unknown }>("SELECT hash, revoked_at FROM admin_tokens WHERE id = $1", [DEMO_TOKEN_ID]);
    if (known[0] === undefined) {
      await this.create({ id: DEMO_TOKEN_ID, role: "owner", description: `the demo owner token (${file})`, createdBy: "demo", token });
    } else if (known[0].revoked_at !== null) {
      return undefined;
    } else if (known[0].hash !== hashApiKey(token)) {
      // The file is the demo token's source of truth: a replaced file replaces the token.
      await this.store.query("UPDATE admin_tokens SET hash = $1 WHERE id = $2", [hashApiKey(token), DEMO_TOKEN_ID]);
    }
    return token;
  }
}
