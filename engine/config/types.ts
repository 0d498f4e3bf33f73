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
export type ConditionOp = "eq" | "neq" | "in" | "nin" | "exists";

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
}

export interface TenantConfig {
  id: string;
  name?: string;
  apiKeys?: ApiKeyConfig[];
  connections?: ConnectionConfig[];
  policies?: PolicyConfig[];
}

export interface SentinelConfig {
  version: 1;
  server: ServerConfig;
  tenants: TenantConfig[];
}
