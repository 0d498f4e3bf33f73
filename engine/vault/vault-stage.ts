/**
 * The vault & scope stage for one request: checks the connection credential's scopes against
 * the scope the tool, resource or prompt requires, then leases the credential version the call
 * will be injected with. Lists are filtered the same way policy filters them: a tool, resource
 * (or resource template) or prompt whose required scope the credential does not grant at all
 * is not shown.
 */
import { refuse, type Refusal } from "../errors.js";
import type { JsonRpcRequest } from "../mcp/jsonrpc.js";
import type { CredentialVersion } from "./credential-version.js";
import { CredentialUnavailableError } from "./credential-version.js";
import { checkScope, covers } from "./scopes.js";
import type { ConnectionBinding, ScopeKind } from "./connection-binding.js";
import { ownEntry } from "../util/own.js";

export interface Admission {
  readonly lease: CredentialVersion;
  /** Filters a list result (tools, resources, resource templates, prompts); undefined for other methods. */
  readonly rewrite: ((result: unknown) => unknown) | undefined;
}

type Params = Record<string, unknown>;

/**
 * The calls a scope guards: what they name, and the arguments a granted scope's constraints
 * are checked against. A resource has no arguments but its URI, so constraints see `{ uri }`.
 */
const GUARDED: Readonly<Record<string, { kind: ScopeKind; name: (p: Params) => unknown; args: (p: Params) => unknown }>> = {
  "tools/call": { kind: "tool", name: (p) => p.name, args: (p) => p.arguments ?? {} },
  "resources/read": { kind: "resource", name: (p) => p.uri, args: (p) => ({ uri: p.uri }) },
  "resources/subscribe": { kind: "resource", name: (p) => p.uri, args: (p) => ({ uri: p.uri }) },
  "prompts/get": { kind: "prompt", name: (p) => p.name, args: (p) => p.arguments ?? {} },
};

const LISTS: Readonly<Record<string, { key: string; field: string; kind: ScopeKind }>> = {
  "tools/list": { key: "tools", field: "name", kind: "tool" },
  "resources/list": { key: "resources", field: "uri", kind: "resource" },
  "resources/templates/list": { key: "resourceTemplates", field: "uriTemplate", kind: "resource" },
  "prompts/list": { key: "prompts", field: "name", kind: "prompt" },
};

export function admit(binding: ConnectionBinding, message: JsonRpcRequest): Admission | Refusal | Promise<Admission | Refusal> {
  const credential = binding.credential;
  const params = message.params ?? {};
  let rewrite: Admission["rewrite"];
  const guarded = ownEntry(GUARDED, message.method);
  const list = ownEntry(LISTS, message.method);
  if (guarded !== undefined) {
    // Policy has already refused a governed call without a string name or URI.
    const name = guarded.name(params);
    const required = typeof name === "string" ? binding.requiredScope(name, guarded.kind) : undefined;
    if (required !== undefined) {
      const verdict = checkScope(credential.name, credential.grants, required, guarded.args(params));
      if (!verdict.ok) return refuse("SENTINEL_SCOPE_DENIED", verdict.reason);
    }
  } else if (message.method === "completion/complete") {
    // Completing a prompt's or a resource template's arguments is using it: the credential must
    // grant its scope, though not its constraints (there are no call arguments to check yet).
    const ref = params.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
    const target = ref?.type === "ref/prompt" ? { kind: "prompt" as const, name: ref.name } : ref?.type === "ref/resource" ? { kind: "resource" as const, name: ref.uri } : undefined;
    const required = typeof target?.name === "string" ? binding.requiredScope(target.name, target.kind) : undefined;
    if (required !== undefined && !credential.grants.some((g) => covers(g, required))) {
      return refuse("SENTINEL_SCOPE_DENIED", `credential ${credential.name} lacks scope ${required.source}`);
    }
  } else if (list !== undefined && binding.guards(list.kind)) {
    rewrite = (result) => {
      const items = (result as Params | undefined)?.[list.key];
      if (!Array.isArray(items)) return result;
      const visible = items.filter((item) => {
        const name = (item as Params | null)?.[list.field];
        const required = typeof name === "string" ? binding.requiredScope(name, list.kind) : undefined;
        return required === undefined || credential.grants.some((g) => covers(g, required));
      });
      return { ...(result as Params), [list.key]: visible };
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
