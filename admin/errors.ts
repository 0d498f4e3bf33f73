/**
 * Admin API errors: a GraphQLError whose `extensions.code` is a stable code from the one
 * registry (engine/errors.ts), with `path` and `field` for validation errors. Anything else a
 * resolver throws is masked by yoga to SENTINEL_INTERNAL with no message or stack (server.ts).
 */
import { GraphQLError } from "graphql";
import { ERRORS, type ErrorCode, type SentinelConfigError } from "../engine/errors.js";

export type AdminErrorCode = Extract<ErrorCode, `SENTINEL_ADMIN_${string}`> | "SENTINEL_INTERNAL";

export interface AdminErrorDetails {
  /** The path inside the config document: `tenants[0].policies[2].pattern`. */
  readonly path?: string;
  /** The same path relative to the object the mutation changed: `pattern`. */
  readonly field?: string;
  readonly [key: string]: unknown;
}

export function adminError(code: AdminErrorCode, message: string, details: AdminErrorDetails = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, status: ERRORS[code].http, ...details } });
}

export const notFound = (what: string): GraphQLError => adminError("SENTINEL_ADMIN_NOT_FOUND", `${what} does not exist`);
export const forbidden = (why: string): GraphQLError => adminError("SENTINEL_ADMIN_FORBIDDEN", why);
export const unavailable = (why: string): GraphQLError => adminError("SENTINEL_ADMIN_UNAVAILABLE", why);
export const invalid = (message: string, details: AdminErrorDetails = {}): GraphQLError => adminError("SENTINEL_ADMIN_VALIDATION", message, details);

/**
 * A config error as a validation error. `objectPath` is where the changed object sits in the
 * document (`tenants[0].policies[2]`), so the client also learns the field of its own input.
 */
export function fromConfigError(err: SentinelConfigError, objectPath: string | undefined): GraphQLError {
  const path = err.path;
  let field: string | undefined;
  if (objectPath !== undefined && (path === objectPath || path.startsWith(objectPath + ".") || path.startsWith(objectPath + "["))) {
    field = path.slice(objectPath.length).replace(/^\./, "");
  }
  const where = path === "" ? "" : `${path}: `;
  return invalid(`${where}${err.reason}`, { path, ...(field === undefined ? {} : { field }) });
}
