import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERRORS, JSONRPC, refuse, SentinelConfigError, toJsonRpcError, type ErrorCode, type Refusal } from "../../engine/errors.js";
import { isSentinelErrorData } from "../../sdk/ts/src/wire.js";

const CODES = Object.keys(ERRORS) as ErrorCode[];
const README = fileURLToPath(new URL("../../README.md", import.meta.url));

describe("the error registry", () => {
  it("is not empty", () => {
    expect(CODES.length).toBeGreaterThan(0);
  });

  it.each(CODES)("%s is an upper-case code starting with SENTINEL_", (code) => {
    expect(code).toMatch(/^SENTINEL_[A-Z][A-Z0-9_]*$/);
  });

  it.each(CODES)("%s maps to a 4xx or 5xx HTTP status", (code) => {
    const { http } = ERRORS[code];
    expect(Number.isInteger(http)).toBe(true);
    expect(http).toBeGreaterThanOrEqual(400);
    expect(http).toBeLessThan(600);
  });

  it.each(CODES)("%s maps to an integer JSON-RPC code in the reserved -32768..-32000 range", (code) => {
    const { jsonrpc } = ERRORS[code];
    expect(Number.isInteger(jsonrpc)).toBe(true);
    expect(jsonrpc).toBeGreaterThanOrEqual(-32768);
    expect(jsonrpc).toBeLessThanOrEqual(-32000);
  });

  it.each(CODES)("%s has a one-line summary", (code) => {
    expect(ERRORS[code].summary.trim()).not.toBe("");
    expect(ERRORS[code].summary).not.toContain("\n");
  });

  it.each<[ErrorCode, number, number]>([
    ["SENTINEL_PARSE_ERROR", JSONRPC.parseError, 400],
    ["SENTINEL_INVALID_REQUEST", JSONRPC.invalidRequest, 400],
    ["SENTINEL_INVALID_PARAMS", JSONRPC.invalidParams, 400],
    ["SENTINEL_INTERNAL", JSONRPC.internalError, 500],
    ["SENTINEL_AUTH_MISSING", -32001, 401],
    ["SENTINEL_AUTH_INVALID", -32001, 401],
    ["SENTINEL_FORBIDDEN_ORIGIN", JSONRPC.invalidRequest, 403],
    ["SENTINEL_BODY_TOO_LARGE", JSONRPC.invalidRequest, 413],
    ["SENTINEL_UNSUPPORTED_MEDIA_TYPE", JSONRPC.invalidRequest, 415],
    ["SENTINEL_NOT_ACCEPTABLE", JSONRPC.invalidRequest, 406],
    ["SENTINEL_METHOD_NOT_ALLOWED", JSONRPC.invalidRequest, 405],
    ["SENTINEL_UNKNOWN_SESSION", -32004, 404],
    ["SENTINEL_POLICY_DENIED", -32003, 403],
    ["SENTINEL_UPSTREAM_TIMEOUT", -32011, 504],
    ["SENTINEL_SHUTTING_DOWN", -32013, 503],
  ])("%s keeps JSON-RPC code %i and HTTP status %i", (code, jsonrpc, http) => {
    expect(ERRORS[code]).toMatchObject({ jsonrpc, http });
  });

  it.each<[keyof typeof JSONRPC, number]>([
    ["parseError", -32700],
    ["invalidRequest", -32600],
    ["methodNotFound", -32601],
    ["invalidParams", -32602],
    ["internalError", -32603],
  ])("JSONRPC.%s is the JSON-RPC 2.0 reserved code %i", (name, value) => {
    expect(JSONRPC[name]).toBe(value);
  });
});

