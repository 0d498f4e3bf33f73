import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bearerToken, generateApiKey, hashApiKey } from "../../engine/auth/api-keys.js";
import { readIdentity, sameIdentity, type Metadata, type StatedIdentity } from "../../engine/auth/identity.js";
import { isRefusal } from "../../engine/mcp/jsonrpc.js";
import type { Refusal } from "../../engine/errors.js";
import { HEADERS } from "../../sdk/ts/src/wire.js";

describe("bearerToken", () => {
  it.each<[string, string, string | undefined]>([
    ["the usual form", "Bearer sk_sentinel_abc", "sk_sentinel_abc"],
    ["a lower-case scheme", "bearer sk_sentinel_abc", "sk_sentinel_abc"],
    ["an upper-case scheme", "BEARER sk_sentinel_abc", "sk_sentinel_abc"],
    ["a mixed-case scheme", "bEaReR sk_sentinel_abc", "sk_sentinel_abc"],
    ["several spaces after the scheme", "Bearer    sk_sentinel_abc", "sk_sentinel_abc"],
    ["a tab after the scheme", "Bearer\tsk_sentinel_abc", "sk_sentinel_abc"],
    ["trailing spaces", "Bearer sk_sentinel_abc   ", "sk_sentinel_abc"],
    ["base64url characters", "Bearer a-b_c.d~e+f/g=", "a-b_c.d~e+f/g="],
    ["the scheme alone", "Bearer", undefined],
    ["the scheme and a space", "Bearer ", undefined],
    ["the scheme and spaces only", "Bearer    ", undefined],
    ["two tokens", "Bearer one two", undefined],
    ["another scheme", "Basic dXNlcjpwYXNz", undefined],
    ["a token without a scheme", "sk_sentinel_abc", undefined],
    ["no space after the scheme", "Bearersk_sentinel_abc", undefined],
    ["a leading space", " Bearer sk_sentinel_abc", undefined],
    ["a trailing newline", "Bearer sk_sentinel_abc\n", undefined],
    ["an empty header", "", undefined],
  ])("%s: %j gives %j", (_label, header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});

describe("API key hashes", () => {
  it.each<string>(["", "sk_sentinel_abc", "ключ", "😀"])("hashApiKey(%j) is sha256:<64 lower-case hex> of its UTF-8 bytes", (key) => {
    const hash = hashApiKey(key);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hash).toBe("sha256:" + createHash("sha256").update(Buffer.from(key, "utf8")).digest("hex"));
  });

  it.each<[string, string]>([
    ["", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ])("hashApiKey(%j) is the known SHA-256 digest", (key, expected) => {
    expect(hashApiKey(key)).toBe(expected);
  });

  it("generateApiKey gives a prefixed key whose hash is hashApiKey of it", () => {
    const { key, hash } = generateApiKey();
    expect(key).toMatch(/^sk_sentinel_[A-Za-z0-9_-]{43}$/);
    expect(hash).toBe(hashApiKey(key));
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("generateApiKey never repeats a key or hash over 1000 calls", () => {
    const keys = Array.from({ length: 1000 }, generateApiKey);
    expect(new Set(keys.map((k) => k.key)).size).toBe(1000);
    expect(new Set(keys.map((k) => k.hash)).size).toBe(1000);
  });

  it("a generated key is accepted back by bearerToken", () => {
    const { key } = generateApiKey();
    expect(bearerToken(`Bearer ${key}`)).toBe(key);
  });
});

const read = (headers: Record<string, string>, tenant = "acme") => readIdentity(new Map(Object.entries(headers)), tenant);

const identityOf = (headers: Record<string, string>, tenant = "acme"): StatedIdentity => {
  const result = read(headers, tenant);
  if (isRefusal(result)) throw new Error(`expected an identity, got ${JSON.stringify(result)}`);
  return result;
};

describe("readIdentity accepts", () => {
  it.each<[string, Record<string, string>, string | undefined, Metadata]>([
    ["no identity headers", {}, undefined, {}],
    ["a user", { [HEADERS.user]: "alice" }, "alice", {}],
    ["a user with surrounding spaces, trimmed", { [HEADERS.user]: "  alice  " }, "alice", {}],
    ["a user of exactly 256 characters", { [HEADERS.user]: "u".repeat(256) }, "u".repeat(256), {}],
    [
      "JSON metadata with every value type",
      { [HEADERS.metadata]: '{"role":"developer","level":3,"oncall":true,"groups":["eng","ops"]}' },
      undefined,
      { role: "developer", level: 3, oncall: true, groups: ["eng", "ops"] },
    ],
    ["an empty JSON object", { [HEADERS.metadata]: "{}" }, undefined, {}],
    ["an empty list value", { [HEADERS.metadata]: '{"groups":[]}' }, undefined, { groups: [] }],
    ["per-key metadata headers", { "x-sentinel-meta-role": "developer", "x-sentinel-meta-dept": "eng" }, undefined, { role: "developer", dept: "eng" }],
    [
      "JSON metadata and a per-key header for another key",
      { [HEADERS.metadata]: '{"role":"developer"}', "x-sentinel-meta-dept": "eng" },
      undefined,
      { role: "developer", dept: "eng" },
    ],
    [
      "the same key in JSON and a per-key header with the same value",
      { [HEADERS.metadata]: '{"role":"developer"}', "x-sentinel-meta-role": "developer" },
      undefined,
      { role: "developer" },
    ],
    ["keys with dots, dashes and underscores", { [HEADERS.metadata]: '{"a.b-c_D9":"x"}' }, undefined, { "a.b-c_D9": "x" }],
    ["a key of 64 characters", { [HEADERS.metadata]: `{"${"k".repeat(64)}":"x"}` }, undefined, { ["k".repeat(64)]: "x" }],
    ["a metadata tenant equal to the key's tenant", { [HEADERS.metadata]: '{"tenant":"acme"}' }, undefined, { tenant: "acme" }],
    ["a per-key tenant equal to the key's tenant", { "x-sentinel-meta-tenant": "acme" }, undefined, { tenant: "acme" }],
    ["64 metadata keys", { [HEADERS.metadata]: JSON.stringify(Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v"]))) }, undefined, Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v"]))],
    ["unrelated headers, ignored", { "x-other": "1", authorization: "Bearer k", "x-sentinel-trace-id": "t" }, undefined, {}],
  ])("%s", (_label, headers, user, metadata) => {
    const identity = identityOf(headers);
    expect(identity.user).toBe(user);
    expect({ ...identity.metadata }).toEqual(metadata);
  });

  it("returns frozen metadata, lists included", () => {
    const identity = identityOf({ [HEADERS.metadata]: '{"groups":["eng"]}' });
    expect(Object.isFrozen(identity.metadata)).toBe(true);
    expect(Object.isFrozen(identity.metadata.groups)).toBe(true);
  });

  it("treats __proto__ in JSON metadata as a plain key without touching prototypes", () => {
    const identity = identityOf({ [HEADERS.metadata]: '{"__proto__":"x","constructor":"y"}' });
    expect(Object.keys(identity.metadata).sort()).toEqual(["__proto__", "constructor"]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe("readIdentity refuses", () => {
  it.each<[string, Record<string, string>, RegExp]>([
    ["an empty user", { [HEADERS.user]: "" }, /x-sentinel-user must be 1 to 256 characters/],
    ["a user of spaces only", { [HEADERS.user]: "   " }, /x-sentinel-user must be 1 to 256 characters/],
    ["a user of 257 characters", { [HEADERS.user]: "u".repeat(257) }, /x-sentinel-user must be 1 to 256 characters/],
    ["metadata that is not JSON", { [HEADERS.metadata]: "role=developer" }, /is not valid JSON/],
    ["metadata that is a list", { [HEADERS.metadata]: '["developer"]' }, /must be a JSON object/],
    ["metadata that is a string", { [HEADERS.metadata]: '"developer"' }, /must be a JSON object/],
    ["metadata that is null", { [HEADERS.metadata]: "null" }, /must be a JSON object/],
    ["a nested object value", { [HEADERS.metadata]: '{"team":{"name":"eng"}}' }, /metadata "team" must be a string, number, boolean or list of strings/],
    ["a list of numbers", { [HEADERS.metadata]: '{"ids":[1,2]}' }, /metadata "ids" must be a string, number/],
    ["a list of lists", { [HEADERS.metadata]: '{"ids":[["a"]]}' }, /metadata "ids" must be a string, number/],
    ["a null value", { [HEADERS.metadata]: '{"role":null}' }, /metadata "role" must be a string, number/],
    ["a non-finite number", { [HEADERS.metadata]: '{"n":1e400}' }, /metadata "n" must be a string, number/],
    ["a key with a space", { [HEADERS.metadata]: '{"bad key":"x"}' }, /metadata key "bad key" in x-sentinel-metadata must match/],
    ["an empty key", { [HEADERS.metadata]: '{"":"x"}' }, /metadata key "" in x-sentinel-metadata must match/],
    ["a key of 65 characters", { [HEADERS.metadata]: `{"${"k".repeat(65)}":"x"}` }, /must match/],
    ["a non-ASCII key", { [HEADERS.metadata]: '{"rôle":"x"}' }, /must match/],
    ["an empty per-key header name", { "x-sentinel-meta-": "x" }, /metadata key "" in x-sentinel-meta- must match/],
    ["a per-key header name with a colon", { "x-sentinel-meta-a:b": "x" }, /metadata key "a:b" in x-sentinel-meta-a:b must match/],
    [
      "the same key in JSON and a per-key header with different values",
      { [HEADERS.metadata]: '{"role":"developer"}', "x-sentinel-meta-role": "admin" },
      /metadata key "role" is given twice with different values/,
    ],
    [
      "a number in JSON restated as a per-key header",
      { [HEADERS.metadata]: '{"level":3}', "x-sentinel-meta-level": "3" },
      /metadata key "level" is given twice/,
    ],
    [
      "a list in JSON restated as a per-key header",
      { [HEADERS.metadata]: '{"groups":["eng"]}', "x-sentinel-meta-groups": "eng" },
      /metadata key "groups" is given twice/,
    ],
    ["metadata larger than 8192 bytes", { [HEADERS.metadata]: `{"a":"${"x".repeat(8200)}"}` }, /larger than 8192 bytes/],
    [
      "more than 64 metadata keys",
      { [HEADERS.metadata]: JSON.stringify(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]))) },
      /more than 64 keys/,
    ],
    [
      "more than 64 keys across JSON and per-key headers",
      {
        [HEADERS.metadata]: JSON.stringify(Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v"]))),
        "x-sentinel-meta-extra": "v",
      },
      /more than 64 keys/,
    ],
    ["a metadata tenant naming another tenant", { [HEADERS.metadata]: '{"tenant":"globex"}' }, /metadata tenant "globex" does not match the API key's tenant/],
    ["a per-key tenant naming another tenant", { "x-sentinel-meta-tenant": "globex" }, /metadata tenant "globex" does not match/],
    ["a metadata tenant differing only in case", { [HEADERS.metadata]: '{"tenant":"ACME"}' }, /does not match/],
    ["a numeric metadata tenant", { [HEADERS.metadata]: '{"tenant":1}' }, /metadata tenant "1" does not match/],
  ])("%s", (_label, headers, reason) => {
    const result = read(headers);
    expect(isRefusal(result)).toBe(true);
    expect((result as Refusal).code).toBe("SENTINEL_IDENTITY_INVALID");
    expect((result as Refusal).reason).toMatch(reason);
  });
});

describe("sameIdentity", () => {
  const fixed: StatedIdentity = { user: "alice", metadata: { role: "developer", groups: ["eng", "ops"] } };

  it.each<[string, StatedIdentity, boolean]>([
    ["the same user and metadata", { user: "alice", metadata: { role: "developer", groups: ["eng", "ops"] } }, true],
    ["the same metadata in another key order", { user: "alice", metadata: { groups: ["eng", "ops"], role: "developer" } }, true],
    ["another user", { user: "bob", metadata: { role: "developer", groups: ["eng", "ops"] } }, false],
    ["a dropped user", { user: undefined, metadata: { role: "developer", groups: ["eng", "ops"] } }, false],
    ["no identity at all", { user: undefined, metadata: {} }, false],
    ["another role", { user: "alice", metadata: { role: "admin", groups: ["eng", "ops"] } }, false],
    ["an extra metadata key", { user: "alice", metadata: { role: "developer", groups: ["eng", "ops"], dept: "x" } }, false],
    ["a missing metadata key", { user: "alice", metadata: { role: "developer" } }, false],
    ["a list in another order", { user: "alice", metadata: { role: "developer", groups: ["ops", "eng"] } }, false],
    ["a list as a single string", { user: "alice", metadata: { role: "developer", groups: "eng,ops" } }, false],
  ])("restating %s → same=%s", (_label, stated, expected) => {
    expect(sameIdentity(fixed, stated)).toBe(expected);
  });

  it.each<[string, Record<string, string>, Record<string, string>, boolean]>([
    ["JSON metadata and the equivalent per-key headers", { [HEADERS.metadata]: '{"role":"developer"}' }, { "x-sentinel-meta-role": "developer" }, true],
    ["the same headers twice", { [HEADERS.user]: "alice", "x-sentinel-meta-role": "developer" }, { [HEADERS.user]: "alice", "x-sentinel-meta-role": "developer" }, true],
    ["a string and a number for the same key", { [HEADERS.metadata]: '{"level":"3"}' }, { [HEADERS.metadata]: '{"level":3}' }, false],
  ])("identities read from %s compare as same=%s", (_label, first, second, expected) => {
    expect(sameIdentity(identityOf(first), identityOf(second))).toBe(expected);
  });
});
