/**
 * Stage 1 of both pipelines (MCP and LLM): the API key in `Authorization: Bearer` → its tenant.
 * Keys are looked up by their SHA-256 (engine/auth/api-keys.ts); the plaintext is never kept.
 */
import { HEADERS } from "../../sdk/ts/src/wire.js";
import { bearerToken, hashApiKey } from "../auth/api-keys.js";
import type { CallTrace } from "../audit/call-trace.js";
import type { ApiKeyBinding } from "../config/compile-config.js";
import { refuse, type Refusal } from "../errors.js";
import type { IncomingRequest } from "./downstream.js";
import type { Gateway } from "./gateway.js";

export interface Authenticated {
  readonly binding: ApiKeyBinding;
  readonly keyHash: string;
}

/** Fills the trace's tenant, key and connection as soon as they are known: refusals from here on are audited. */
export function authenticate(gw: Gateway, req: IncomingRequest, connectionName: string, trace: CallTrace | undefined): Authenticated | Refusal {
  const header = req.headers.get(HEADERS.authorization);
  if (header === undefined) return refuse("SENTINEL_AUTH_MISSING", "send Authorization: Bearer <api key>");
  const key = bearerToken(header);
  if (key === undefined) return refuse("SENTINEL_AUTH_INVALID", "the Authorization header is not a Bearer token");
  const keyHash = hashApiKey(key);
  const binding = gw.runtime.keys.get(keyHash);
  if (binding === undefined) return refuse("SENTINEL_AUTH_INVALID", "the API key is unknown or revoked");
  if (trace !== undefined) {
    trace.tenant = binding.tenant.id;
    trace.keyId = binding.keyId;
    trace.connection = connectionName;
  }
  return { binding, keyHash };
}
