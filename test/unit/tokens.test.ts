import { describe, expect, it } from "vitest";
import { countJsonTokens, counterForModel, ESTIMATE } from "../../engine/guard/tokens.js";

describe("token counting", () => {
  it.each([
    [undefined, "o200k_base"],
    ["gpt-4o", "o200k_base"],
    ["gpt-4", "cl100k_base"],
    ["gpt-3.5-turbo", "cl100k_base"],
    ["o3-mini", "o200k_base"],
    ["gpt-7-preview", "o200k_base"],
    ["claude-3-5-sonnet", "estimate"],
    ["llama-3.1-70b", "estimate"],
  ])("model %s is counted with %s", (model, name) => {
    expect(counterForModel(model).name).toBe(name);
  });

  it.each([
    ["o200k_base", "hello world", 2],
    ["o200k_base", "The quick brown fox jumps over the lazy dog.", 10],
    ["cl100k_base", "The quick brown fox jumps over the lazy dog.", 10],
  ] as const)("%s counts %j as %i tokens", (encoding, text, n) => {
    const counter = encoding === "o200k_base" ? counterForModel("gpt-4o") : counterForModel("gpt-4");
    expect(counter.count(text)).toBe(n);
  });

  it("the estimate is a quarter token per ASCII character and one per other character", () => {
    expect(ESTIMATE.count("abcdefgh")).toBe(2);
    expect(ESTIMATE.count("abcdefghi")).toBe(3);
    expect(ESTIMATE.count("日本語")).toBe(3);
    expect(ESTIMATE.count("😀")).toBe(1);
  });

  it("counts a JSON value as its compact JSON text", () => {
    const counter = counterForModel(undefined);
    expect(countJsonTokens({ a: "hello" }, counter)).toBe(counter.count('{"a":"hello"}'));
    expect(countJsonTokens(undefined, counter)).toBe(0);
  });
});
