/**
 * The text Content Guard scans in sampling requests and answers sits at the same paths as in
 * the message, so findings name real paths and redaction lands in the original.
 */
import { describe, expect, it } from "vitest";
import { samplingAnswer, samplingPrompt } from "../../engine/gateway/scan-targets.js";
import { compileGuard } from "../../engine/guard/compile-guard.js";
import { toFindings } from "../../engine/guard/findings.js";
import { redactLeaves } from "../../engine/guard/redact.js";

const guard = compileGuard({ builtins: ["us-ssn"] })!;

describe("the text of a sampling request", () => {
  const params = () => ({
    systemPrompt: "system 078-05-1120",
    maxTokens: 100,
    messages: [
      { role: "user", content: { type: "text", text: "one 123-45-6789" } },
      { role: "user", content: { type: "image", data: "MTIzLTQ1LTY3ODk=", mimeType: "image/png" } },
      {
        role: "user",
        content: [
          { type: "text", text: "plain" },
          { type: "audio", data: "123-45-6789", mimeType: "audio/wav" },
          { type: "tool_result", toolUseId: "t1", content: [{ type: "text", text: "result 123-45-6789" }] },
        ],
      },
    ],
  });

  it("is every text block, tool results included, and the system prompt; never media data", () => {
    const leaves = guard.scanner.scanValue(samplingPrompt(params()));
    expect(toFindings("params", leaves, guard.spec.patterns).map((f) => f.path)).toEqual([
      "params.messages[0].content.text",
      "params.messages[2].content[2].content[0].text",
      "params.systemPrompt",
    ]);
  });

  it("redacts in place in the request itself", () => {
    const p = params();
    redactLeaves(p, guard.scanner.scanValue(samplingPrompt(p)), () => true, () => "SSN");
    expect(p.messages[0]!.content).toEqual({ type: "text", text: "one [REDACTED:SSN]" });
    expect((p.messages[2]!.content as Array<Record<string, unknown>>)[2]).toEqual({ type: "tool_result", toolUseId: "t1", content: [{ type: "text", text: "result [REDACTED:SSN]" }] });
    expect(p.systemPrompt).toBe("system [REDACTED:SSN]");
    // Media is passed as it came, even when its data happens to look like a value.
    expect((p.messages[2]!.content as Array<Record<string, unknown>>)[1]!.data).toBe("123-45-6789");
  });

  it("of a request without messages is empty", () => {
    expect(guard.scanner.scanValue(samplingPrompt(undefined))).toEqual([]);
    expect(guard.scanner.scanValue(samplingPrompt({ messages: "nope" }))).toEqual([]);
  });
});

describe("the text of a sampling answer", () => {
  it("is its text content, at result.content.text", () => {
    const result = { role: "assistant", model: "m", content: { type: "text", text: "ssn 123-45-6789" } };
    const leaves = guard.scanner.scanValue(samplingAnswer(result));
    expect(toFindings("result", leaves, guard.spec.patterns).map((f) => f.path)).toEqual(["result.content.text"]);
    const [out] = redactLeaves(result, leaves, () => true, () => "SSN");
    expect(out).toEqual({ role: "assistant", model: "m", content: { type: "text", text: "ssn [REDACTED:SSN]" } });
  });
});
