/**
 * The vault & scope stage for one request: checks the connection credential's scopes against
 * the scope the tool requires, then leases the credential version the call will be injected
 * with. `tools/list` is filtered the same way policy filters it: a tool whose required scope
 * the credential does not grant at all is not shown.
 */
import { refuse, type Refusal } from "../errors.js";
import type { JsonRpcRequest } from "../mcp/jsonrpc.js";
import type { CredentialVersion } from "./credential-version.js";
import { CredentialUnavailableError } from "./credential-version.js";
import { checkScope, covers } from "./scopes.js";
import type { ConnectionBinding } from "./connection-binding.js";

export interface Admission {
  readonly lease: CredentialVersion;
  /** Filters a `tools/list` result; undefined for other methods. */
  readonly rewrite: ((result: unknown) => unknown) | undefined;
}

export function admit(binding: ConnectionBinding, message: JsonRpcRequest): Admission | Refusal | Promise<Admission | Refusal> {
  const credential = binding.credential;
  let rewrite: Admission["rewrite"];
  if (message.method === "tools/call") {
    // Policy has already refused a call without a string name.
    const required = binding.requiredScope(message.params!.name as string);
    if (required !== undefined) {
      const verdict = checkScope(credential.name, credential.grants, required, message.params?.arguments ?? {});
      if (!verdict.ok) return refuse("SENTINEL_SCOPE_DENIED", verdict.reason);
    }
  } else if (message.method === "tools/list") {
    rewrite = (result) => {
      const tools = (result as { tools?: unknown } | undefined)?.tools;
      if (!Array.isArray(tools)) return result;
      const visible = tools.filter((tool) => {
        const name = (tool as { name?: unknown } | null)?.name;
        const required = typeof name === "string" ? binding.requiredScope(name) : undefined;
        return required === undefined || credential.grants.some((g) => covers(g, required));
      });
      return { ...(result as Record<string, unknown>), tools: visible };
    };
  }
  const lease = credential.acquire();
  if (!(lease instanceof Promise)) return { lease, rewrite };
  return lease.then(
    (v) => ({ lease: v, rewrite }),
    (err: Error) => {
      if (err instanceof CredentialUnavailableError) return refuse("SENTINEL_CREDENTIAL_UNAVAILABLE", err.message);
      throw err;
    },
  );
}
