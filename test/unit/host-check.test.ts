import { describe, expect, it } from "vitest";
import type { ServerConfig } from "../../engine/config/types.js";
import { compileHostCheck, isLoopback } from "../../engine/gateway/host-check.js";

const server = (extra: Partial<ServerConfig> = {}): ServerConfig => ({
  host: "127.0.0.1",
  port: 8080,
  maxBodyBytes: 4 * 1024 * 1024,
  sessionIdleTimeoutMs: 60_000,
  ...extra,
});

describe("isLoopback", () => {
  it.each<[string, boolean]>([
    ["localhost", true],
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["[::1]", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["192.168.1.10", false],
    ["localhost.example.com", false],
    ["127.0.0.1.nip.io", false],
    ["gateway.internal", false],
  ])("%s is loopback: %s", (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

describe("a gateway on loopback, with default allowlists", () => {
  it.each<[string, string]>([
    ["127.0.0.1", "localhost"],
    ["127.0.0.1", "localhost:8080"],
    ["127.0.0.1", "LOCALHOST:1"],
    ["127.0.0.1", "127.0.0.1"],
    ["127.0.0.1", "127.0.0.1:65535"],
    ["127.0.0.1", "[::1]"],
    ["127.0.0.1", "[::1]:8080"],
    ["localhost", "localhost:3000"],
    ["::1", "[::1]:8080"],
  ])("listening on %s, allows Host %j", (host, header) => {
    expect(compileHostCheck(server({ host })).allows(header, undefined)).toBeUndefined();
  });

  it.each<[string, string | undefined, RegExp]>([
    ["a foreign name", "evil.example.com", /Host "evil.example.com" is not allowed/],
    ["a foreign name with a loopback port", "evil.example.com:8080", /Host "evil.example.com:8080" is not allowed/],
    ["a name ending in localhost", "attacker.localhost.example.com", /is not allowed/],
    ["a name starting with 127.0.0.1", "127.0.0.1.nip.io", /is not allowed/],
    ["localhost with a trailing dot", "localhost.", /is not allowed/],
    ["a private address", "192.168.1.10", /is not allowed/],
    ["another loopback address not on the list", "127.0.0.2", /is not allowed/],
    ["a missing Host header", undefined, /the Host header is missing/],
  ])("refuses %s (%j)", (_label, header, reason) => {
    expect(compileHostCheck(server()).allows(header, undefined)).toMatch(reason);
  });

  it.each<string>(["http://localhost", "http://localhost:3000", "https://127.0.0.1", "https://127.0.0.1:8443", "http://[::1]:5173", "HTTP://LOCALHOST:1"])(
    "allows the loopback Origin %j",
    (origin) => {
      expect(compileHostCheck(server()).allows("localhost:8080", origin)).toBeUndefined();
    },
  );

  it.each<string>([
    "http://evil.example.com",
    "https://localhost.evil.example.com",
    "http://127.0.0.1.nip.io",
    "file://localhost",
    "null",
    "",
    "not a url",
    "ws://localhost:8080",
  ])("refuses the Origin %j", (origin) => {
    expect(compileHostCheck(server()).allows("localhost:8080", origin)).toBe(`Origin "${origin}" is not allowed`);
  });

  it("accepts a request without Origin (not from a browser)", () => {
    expect(compileHostCheck(server()).allows("127.0.0.1:8080", undefined)).toBeUndefined();
  });

  it("checks Host before Origin", () => {
    expect(compileHostCheck(server()).allows("evil.example.com", "http://evil.example.com")).toMatch(/^Host /);
  });
});

describe("explicit allowlists", () => {
  it.each<[string, Partial<ServerConfig>, string | undefined, string | undefined, boolean]>([
    // allowedHosts replaces the loopback names, compared without port and case
    ["a listed host", { allowedHosts: ["gateway.example.com"] }, "gateway.example.com", undefined, true],
    ["a listed host with a port", { allowedHosts: ["gateway.example.com"] }, "gateway.example.com:443", undefined, true],
    ["a listed host in other case", { allowedHosts: ["Gateway.Example.com"] }, "GATEWAY.example.COM", undefined, true],
    ["an unlisted host", { allowedHosts: ["gateway.example.com"] }, "evil.example.com", undefined, false],
    ["localhost once allowedHosts replaces the defaults", { allowedHosts: ["gateway.example.com"] }, "localhost", undefined, false],
    ["a listed IPv6 host with a port", { allowedHosts: ["[fd00::1]"] }, "[fd00::1]:8080", undefined, true],
    ["a missing Host with allowedHosts set", { allowedHosts: ["gateway.example.com"] }, undefined, undefined, false],
    // allowedOrigins replaces the loopback origins, compared exactly (case aside)
    ["a listed origin", { allowedOrigins: ["https://app.example.com"] }, "localhost", "https://app.example.com", true],
    ["a listed origin in other case", { allowedOrigins: ["https://App.Example.com"] }, "localhost", "https://app.example.com", true],
    ["a listed origin with another port", { allowedOrigins: ["https://app.example.com"] }, "localhost", "https://app.example.com:8443", false],
    ["a listed origin with another scheme", { allowedOrigins: ["https://app.example.com"] }, "localhost", "http://app.example.com", false],
    ["a loopback origin once allowedOrigins replaces the defaults", { allowedOrigins: ["https://app.example.com"] }, "localhost", "http://localhost:3000", false],
    ["any origin with *", { allowedOrigins: ["*"] }, "localhost", "https://evil.example.com", true],
    ["any origin with * still checks Host", { allowedOrigins: ["*"] }, "evil.example.com", "https://evil.example.com", false],
    ["loopback origins when only allowedHosts is set", { allowedHosts: ["sentinel.internal"] }, "sentinel.internal:8080", "http://localhost:1", true],
    ["an empty allowedHosts list", { allowedHosts: [] }, "localhost", undefined, false],
    ["an empty allowedOrigins list", { allowedOrigins: [] }, "localhost", "http://localhost", false],
  ])("on loopback: %s → allowed=%s", (_label, extra, host, origin, allowed) => {
    const verdict = compileHostCheck(server(extra)).allows(host, origin);
    if (allowed) expect(verdict).toBeUndefined();
    else expect(verdict).toMatch(/is not allowed|is missing/);
  });
});

describe("a gateway on a non-loopback address", () => {
  it.each<[string, string, string | undefined, string | undefined, boolean]>([
    ["any Host", "0.0.0.0", "evil.example.com", undefined, true],
    ["any Host with a port", "0.0.0.0", "gateway.example.com:8080", undefined, true],
    ["a missing Host", "0.0.0.0", undefined, undefined, true],
    ["a private-address listener takes any Host", "10.0.0.5", "10.0.0.5:8080", undefined, true],
    ["a browser Origin, by default", "0.0.0.0", "gateway.example.com", "https://app.example.com", false],
    ["even a loopback Origin, by default", "0.0.0.0", "gateway.example.com", "http://localhost:3000", false],
  ])("%s (listening on %s) → allowed=%s", (_label, listen, host, origin, allowed) => {
    const verdict = compileHostCheck(server({ host: listen })).allows(host, origin);
    if (allowed) expect(verdict).toBeUndefined();
    else expect(verdict).toBe(`Origin "${origin}" is not allowed`);
  });

  it.each<[string | undefined, string | undefined, boolean]>([
    ["gateway.example.com", "https://app.example.com", true],
    ["gateway.example.com", "https://evil.example.com", false],
    ["evil.example.com", "https://app.example.com", true],
    ["gateway.example.com", undefined, true],
  ])("with allowedOrigins listed, Host %j and Origin %j → allowed=%s", (host, origin, allowed) => {
    const check = compileHostCheck(server({ host: "0.0.0.0", allowedOrigins: ["https://app.example.com"] }));
    expect(check.allows(host, origin) === undefined).toBe(allowed);
  });

  it.each<[string | undefined, boolean]>([
    ["gateway.example.com", true],
    ["gateway.example.com:443", true],
    ["evil.example.com", false],
    [undefined, false],
  ])("with allowedHosts listed, Host %j → allowed=%s", (host, allowed) => {
    const check = compileHostCheck(server({ host: "0.0.0.0", allowedHosts: ["gateway.example.com"] }));
    expect(check.allows(host, undefined) === undefined).toBe(allowed);
  });
});

describe("a gateway on another loopback address", () => {
  const check = compileHostCheck({ host: "127.0.0.2", port: 8080, maxBodyBytes: 1024, sessionIdleTimeoutMs: 1000 });

  it("accepts requests addressed to its own address", () => {
    expect(check.allows("127.0.0.2:8080", undefined)).toBeUndefined();
    expect(check.allows("127.0.0.2:8080", "http://127.0.0.2:8080")).toBeUndefined();
  });

  it("still refuses foreign names", () => {
    expect(check.allows("evil.example.com", undefined)).toMatch(/not allowed/);
  });
});
