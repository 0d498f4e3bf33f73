import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_BASE_URL, Igris, SDK_VERSION } from "./index.js";
import type { IgrisOptions } from "./index.js";

const make = (options: unknown): Igris => new Igris(options as IgrisOptions);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("new Igris(options)", () => {
  it("accepts the quick-start form and defaults baseUrl", () => {
    const igris = new Igris({ apiKey: "sk_test_123" });
    expect(igris.baseUrl).toBe(DEFAULT_BASE_URL);
    expect(igris.timeoutMs).toBe(60_000);
    expect(igris.endpoint("github-prod").href).toBe("http://127.0.0.1:8080/mcp/github-prod");
  });

  it("keeps a path prefix, drops trailing slashes and encodes the connection name", () => {
    const igris = new Igris({ apiKey: "k", baseUrl: "https://gw.example.com/sentinel/" });
    expect(igris.baseUrl).toBe("https://gw.example.com/sentinel");
    expect(igris.endpoint("team a/b").href).toBe("https://gw.example.com/sentinel/mcp/team%20a%2Fb");
    expect(new Igris({ apiKey: "k", baseUrl: new URL("http://localhost:9000") }).baseUrl).toBe("http://localhost:9000");
  });

  it("never exposes the API key on the instance", () => {
    const igris = new Igris({ apiKey: "sk_secret_value" });
    expect(JSON.stringify(igris)).not.toContain("sk_secret_value");
    expect(Object.values(igris)).not.toContain("sk_secret_value");
  });

  it("falls back to IGRIS_API_KEY when apiKey is undefined", () => {
    vi.stubEnv("IGRIS_API_KEY", "from_env");
    expect(() => new Igris({ apiKey: process.env.IGRIS_API_KEY })).not.toThrow();
    expect(() => new Igris({})).not.toThrow();
  });

  it("throws a TypeError naming the fix when no key is available", () => {
    vi.stubEnv("IGRIS_API_KEY", undefined);
    expect(() => new Igris({ apiKey: process.env.IGRIS_API_KEY })).toThrow(TypeError);
    expect(() => new Igris({ apiKey: undefined })).toThrow(/IGRIS_API_KEY/);
  });

  it.each([
    [undefined, TypeError, /options must be an object/],
    ["sk_key", TypeError, /options must be an object/],
    [{ apiKey: 42 }, TypeError, /apiKey must be a string, got a number/],
    [{ apiKey: "" }, RangeError, /apiKey is empty/],
    [{ apiKey: "   " }, RangeError, /apiKey is empty/],
    [{ apiKey: "sk_abc\n" }, RangeError, /whitespace or non-ASCII/],
    [{ apiKey: "sk_é" }, RangeError, /whitespace or non-ASCII/],
    [{ apikey: "k" }, TypeError, /unknown option "apikey" \(did you mean "apiKey"\?\)/],
    [{ apiKey: "k", baseURL: "http://x" }, TypeError, /did you mean "baseUrl"/],
    [{ apiKey: "k", retries: 3 }, TypeError, /unknown option "retries" \(known: apiKey, baseUrl, fetch, timeoutMs\)/],
    [{ apiKey: "k", baseUrl: 8080 }, TypeError, /baseUrl must be a string or URL/],
    [{ apiKey: "k", baseUrl: "localhost:8080" }, RangeError, /baseUrl must use http: or https:/],
    [{ apiKey: "k", baseUrl: "127.0.0.1:8080" }, RangeError, /not an absolute URL/],
    [{ apiKey: "k", baseUrl: "ftp://gw" }, RangeError, /http: or https:/],
    [{ apiKey: "k", baseUrl: "http://u:p@gw" }, RangeError, /must not contain credentials/],
    [{ apiKey: "k", baseUrl: "http://gw/?x=1" }, RangeError, /query or fragment/],
    [{ apiKey: "k", fetch: "fetch" }, TypeError, /fetch must be a function/],
    [{ apiKey: "k", timeoutMs: "5s" }, TypeError, /timeoutMs must be a number/],
    [{ apiKey: "k", timeoutMs: 0 }, RangeError, /timeoutMs must be a whole number/],
    [{ apiKey: "k", timeoutMs: 1.5 }, RangeError, /timeoutMs/],
    [{ apiKey: "k", timeoutMs: Number.POSITIVE_INFINITY }, RangeError, /timeoutMs/],
  ])("rejects %j", (options, kind, message) => {
    expect(() => make(options)).toThrow(kind);
    expect(() => make(options)).toThrow(message);
  });

  it("never puts the key in an error message", () => {
    expect(() => make({ apiKey: "sk_leak\n" })).toThrow(expect.objectContaining({ message: expect.not.stringContaining("sk_leak") }));
  });
});

describe("igris.connect(connection, options) validation", () => {
  const igris = new Igris({ apiKey: "k", baseUrl: "http://127.0.0.1:9" });

  it.each([
    [42, undefined, TypeError, /connection must be a string/],
    ["", undefined, RangeError, /non-empty name/],
    [" github-prod", undefined, RangeError, /surrounding whitespace/],
    ["github-prod", "alice", TypeError, /options must be an object/],
    ["github-prod", { user: 7 }, TypeError, /options.user must be a string/],
    ["github-prod", { user: "" }, RangeError, /options.user must be non-empty/],
    ["github-prod", { user: "alice\r\nx-evil: 1" }, RangeError, /printable ASCII/],
    ["github-prod", { user: "zoë@acme.com" }, RangeError, /printable ASCII/],
    ["github-prod", { user: "a".repeat(513) }, RangeError, /longer than 512/],
    ["github-prod", { metadata: "role=dev" }, TypeError, /flat object/],
    ["github-prod", { metadata: ["developer"] }, TypeError, /flat object/],
    ["github-prod", { metadata: { role: { name: "dev" } } }, TypeError, /metadata.role must be a string, number or boolean/],
    ["github-prod", { metadata: { teams: ["a"] } }, TypeError, /metadata.teams/],
    ["github-prod", { metadata: { tier: null } }, TypeError, /metadata.tier/],
    ["github-prod", { metadata: { n: Number.NaN } }, RangeError, /finite number/],
    ["github-prod", { metadata: { "": "x" } }, RangeError, /empty key/],
    ["github-prod", { metadata: { blob: "x".repeat(5000) } }, RangeError, /limit is 4096/],
    ["github-prod", { meta: {} }, TypeError, /unknown option "meta"/],
    ["github-prod", { signal: "stop" }, TypeError, /AbortSignal/],
  ])("rejects (%j, %j)", async (connection, options, kind, message) => {
    const attempt = igris.connect(connection as string, options as never);
    await expect(attempt).rejects.toThrow(kind);
    await expect(igris.connect(connection as string, options as never)).rejects.toThrow(message);
  });
});

describe("SDK_VERSION", () => {
  it("matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    expect(SDK_VERSION).toBe(pkg.version);
  });
});
