/**
 * Up-front validation of everything the caller passes in. A wrong type throws a `TypeError`, a
 * value of the right type that cannot work throws a `RangeError`; both name the option. The API
 * key is never echoed back in a message.
 */
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8080";

/** A flat metadata object: the gateway matches policy conditions against these values. */
export type Metadata = Readonly<Record<string, string | number | boolean>>;

export interface IgrisOptions {
  /**
   * The Sentinel API key (`Authorization: Bearer …`); it binds the agent to one tenant. When
   * omitted or `undefined`, the `IGRIS_API_KEY` environment variable is used.
   */
  readonly apiKey?: string | undefined;
  /** Where the gateway listens. Default `http://127.0.0.1:8080`. A path prefix is kept (`https://gw.example/sentinel`). */
  readonly baseUrl?: string | URL;
  /** A `fetch` to use instead of the global one (proxies, tests, instrumentation). */
  readonly fetch?: FetchLike;
  /** Default per-request timeout in milliseconds. Default 60000. */
  readonly timeoutMs?: number;
}

export interface ConnectOptions {
  /** The end user the agent acts for (`x-sentinel-user`). Fixed for the life of the connection. */
  readonly user?: string;
  /** Caller metadata matched by policy conditions (`x-sentinel-metadata`). Fixed for the life of the connection. */
  readonly metadata?: Metadata;
  /** Timeout for the MCP handshake, in milliseconds. Defaults to the client's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Aborts the handshake. */
  readonly signal?: AbortSignal;
}

export interface CallOptions {
  /** Timeout for this request, in milliseconds. Defaults to the client's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Aborts this request; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface ResolvedOptions {
  readonly apiKey: string;
  readonly baseUrl: URL;
  readonly fetch: FetchLike | undefined;
  readonly timeoutMs: number;
}

export interface ResolvedIdentity {
  readonly user: string | undefined;
  readonly metadata: Metadata | undefined;
  /** `metadata` as ASCII-only JSON, ready for the header. */
  readonly metadataHeader: string | undefined;
}

/** `setTimeout` cannot wait longer than this. */
const MAX_TIMEOUT_MS = 2_147_483_647;
const MAX_USER_LENGTH = 512;
const MAX_METADATA_BYTES = 4096;

/** What a wrong value is, for an error message (never the value itself: it may be a secret). */
const describe = (value: unknown): string => {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
};

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

const rejectUnknownKeys = (what: string, value: Record<string, unknown>, known: readonly string[]): void => {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
    throw new TypeError(`${what}: unknown option "${key}"${near === undefined ? ` (known: ${known.join(", ")})` : ` (did you mean "${near}"?)`}`);
  }
};

const validateTimeout = (what: string, value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw new TypeError(`${what} must be a number of milliseconds, got ${describe(value)}`);
  if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    throw new RangeError(`${what} must be a whole number of milliseconds between 1 and ${MAX_TIMEOUT_MS}, got ${value}`);
  }
  return value;
};

const validateSignal = (what: string, value: unknown): AbortSignal | undefined => {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new TypeError(`${what} must be an AbortSignal, got ${describe(value)}`);
  return value;
};

const envApiKey = (): string | undefined => {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.IGRIS_API_KEY;
};

export const resolveOptions = (options: unknown): ResolvedOptions => {
  if (!isPlainObject(options)) {
    throw new TypeError(`new Igris(options): options must be an object like { apiKey }, got ${describe(options)}`);
  }
  rejectUnknownKeys("new Igris(options)", options, ["apiKey", "baseUrl", "fetch", "timeoutMs"]);

  const rawKey = options.apiKey === undefined ? envApiKey() : options.apiKey;
  if (rawKey === undefined) {
    throw new TypeError("new Igris(options): options.apiKey is required (pass it, or set the IGRIS_API_KEY environment variable)");
  }
  if (typeof rawKey !== "string") throw new TypeError(`new Igris(options): options.apiKey must be a string, got ${describe(rawKey)}`);
  const source = options.apiKey === undefined ? "IGRIS_API_KEY" : "options.apiKey";
  if (rawKey.trim() === "") throw new RangeError(`new Igris(options): ${source} is empty`);
  if (!/^[\x21-\x7e]+$/.test(rawKey)) {
    throw new RangeError(
      `new Igris(options): ${source} contains whitespace or non-ASCII characters, which cannot be sent in an HTTP header (a stray newline from a file?)`,
    );
  }

  const rawUrl = options.baseUrl === undefined ? DEFAULT_BASE_URL : options.baseUrl;
  if (typeof rawUrl !== "string" && !(rawUrl instanceof URL)) {
    throw new TypeError(`new Igris(options): options.baseUrl must be a string or URL, got ${describe(rawUrl)}`);
  }
  let baseUrl: URL;
  try {
    baseUrl = new URL(rawUrl);
  } catch {
    throw new RangeError(`new Igris(options): options.baseUrl is not an absolute URL: ${JSON.stringify(String(rawUrl))}`);
  }
  if (baseUrl.protocol !== "http:" && baseUrl.protocol !== "https:") {
    throw new RangeError(`new Igris(options): options.baseUrl must use http: or https:, got ${baseUrl.protocol}`);
  }
  if (baseUrl.username !== "" || baseUrl.password !== "") {
    throw new RangeError("new Igris(options): options.baseUrl must not contain credentials; authenticate with apiKey");
  }
  if (baseUrl.search !== "" || baseUrl.hash !== "") {
    throw new RangeError(`new Igris(options): options.baseUrl must not have a query or fragment, got ${JSON.stringify(String(rawUrl))}`);
  }
  baseUrl.pathname = baseUrl.pathname.replace(/\/+$/, "");

  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw new TypeError(`new Igris(options): options.fetch must be a function, got ${describe(options.fetch)}`);
  }

  return {
    apiKey: rawKey,
    baseUrl,
    fetch: options.fetch as FetchLike | undefined,
    timeoutMs: validateTimeout("new Igris(options): options.timeoutMs", options.timeoutMs) ?? 60_000,
  };
};

