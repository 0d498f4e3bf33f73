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
  /** Tool, resource or prompt glob → scope the credential must grant; per kind the first match wins, unmatched names need none. */
  requiredScopes?: RequiredScopeConfig[];
}

/** Exactly one of `tool`, `resource` (a URI glob) or `prompt` is set (the schema checks it). */
export interface RequiredScopeConfig {
  tool?: string;
  resource?: string;
  prompt?: string;
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

/**
 * An LLM provider that speaks the OpenAI HTTP API (engine/llm): served at `/llm/<name>/…`,
 * never over MCP. `provider` picks the dialect's small differences (which max-tokens field a
 * chat request gets when the gateway sets one).
 */
export interface LlmConnectionConfig extends ConnectionBase {
  transport: "llm";
  /** The provider's base URL, version included: `https://api.openai.com/v1`. */
  url: string;
  provider?: LlmProvider;
  headers?: Record<string, string>;
  maxConnections?: number;
}

export type LlmProvider = "openai" | "openai-compatible";

/** The connections served over MCP at `/mcp/<name>`. */
export type McpConnectionConfig = HttpConnectionConfig | StdioConnectionConfig;

export type ConnectionConfig = McpConnectionConfig | LlmConnectionConfig;

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

export type GuardAction = "deny" | "redact" | "alert";

/** A built-in Content Guard pattern by id, or with its action overridden. */
export type GuardBuiltinConfig = string | { id: string; action?: GuardAction };

/** A custom Content Guard pattern: an RE2 regular expression or a keyword list. */
export interface GuardPatternConfig {
  id: string;
  pattern?: string;
  keywords?: string[];
  action: GuardAction;
  /** The placeholder type, `[REDACTED:<label>]`; defaults to the id in upper case. */
  label?: string;
}

export interface GuardConfig {
  /** Built-in pattern ids to enable; "*" enables every one that is not opt-in. */
  builtins?: GuardBuiltinConfig[];
  patterns?: GuardPatternConfig[];
  /** Also scan tool, resource and prompt results on their way back. */
  responseInspection?: boolean;
  /** Payloads at least this large are scanned in the worker pool. */
  offloadBytes?: number;
}

export type LimitScope = "tenant" | "user" | "session" | "connection" | "tool" | "model";
export type LimitMetric = "requests" | "tokens" | "dollars";
export type LimitWindow = "minute" | "hour" | "day";

export interface LimitConfig {
  id: string;
  description?: string;
  /** One counter per tenant, user, session, connection, tool name or model name. */
  scope: LimitScope;
  /** Glob on the tool name: the limit counts only calls of matching tools. */
  tools?: string;
  /** Glob on the model name: the limit counts only LLM calls of matching models. */
  models?: string;
  metric: LimitMetric;
  window: LimitWindow;
  max: number;
}

export interface TokenCapsConfig {
  input?: number;
  output?: number;
  total?: number;
}

export interface PricesConfig {
  /** Dollars per million tokens, first matching pattern wins. */
  models?: Array<{ pattern: string; inputPerMillion: number; outputPerMillion: number }>;
  /** Per-call costs: a fixed amount and/or an argument read as an amount, times `scale`. */
  tools?: Array<{ pattern: string; perCall?: number; argument?: string; scale?: number }>;
}

export interface TenantConfig {
  id: string;
  name?: string;
  apiKeys?: ApiKeyConfig[];
  connections?: ConnectionConfig[];
  policies?: PolicyConfig[];
  credentials?: CredentialConfig[];
  guard?: GuardConfig;
  limits?: LimitConfig[];
  tokenCaps?: TokenCapsConfig;
  prices?: PricesConfig;
}

export interface SentinelConfig {
  version: 1;
  server: ServerConfig;
  vault?: VaultConfig;
  audit?: AuditConfig;
  tenants: TenantConfig[];
}

export type AuditArgumentsMode = "none" | "redacted" | "full";
export type AuditDurability = "async" | "written" | "fsync";
export type AlertSeverity = "info" | "warning" | "error" | "critical";

export interface AuditConfig {
  enabled?: boolean;
  /** The spool, signing key, cursors and dead-letters; default `<data dir>/audit`. */
  dir?: string;
  arguments?: AuditArgumentsMode;
  durability?: AuditDurability;
  spool?: { segmentBytes?: number; maxBytes?: number; syncIntervalMs?: number };
  checkpoint?: { everyRecords?: number; intervalMs?: number };
  /**
   * Ed25519 private key (PEM, mode 0600) when no vault is configured; default
   * `<dir>/signing-key.pem`, created on first start. With a vault the key is kept wrapped by the
   * root key beside it (`signing-key.wrapped.json`), and a plaintext one found there is migrated.
   */
  signingKeyFile?: string;
  sinks?: {
    store?: { kind: "embedded"; dir?: string } | { kind: "postgres"; url?: string } | { kind: "none" };
    kafka?: { brokers: string; topic: string; properties?: Record<string, string | number | boolean> };
  };
  alerts?: {
    channels: Array<{ id: string; type: "slack" | "discord" | "webhook"; url: string; secret?: string }>;
    routes: Array<{ channels: string[]; rules?: string[]; decisions?: string[]; minSeverity?: AlertSeverity }>;
    retry?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number; timeoutMs?: number };
  };
}
