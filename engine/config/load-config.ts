/**
 * Reads, interpolates and validates a configuration file. Every fault is a SentinelConfigError
 * naming the file, the path inside it (`tenants[0].connections[1].url`) and the reason, so a bad
 * config never reaches the gateway and never half-applies.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { LineCounter, parseDocument } from "yaml";
import { SentinelConfigError } from "../errors.js";
import { credentialProblem } from "../vault/config-check.js";
import { checkAuditSemantics } from "../audit/audit-config.js";
import { compilePolicy, PolicyRuleError } from "../policy/compile-policy.js";
import { compileSafeguards, SafeguardError } from "./compile-safeguards.js";
import type { SentinelConfig, ServerConfig } from "./types.js";

/** The install directory: `${SENTINEL_HOME}` in config strings. */
export const SENTINEL_HOME = resolve(dirname(fileURLToPath(import.meta.url)), findHomeOffset());

function findHomeOffset(): string {
  // engine/config/ in source, dist/engine/config/ once built.
  return fileURLToPath(import.meta.url).includes("/dist/engine/") ? "../../.." : "../..";
}

export const SERVER_DEFAULTS: ServerConfig = {
  host: "127.0.0.1",
  port: 8080,
  maxBodyBytes: 4 * 1024 * 1024,
  sessionIdleTimeoutMs: 30 * 60 * 1000,
};

const SCHEMA_PATH = resolve(SENTINEL_HOME, "schema/sentinel-config.schema.json");

let validator: ReturnType<Ajv2020["compile"]> | undefined;
function validate(doc: unknown): ErrorObject[] {
  if (validator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, discriminator: true, useDefaults: true });
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));
  }
  return validator(doc) ? [] : (validator.errors ?? []);
}

export interface LoadOptions {
  /** Variables for `${NAME}`; defaults to process.env plus SENTINEL_HOME and NODE. */
  env?: Record<string, string | undefined>;
}

export function loadConfigFile(file: string, options: LoadOptions = {}): SentinelConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new SentinelConfigError(file, "", `cannot read file: ${(err as Error).message}`);
  }
  return parseConfig(text, file, options);
}

/** YAML (or JSON) text as plain data, before interpolation; a syntax error names line and column. */
export function readYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const at = lineCounter.linePos(firstError.pos[0]);
    throw new SentinelConfigError(file, `line ${at.line}, column ${at.col}`, firstError.message.split("\n")[0] ?? "");
  }
  return doc.toJS({ maxAliasCount: 100 });
}

export function parseConfig(text: string, file: string, options: LoadOptions = {}): SentinelConfig {
  const raw = readYaml(text, file);
  const env = { SENTINEL_HOME, NODE: process.execPath, ...(options.env ?? process.env) };
  const interpolated = interpolate(raw, env, file, "");
  const errors = validate(interpolated);
  if (errors.length > 0) {
    const best = pickError(errors);
    throw new SentinelConfigError(file, toPath(best.instancePath, best), describe(best));
  }
  const config = interpolated as SentinelConfig;
  config.server = { ...SERVER_DEFAULTS, ...config.server };
  checkSemantics(config, file);
  return config;
}

/** Replaces `${NAME}` in every string; an unset variable is an error, never an empty string. */
function interpolate(value: unknown, env: Record<string, string | undefined>, file: string, path: string): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw new SentinelConfigError(file, path, `environment variable \${${name}} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, file, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, file, path === "" ? k : `${path}.${k}`);
    return out;
  }
  return value;
}

/** The most specific error: the deepest path, preferring concrete keywords over oneOf summaries. */
function pickError(errors: ErrorObject[]): ErrorObject {
  const vague = new Set(["oneOf", "anyOf", "if"]);
  return [...errors].sort((a, b) => {
    const depth = b.instancePath.split("/").length - a.instancePath.split("/").length;
    if (depth !== 0) return depth;
    return Number(vague.has(a.keyword)) - Number(vague.has(b.keyword));
  })[0]!;
}

function toPath(pointer: string, error: ErrorObject): string {
  let path = "";
  for (const part of pointer.split("/").slice(1)) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    path += /^\d+$/.test(key) ? `[${key}]` : path === "" ? key : `.${key}`;
  }
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    path += path === "" ? extra : `.${extra}`;
  }
  return path;
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case "additionalProperties":
      return "unknown property";
    case "required":
      return `missing required property "${(error.params as { missingProperty: string }).missingProperty}"`;
    case "enum":
      return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    case "const":
      return `must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
    case "discriminator":
      return `"transport" must be "http", "stdio" or "llm"`;
    case "minProperties":
    case "maxProperties":
      if (error.schemaPath.startsWith("#/$defs/requiredScope/")) return 'needs "scope" and exactly one of "tool", "resource" or "prompt"';
      return error.message ?? error.keyword;
    default:
      return error.message ?? error.keyword;
  }
}

function checkSemantics(config: SentinelConfig, file: string): void {
  const fail = (path: string, reason: string): never => {
    throw new SentinelConfigError(file, path, reason);
  };
  checkAuditSemantics(config, fail);
  const tenantIds = new Set<string>();
  const keyHashes = new Map<string, string>();
  config.tenants.forEach((tenant, t) => {
    const at = `tenants[${t}]`;
    if (tenantIds.has(tenant.id)) fail(`${at}.id`, `duplicate tenant id "${tenant.id}"`);
    tenantIds.add(tenant.id);
    unique(tenant.connections ?? [], (c) => c.name, `${at}.connections`, "connection name", fail);
    unique(tenant.policies ?? [], (p) => p.id, `${at}.policies`, "policy id", fail);
    unique(tenant.apiKeys ?? [], (k) => k.id, `${at}.apiKeys`, "API key id", fail);
    const credential = credentialProblem(tenant, at);
    if (credential !== undefined) fail(credential.path, credential.reason);
    (tenant.apiKeys ?? []).forEach((key, k) => {
      const owner = keyHashes.get(key.hash);
      if (owner !== undefined) fail(`${at}.apiKeys[${k}].hash`, `the same key hash is already used by ${owner}`);
      keyHashes.set(key.hash, `${at}.apiKeys[${k}]`);
    });
    (tenant.policies ?? []).forEach((policy, p) => {
      if (policy.scope?.org !== undefined && policy.scope.org !== tenant.id) {
        fail(`${at}.policies[${p}].scope.org`, `"${policy.scope.org}" is not this tenant ("${tenant.id}")`);
      }
    });
    // Compiling the rules is the only complete check of globs, operands and regular expressions;
    // doing it here makes `validate` and `apply` refuse what the gateway could not publish.
    try {
      compilePolicy(tenant.policies ?? []);
    } catch (err) {
      if (!(err instanceof PolicyRuleError)) throw err;
      fail(`${at}.policies[${err.index}].${err.path}`, err.message);
    }
    // The same for Content Guard patterns (RE2 refuses backreferences and lookaround), limits
    // and prices.
    try {
      compileSafeguards(tenant);
    } catch (err) {
      if (!(err instanceof SafeguardError)) throw err;
      fail(`${at}.${err.path}`, err.message);
    }
  });
}

function unique<T>(
  items: T[],
  key: (item: T) => string,
  at: string,
  what: string,
  fail: (path: string, reason: string) => never,
): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) fail(`${at}[${i}]`, `duplicate ${what} "${k}"`);
    seen.add(k);
  });
}