const hasControlCharacter = (text: string): boolean => {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
};

export const validateConnection = (connection: unknown): string => {
  if (typeof connection !== "string") {
    throw new TypeError(`igris.connect(connection): connection must be a string such as "github-prod", got ${describe(connection)}`);
  }
  if (connection === "" || connection.trim() !== connection || hasControlCharacter(connection)) {
    throw new RangeError(
      `igris.connect(connection): connection must be a non-empty name without surrounding whitespace or control characters, got ${JSON.stringify(connection)}`,
    );
  }
  return connection;
};

/** JSON with every non-ASCII character escaped, so it can travel in an HTTP header unchanged. */
const asciiJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

export const resolveIdentity = (options: unknown): ResolvedIdentity & { timeoutMs: number | undefined; signal: AbortSignal | undefined } => {
  const what = "igris.connect(connection, options)";
  if (options === undefined) return { user: undefined, metadata: undefined, metadataHeader: undefined, timeoutMs: undefined, signal: undefined };
  if (!isPlainObject(options)) throw new TypeError(`${what}: options must be an object like { user, metadata }, got ${describe(options)}`);
  rejectUnknownKeys(what, options, ["user", "metadata", "timeoutMs", "signal"]);

  const { user } = options;
  if (user !== undefined) {
    if (typeof user !== "string") throw new TypeError(`${what}: options.user must be a string, got ${describe(user)}`);
    if (user === "" || user.trim() !== user) {
      throw new RangeError(`${what}: options.user must be non-empty without surrounding whitespace, got ${JSON.stringify(user)}`);
    }
    if (!/^[\x20-\x7e]+$/.test(user)) {
      throw new RangeError(`${what}: options.user must be printable ASCII (it travels in an HTTP header), got ${JSON.stringify(user)}`);
    }
    if (user.length > MAX_USER_LENGTH) throw new RangeError(`${what}: options.user is longer than ${MAX_USER_LENGTH} characters`);
  }

  const { metadata } = options;
  let metadataHeader: string | undefined;
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) {
      throw new TypeError(`${what}: options.metadata must be a flat object like { role: "developer" }, got ${describe(metadata)}`);
    }
    for (const [key, value] of Object.entries(metadata)) {
      if (key === "") throw new RangeError(`${what}: options.metadata has an empty key`);
      if (typeof value === "number") {
        if (!Number.isFinite(value)) throw new RangeError(`${what}: options.metadata.${key} must be a finite number, got ${value}`);
      } else if (typeof value !== "string" && typeof value !== "boolean") {
        throw new TypeError(`${what}: options.metadata.${key} must be a string, number or boolean (metadata is flat), got ${describe(value)}`);
      }
    }
    metadataHeader = asciiJson(metadata);
    if (metadataHeader.length > MAX_METADATA_BYTES) {
      throw new RangeError(`${what}: options.metadata is ${metadataHeader.length} bytes as JSON; the limit is ${MAX_METADATA_BYTES}`);
    }
  }

  return {
    user,
    metadata: metadata === undefined ? undefined : Object.freeze({ ...(metadata as Metadata) }),
    metadataHeader,
    timeoutMs: validateTimeout(`${what}: options.timeoutMs`, options.timeoutMs),
    signal: validateSignal(`${what}: options.signal`, options.signal),
  };
};

export const resolveCallOptions = (what: string, options: unknown): { timeoutMs: number | undefined; signal: AbortSignal | undefined } => {
  if (options === undefined) return { timeoutMs: undefined, signal: undefined };
  if (!isPlainObject(options)) throw new TypeError(`${what}: options must be an object like { timeoutMs, signal }, got ${describe(options)}`);
  rejectUnknownKeys(what, options, ["timeoutMs", "signal"]);
  return {
    timeoutMs: validateTimeout(`${what}: options.timeoutMs`, options.timeoutMs),
    signal: validateSignal(`${what}: options.signal`, options.signal),
  };
};

export const validateToolCall = (tool: unknown, args: unknown): Record<string, unknown> => {
  if (typeof tool !== "string") throw new TypeError(`mcp.call(tool, args): tool must be a string such as "repo.read", got ${describe(tool)}`);
  if (tool === "") throw new RangeError("mcp.call(tool, args): tool is empty");
  if (args === undefined) return {};
  if (!isPlainObject(args)) throw new TypeError(`mcp.call(tool, args): args must be a plain object of tool arguments, got ${describe(args)}`);
  return args;
};

export const validateString = (what: string, value: unknown): string => {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string, got ${describe(value)}`);
  if (value === "") throw new RangeError(`${what} is empty`);
  return value;
};

export const validateStringRecord = (what: string, value: unknown): Record<string, string> | undefined => {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new TypeError(`${what} must be an object of string values, got ${describe(value)}`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new TypeError(`${what}.${key} must be a string (prompt arguments are strings), got ${describe(v)}`);
  }
  return value as Record<string, string>;
};
