/**
 * The caller's stated identity: the user an agent acts for and metadata such as role, read from
 * documented headers when a session starts (see sdk/ts/src/wire.ts). The API key holder is
 * trusted to state them; what is not trusted is a later request changing them, so a session
 * fixes them at initialize and refuses any request that presents different ones.
 */
import { HEADERS } from "../../sdk/ts/src/wire.js";
import { refuse, type Refusal } from "../errors.js";

export type MetadataValue = string | number | boolean | readonly string[];
export type Metadata = Readonly<Record<string, MetadataValue>>;

export interface StatedIdentity {
  readonly user: string | undefined;
  readonly metadata: Metadata;
}

const MAX_USER_LENGTH = 256;
const MAX_METADATA_BYTES = 8192;
const MAX_METADATA_KEYS = 64;
const KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Reads identity headers. `headers` has lower-case names, as every HTTP front delivers them. */
export function readIdentity(headers: ReadonlyMap<string, string>, tenantId: string): StatedIdentity | Refusal {
  const user = headers.get(HEADERS.user)?.trim();
  if (user !== undefined && (user.length === 0 || user.length > MAX_USER_LENGTH)) {
    return refuse("SENTINEL_IDENTITY_INVALID", `${HEADERS.user} must be 1 to ${MAX_USER_LENGTH} characters`);
  }

  const metadata: Record<string, MetadataValue> = Object.create(null);
  const json = headers.get(HEADERS.metadata);
  if (json !== undefined) {
    if (Buffer.byteLength(json, "utf8") > MAX_METADATA_BYTES) {
      return refuse("SENTINEL_IDENTITY_INVALID", `${HEADERS.metadata} is larger than ${MAX_METADATA_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return refuse("SENTINEL_IDENTITY_INVALID", `${HEADERS.metadata} is not valid JSON`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return refuse("SENTINEL_IDENTITY_INVALID", `${HEADERS.metadata} must be a JSON object`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      const problem = setMetadata(metadata, key, value, HEADERS.metadata);
      if (problem !== undefined) return problem;
    }
  }

  for (const [name, value] of headers) {
    if (!name.startsWith(HEADERS.metadataPrefix)) continue;
    const key = name.slice(HEADERS.metadataPrefix.length);
    if (key in metadata && metadata[key] !== value) {
      return refuse("SENTINEL_IDENTITY_INVALID", `metadata key "${key}" is given twice with different values`);
    }
    const problem = setMetadata(metadata, key, value, name);
    if (problem !== undefined) return problem;
  }

  if (Object.keys(metadata).length > MAX_METADATA_KEYS) {
    return refuse("SENTINEL_IDENTITY_INVALID", `metadata has more than ${MAX_METADATA_KEYS} keys`);
  }
  // The tenant comes from the API key. Metadata may repeat it (the brief's SDK example does),
  // but never name another one: that would let a key for one tenant pose as another.
  if ("tenant" in metadata && metadata.tenant !== tenantId) {
    return refuse("SENTINEL_IDENTITY_INVALID", `metadata tenant "${String(metadata.tenant)}" does not match the API key's tenant`);
  }
  return { user, metadata: Object.freeze(metadata) };
}

function setMetadata(target: Record<string, MetadataValue>, key: string, value: unknown, source: string): Refusal | undefined {
  if (!KEY_PATTERN.test(key)) {
    return refuse("SENTINEL_IDENTITY_INVALID", `metadata key "${key}" in ${source} must match ${KEY_PATTERN.source}`);
  }
  const ok =
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value)) ||
    (Array.isArray(value) && value.every((v) => typeof v === "string"));
  if (!ok) {
    return refuse("SENTINEL_IDENTITY_INVALID", `metadata "${key}" must be a string, number, boolean or list of strings`);
  }
  target[key] = Array.isArray(value) ? Object.freeze([...value]) : (value as MetadataValue);
  return undefined;
}

/** True when a later request states the same user and metadata as the session's own. */
export function sameIdentity(fixed: StatedIdentity, stated: StatedIdentity): boolean {
  return fixed.user === stated.user && JSON.stringify(sortKeys(fixed.metadata)) === JSON.stringify(sortKeys(stated.metadata));
}

const sortKeys = (m: Metadata) => Object.keys(m).sort().map((k) => [k, m[k]]);
