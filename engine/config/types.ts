/**
 * The declarative configuration, as written in `sentinel.yaml` and described by
 * `schema/sentinel-config.schema.json`. These are the shapes after validation and
 * `${VAR}` interpolation; `compile-config.ts` turns them into runtime objects once.
 */

export interface ServerConfig {
  host: string;
  port: number;
  maxBodyBytes: number;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  sessionIdleTimeoutMs: number;
  /** The environment this gateway serves (production, staging…), for rule scopes. */
  environment?: string;
}

export interface ApiKeyConfig {
  id: string;
  hash: string;
  description?: string;
  revoked?: boolean;
}

interface ConnectionBase {
  name: string;
  description?: string;
  timeoutMs?: number;
  /** The tenant credential injected on the wire for this connection (engine/vault). */
  credential?: string;
  /** Tool glob → scope the credential must grant; first match wins, unmatched tools need none. */
  requiredScopes?: ToolScopeConfig[];
}

export interface ToolScopeConfig {
  tool: string;
  scope: string;
}

export interface HttpConnectionConfig extends ConnectionBase {
  transport: "http";
  url: string;
  headers?: Record<string, string>;
  maxConnections?: number;
}

export interface StdioRestartConfig {
  initialDelayMs?: number;
  maxDelayMs?: number;
  maxRestarts?: number;
}

export interface StdioConnectionConfig extends ConnectionBase {
  transport: "stdio";
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  restart?: StdioRestartConfig;
}

export type ConnectionConfig = HttpConnectionConfig | StdioConnectionConfig;

export type PolicyTarget = "mcp.tool" | "mcp.resource" | "mcp.prompt" | "llm.model" | "llm.endpoint";
export type PolicyAction = "allow" | "deny" | "alert" | "redact" | "confirm";
export type ConditionOp =
  | "eq" | "neq" | "in" | "nin" | "gt" | "gte" | "lt" | "lte" | "between"
  | "contains" | "startsWith" | "endsWith" | "matches" | "glob" | "exists" | "cidr";

export interface ConditionConfig {
  field: string;
  op: ConditionOp;
  value?: unknown;
}

export interface AnyOfConfig {
  anyOf: ConditionConfig[];
}

export interface PolicyConfig {
  id: string;
  description?: string;
  target: PolicyTarget;
  pattern: string;
  conditions?: Array<ConditionConfig | AnyOfConfig>;
  action: PolicyAction;
  order?: number;
  enabled?: boolean;
  /** Where the rule applies: `org` must be the tenant's id; `environment` one or more of `server.environment`. */
  scope?: { org?: string; environment?: string | string[] };
}

export type CredentialType = "bearer" | "api-key" | "basic" | "oauth-client-credentials" | "database-url" | "env";

export interface OAuthClientConfig {
  tokenUrl: string;
  clientId: string;
  scope?: string;
  audience?: string;
  clientAuth?: "basic" | "post";
  refreshBeforeSeconds?: number;
}

export interface CredentialConfig {
  name: string;
  type: CredentialType;
  description?: string;
  connections: string[];
  scopes?: string[];
  header?: string;
  template?: string;
  envVar?: string;
  username?: string;
  oauth?: OAuthClientConfig;
  rotation?: { periodDays: number; command?: string[] };
  bootstrapEnv?: string;
}

export type RootKeyConfig =
  | { provider: "file"; path?: string }
  | { provider: "env"; variable?: string }
  | { provider: "pkcs11"; library: string; tokenLabel: string; pinEnv: string; keyLabel?: string };

export interface VaultConfig {
  rootKey?: RootKeyConfig;
  previousRootKey?: RootKeyConfig;
  file?: string;
  cacheTtlMs?: number;
  drainTimeoutMs?: number;
}

export interface TenantConfig {
  id: string;
  name?: string;
  apiKeys?: ApiKeyConfig[];
  connections?: ConnectionConfig[];
  policies?: PolicyConfig[];
  credentials?: CredentialConfig[];
}

export interface SentinelConfig {
  version: 1;
  server: ServerConfig;
  vault?: VaultConfig;
  tenants: TenantConfig[];
}
