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

  // A server could wrap its prompt in any block kind the client's model reads; before these were
  // projected, each of them reached the client unscanned.
  it("includes tool_use input, a tool result's structured content, embedded resources and resource links", () => {
    const p = {
      messages: [
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "lookup", input: { query: "ssn 123-45-6789", nested: ["078-05-1120"] } }] },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              toolUseId: "t1",
              content: [
                { type: "resource", resource: { uri: "file:///a.txt", mimeType: "text/plain", text: "record 123-45-6789" } },
                { type: "resource", resource: { uri: "file:///b.bin", blob: "MTIzLTQ1LTY3ODk=" } },
                { type: "resource_link", uri: "file:///123-45-6789", name: "n", description: "about 078-05-1120" },
              ],
              structuredContent: { owner: { ssn: "123-45-6789" } },
            },
          ],
        },
      ],
    };
    const leaves = guard.scanner.scanValue(samplingPrompt(p));
    expect(toFindings("params", leaves, guard.spec.patterns).map((f) => f.path)).toEqual([
      "params.messages[0].content[0].input.query",
      "params.messages[0].content[0].input.nested[0]",
      "params.messages[1].content[0].content[0].resource.text",
      "params.messages[1].content[0].content[2].uri",
      "params.messages[1].content[0].content[2].description",
      "params.messages[1].content[0].structuredContent.owner.ssn",
    ]);
    redactLeaves(p, leaves, () => true, () => "SSN");
    const text = JSON.stringify(p);
    expect(text).not.toMatch(/123-45-6789|078-05-1120/);
    // A blob is media, passed as it came.
    expect(text).toContain("MTIzLTQ1LTY3ODk=");
  });

  it("of a sampling answer includes a tool_use block's input", () => {
    const result = { role: "assistant", model: "m", content: [{ type: "tool_use", id: "t2", name: "send", input: { to: "ssn 123-45-6789" } }] };
    expect(toFindings("result", guard.scanner.scanValue(samplingAnswer(result)), guard.spec.patterns).map((f) => f.path)).toEqual(["result.content[0].input.to"]);
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