describe("toJsonRpcError", () => {
  it.each<[string, Refusal, string | undefined, Record<string, unknown>]>([
    ["code and reason only", refuse("SENTINEL_PARSE_ERROR", "bad json"), undefined, { code: "SENTINEL_PARSE_ERROR", reason: "bad json" }],
    [
      "a rule id",
      refuse("SENTINEL_POLICY_DENIED", 'denied by rule "no-deletes"', { ruleId: "no-deletes" }),
      undefined,
      { code: "SENTINEL_POLICY_DENIED", reason: 'denied by rule "no-deletes"', ruleId: "no-deletes" },
    ],
    [
      "a trace id",
      refuse("SENTINEL_INTERNAL", "boom"),
      "trace-123",
      { code: "SENTINEL_INTERNAL", reason: "boom", traceId: "trace-123" },
    ],
    [
      "a retry delay",
      refuse("SENTINEL_SHUTTING_DOWN", "draining", { retryAfterMs: 500 }),
      undefined,
      { code: "SENTINEL_SHUTTING_DOWN", reason: "draining", retryAfterMs: 500 },
    ],
    [
      "a zero retry delay",
      refuse("SENTINEL_SHUTTING_DOWN", "draining", { retryAfterMs: 0 }),
      undefined,
      { code: "SENTINEL_SHUTTING_DOWN", reason: "draining", retryAfterMs: 0 },
    ],
    [
      "every optional member",
      refuse("SENTINEL_POLICY_DENIED", "no rule allows it", { ruleId: "default-deny", retryAfterMs: 10 }),
      "t-1",
      { code: "SENTINEL_POLICY_DENIED", reason: "no rule allows it", ruleId: "default-deny", retryAfterMs: 10, traceId: "t-1" },
    ],
  ])("carries %s in data, and nothing else", (_label, refusal, traceId, data) => {
    const error = toJsonRpcError(refusal, traceId);
    expect(error.data).toStrictEqual(data);
    expect(error.code).toBe(ERRORS[refusal.code].jsonrpc);
    expect(error.message).toBe(`${refusal.code}: ${refusal.reason}`);
    expect(isSentinelErrorData(error.data)).toBe(true);
    expect(isSentinelErrorData(JSON.parse(JSON.stringify(error.data)))).toBe(true);
  });

  it.each(CODES)("the JSON-RPC error for %s carries data the SDK recognises", (code) => {
    const error = toJsonRpcError(refuse(code, "why"), "trace");
    expect(error.code).toBe(ERRORS[code].jsonrpc);
    expect(isSentinelErrorData(error.data)).toBe(true);
    expect(error.data.code).toBe(code);
  });
});

describe("isSentinelErrorData", () => {
  it.each<[string, unknown, boolean]>([
    ["code and reason", { code: "SENTINEL_X", reason: "r" }, true],
    ["extra members", { code: "SENTINEL_X", reason: "r", ruleId: "a", traceId: "t", retryAfterMs: 1 }, true],
    ["a foreign code", { code: "E_X", reason: "r" }, false],
    ["a missing reason", { code: "SENTINEL_X" }, false],
    ["a numeric reason", { code: "SENTINEL_X", reason: 1 }, false],
    ["a numeric code", { code: -32003, reason: "r" }, false],
    ["null", null, false],
    ["a string", "SENTINEL_X", false],
    ["undefined", undefined, false],
  ])("%s → %s", (_label, value, expected) => {
    expect(isSentinelErrorData(value)).toBe(expected);
  });
});

describe("SentinelConfigError", () => {
  it.each<[string, string, string, string]>([
    ["sentinel.yaml", "tenants[0].id", "duplicate tenant id", "sentinel.yaml: tenants[0].id: duplicate tenant id"],
    ["sentinel.yaml", "", "must be object", "sentinel.yaml: (root): must be object"],
  ])("names file %j, path %j and reason in its message", (file, path, reason, message) => {
    const error = new SentinelConfigError(file, path, reason);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("SentinelConfigError");
    expect({ file: error.file, path: error.path, reason: error.reason }).toEqual({ file, path, reason });
    expect(error.message).toBe(message);
  });
});

describe("README.md", () => {
  const readme = (): string => {
    expect(existsSync(README), `README.md is missing at ${README}: it must document every SENTINEL_ error code`).toBe(true);
    return readFileSync(README, "utf8");
  };

  it.each(CODES)("documents %s", (code) => {
    const pattern = new RegExp(`(?<![A-Z0-9_])${code}(?![A-Z0-9_])`);
    expect(pattern.test(readme()), `README.md does not mention the error code ${code}`).toBe(true);
  });

  it.each(CODES)("gives %s the registry's JSON-RPC code and HTTP status in its table row", (code) => {
    const row = readme()
      .split("\n")
      .find((line) => line.trimStart().startsWith("|") && line.includes(`\`${code}\``));
    expect(row, `README.md has no table row for \`${code}\``).toBeDefined();
    const cells = (row ?? "").split("|").map((cell) => cell.trim());
    const { jsonrpc, http } = ERRORS[code];
    expect(cells, `README.md's row for ${code} should give JSON-RPC code ${jsonrpc}`).toContain(String(jsonrpc));
    expect(
      cells.some((cell) => cell.split(/\s/)[0] === String(http)),
      `README.md's row for ${code} should give HTTP status ${http}`,
    ).toBe(true);
  });
});
