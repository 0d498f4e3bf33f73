/**
 * Checks on a tenant's credentials that JSON Schema cannot express: references between
 * credentials and connections, which credential types fit which transport, scope syntax. Run
 * once when a config loads; each problem names its path inside the file.
 */
import type { ConnectionConfig, CredentialConfig, TenantConfig } from "../config/types.js";
import { compileGlob } from "../policy/glob.js";
import { envVarName, headerName } from "./credential-material.js";
import { scopeTarget } from "./connection-binding.js";
import { parseScope } from "./scopes.js";

export interface ConfigProblem {
  readonly path: string;
  readonly reason: string;
}

export function credentialProblem(tenant: TenantConfig, at: string): ConfigProblem | undefined {
  const credentials = tenant.credentials ?? [];
  const connections = new Map((tenant.connections ?? []).map((c) => [c.name, c] as const));
  const byName = new Map<string, CredentialConfig>();
  for (const [i, cred] of credentials.entries()) {
    const path = `${at}.credentials[${i}]`;
    if (byName.has(cred.name)) return { path: `${path}.name`, reason: `duplicate credential name "${cred.name}"` };
    byName.set(cred.name, cred);
    const problem = shapeProblem(cred, path);
    if (problem !== undefined) return problem;
    for (const [j, scope] of (cred.scopes ?? []).entries()) {
      const reason = syntaxProblem(() => parseScope(scope));
      if (reason !== undefined) return { path: `${path}.scopes[${j}]`, reason };
    }
    for (const [j, name] of cred.connections.entries()) {
      const conn = connections.get(name);
      if (conn === undefined) return { path: `${path}.connections[${j}]`, reason: `no connection "${name}" in this tenant` };
      const reason = transportProblem(cred, conn);
      if (reason !== undefined) return { path: `${path}.connections[${j}]`, reason };
    }
  }
  for (const [i, conn] of (tenant.connections ?? []).entries()) {
    const path = `${at}.connections[${i}]`;
    if (conn.credential === undefined) {
      if (conn.requiredScopes !== undefined) return { path: `${path}.requiredScopes`, reason: "required scopes need a credential on the connection" };
      continue;
    }
    const cred = byName.get(conn.credential);
    if (cred === undefined) return { path: `${path}.credential`, reason: `no credential "${conn.credential}" in this tenant` };
    // Both sides name the binding so that neither a connection nor a credential can be pointed
    // at the other by one edit alone.
    if (!cred.connections.includes(conn.name)) return { path: `${path}.credential`, reason: `credential "${cred.name}" is not bound to connection "${conn.name}" (add it to its connections)` };
    const header = headerName(cred);
    if (conn.transport !== "stdio" && header !== undefined && Object.keys(conn.headers ?? {}).some((h) => h.toLowerCase() === header)) {
      return { path: `${path}.headers`, reason: `"${header}" is set by credential "${cred.name}"; remove it from the connection's headers` };
    }
    for (const [j, entry] of (conn.requiredScopes ?? []).entries()) {
      const { kind, pattern } = scopeTarget(entry);
      const globProblem = syntaxProblem(() => compileGlob(pattern));
      if (globProblem !== undefined) return { path: `${path}.requiredScopes[${j}].${kind}`, reason: globProblem };
      const scopeProblem = syntaxProblem(() => parseScope(entry.scope));
      if (scopeProblem !== undefined) return { path: `${path}.requiredScopes[${j}].scope`, reason: scopeProblem };
      if (parseScope(entry.scope).constraints.length > 0) return { path: `${path}.requiredScopes[${j}].scope`, reason: "a required scope has no constraints; constraints belong on the credential's granted scopes" };
    }
  }
  return undefined;
}

function shapeProblem(cred: CredentialConfig, path: string): ConfigProblem | undefined {
  if (cred.type === "oauth-client-credentials" && cred.oauth === undefined) return { path: `${path}.oauth`, reason: "oauth-client-credentials needs oauth.tokenUrl and oauth.clientId" };
  if (cred.type !== "oauth-client-credentials" && cred.oauth !== undefined) return { path: `${path}.oauth`, reason: `only oauth-client-credentials takes oauth settings, not ${cred.type}` };
  if (cred.type === "basic" && cred.username === undefined) return { path: `${path}.username`, reason: "basic credentials need a username (the secret is the password)" };
  if (cred.type !== "basic" && cred.username !== undefined) return { path: `${path}.username`, reason: `only basic credentials take a username, not ${cred.type}` };
  if (cred.template !== undefined) {
    if (cred.type === "basic" || cred.type === "env") return { path: `${path}.template`, reason: `${cred.type} credentials take no header template` };
    if (cred.template.split("{secret}").length !== 2) return { path: `${path}.template`, reason: 'a header template must contain "{secret}" exactly once' };
  }
  if (cred.type === "env" && (cred.header !== undefined || cred.envVar !== undefined)) {
    return { path: `${path}.${cred.header !== undefined ? "header" : "envVar"}`, reason: "env credentials set the variables named in their secret; they take no header or envVar" };
  }
  return undefined;
}

function transportProblem(cred: CredentialConfig, conn: ConnectionConfig): string | undefined {
  if (conn.transport === "http" || conn.transport === "llm") {
    if (cred.type === "env") return `an env credential can only be used by stdio connections; "${conn.name}" is ${conn.transport}`;
    if (headerName(cred) === undefined) return `${cred.type} credentials need "header" to be used by the ${conn.transport} connection "${conn.name}"`;
    return undefined;
  }
  // An OAuth child gets the access token in `envVar`; each refresh restarts it (version-switch.ts).
  if (cred.type !== "env" && envVarName(cred) === undefined) return `${cred.type} credentials need "envVar" to be used by the stdio connection "${conn.name}"`;
  return undefined;
}

function syntaxProblem(parse: () => unknown): string | undefined {
  try {
    parse();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
