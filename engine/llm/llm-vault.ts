/**
 * The vault & scope stage for an LLM call. A connection's `requiredScopes` tool globs are
 * matched against the model name and against the endpoint name (`gpt-4o`, `embeddings`), and
 * the credential must grant both scopes; a granted scope's constraints read the request body
 * (`llm:chat(max_completion_tokens <= 4096)`), after the output cap was written into it. Then
 * the credential version the call is injected with is leased.
 */
import { refuse, type Refusal } from "../errors.js";
import type { ConnectionBinding } from "../vault/connection-binding.js";
import { CredentialUnavailableError, type CredentialVersion } from "../vault/credential-version.js";
import { checkScope, covers } from "../vault/scopes.js";

export function admitLlm(binding: ConnectionBinding, names: readonly string[], body: unknown): CredentialVersion | Refusal | Promise<CredentialVersion | Refusal> {
  const credential = binding.credential;
  for (const name of names) {
    const required = binding.requiredScope(name);
    if (required === undefined) continue;
    const verdict = checkScope(credential.name, credential.grants, required, body);
    if (!verdict.ok) return refuse("SENTINEL_SCOPE_DENIED", verdict.reason);
  }
  return lease(binding);
}

/** Leases the active version (the models list needs the credential but no scope). */
export function lease(binding: ConnectionBinding): CredentialVersion | Refusal | Promise<CredentialVersion | Refusal> {
  const version = binding.credential.acquire();
  if (!(version instanceof Promise)) return version;
  return version.catch((err: Error) => {
    if (err instanceof CredentialUnavailableError) return refuse("SENTINEL_CREDENTIAL_UNAVAILABLE", err.message);
    throw err;
  });
}

/** Whether the credential grants what a model needs at all (constraints aside): lists hide the rest. */
export function mayUse(binding: ConnectionBinding, model: string): boolean {
  const required = binding.requiredScope(model);
  return required === undefined || binding.credential.grants.some((g) => covers(g, required));
}
