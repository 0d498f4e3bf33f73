/**
 * Injects a connection's vault credential into every upstream request, on the wire only: the
 * headers come from the credential version the call was admitted with (its lease, carried in
 * the dispatch options under CALL_CREDENTIAL), so a call that started before a rotation finishes
 * with the version it started on. Composed inside staticHeaders, so a configured or
 * caller-supplied header can never override the credential.
 */
import type { Dispatcher } from "undici";
import type { CallCredential } from "../upstream.js";

export const CALL_CREDENTIAL = Symbol("sentinel.callCredential");

export type CredentialDispatchOptions = Dispatcher.DispatchOptions & { [CALL_CREDENTIAL]?: CallCredential };

export class MissingCredentialError extends Error {
  override readonly name = "MissingCredentialError";
  readonly code = "SENTINEL_CREDENTIAL_UNAVAILABLE";
}

export function credentialHeaders(): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const injected = (opts as CredentialDispatchOptions)[CALL_CREDENTIAL]?.headers;
    // A request without credential headers on a connection that has a credential would reach
    // the upstream unauthenticated (or worse, authenticated by whatever the caller sent).
    if (injected === undefined) throw new MissingCredentialError("no credential for this upstream request");
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries((opts.headers ?? {}) as Record<string, string>)) merged[k.toLowerCase()] = v;
    for (const k in injected) merged[k] = injected[k]!;
    return dispatch({ ...opts, headers: merged }, handler);
  };
}
