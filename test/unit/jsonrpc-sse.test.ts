import { describe, expect, it } from "vitest";
import {
  isNotification,
  isRefusal,
  isRequest,
  isResponse,
  parseMessage,
  validateMessage,
  type JsonRpcMessage,
} from "../../engine/mcp/jsonrpc.js";
import { encodeSse, SseParser, type SseEvent } from "../../engine/mcp/sse.js";
import type { ErrorCode, Refusal } from "../../engine/errors.js";

const refusalOf = (body: string): Refusal => {
  const result = parseMessage(body);
  if (!isRefusal(result)) throw new Error(`expected a refusal for ${body}, got ${JSON.stringify(result)}`);
  return result;
};

const messageOf = (body: string): JsonRpcMessage => {
  const result = parseMessage(body);
  if (isRefusal(result)) throw new Error(`expected a message for ${body}, got ${JSON.stringify(result)}`);
  return result;
};

describe("parseMessage refuses what is not one JSON-RPC 2.0 message", () => {
  it.each<[string, string, ErrorCode, RegExp]>([
    ["malformed JSON", "{", "SENTINEL_PARSE_ERROR", /not valid JSON/],
    ["an empty body", "", "SENTINEL_PARSE_ERROR", /not valid JSON/],
    ["trailing garbage", '{"jsonrpc":"2.0","method":"x"} x', "SENTINEL_PARSE_ERROR", /not valid JSON/],
    ["a batch of one request", '[{"jsonrpc":"2.0","id":1,"method":"ping"}]', "SENTINEL_INVALID_REQUEST", /batches/],
    ["an empty batch", "[]", "SENTINEL_INVALID_REQUEST", /batches/],
    ["a number", "1", "SENTINEL_INVALID_REQUEST", /must be a JSON object/],
    ["a string", '"ping"', "SENTINEL_INVALID_REQUEST", /must be a JSON object/],
    ["null", "null", "SENTINEL_INVALID_REQUEST", /must be a JSON object/],
    ["a boolean", "true", "SENTINEL_INVALID_REQUEST", /must be a JSON object/],
    ["a request without jsonrpc", '{"id":1,"method":"ping"}', "SENTINEL_INVALID_REQUEST", /"jsonrpc" must be "2.0"/],
    ["a request with jsonrpc 1.0", '{"jsonrpc":"1.0","id":1,"method":"ping"}', "SENTINEL_INVALID_REQUEST", /"jsonrpc" must be "2.0"/],
    ["a request with numeric jsonrpc", '{"jsonrpc":2.0,"id":1,"method":"ping"}', "SENTINEL_INVALID_REQUEST", /"jsonrpc" must be "2.0"/],
    ["a null id", '{"jsonrpc":"2.0","id":null,"method":"ping"}', "SENTINEL_INVALID_REQUEST", /"id" must be a string or an integer/],
    ["a fractional id", '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', "SENTINEL_INVALID_REQUEST", /"id" must be a string or an integer/],
    ["a boolean id", '{"jsonrpc":"2.0","id":true,"method":"ping"}', "SENTINEL_INVALID_REQUEST", /"id" must be a string or an integer/],
    ["an object id", '{"jsonrpc":"2.0","id":{},"method":"ping"}', "SENTINEL_INVALID_REQUEST", /"id" must be a string or an integer/],
    [
      "an id beyond the safe integers",
      '{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}',
      "SENTINEL_INVALID_REQUEST",
      /"id" must be a string or an integer/,
    ],
    ["an empty method", '{"jsonrpc":"2.0","id":1,"method":""}', "SENTINEL_INVALID_REQUEST", /"method" must be a non-empty string/],
    ["a numeric method", '{"jsonrpc":"2.0","id":1,"method":5}', "SENTINEL_INVALID_REQUEST", /"method" must be a non-empty string/],
    ["params as an array", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}', "SENTINEL_INVALID_PARAMS", /"params" of "tools\/call" must be an object/],
    ["params as null", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}', "SENTINEL_INVALID_PARAMS", /must be an object/],
    ["params as a string", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}', "SENTINEL_INVALID_PARAMS", /must be an object/],
    ["params as a number", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":1}', "SENTINEL_INVALID_PARAMS", /must be an object/],
    ["notification params as an array", '{"jsonrpc":"2.0","method":"notifications/x","params":[1]}', "SENTINEL_INVALID_PARAMS", /must be an object/],
    ["neither method nor id", '{"jsonrpc":"2.0"}', "SENTINEL_INVALID_REQUEST", /needs "method" .* or "id"/],
    [
      "a response with both result and error",
      '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}',
      "SENTINEL_INVALID_REQUEST",
      /exactly one of "result" and "error"/,
    ],
    ["a response with neither result nor error", '{"jsonrpc":"2.0","id":1}', "SENTINEL_INVALID_REQUEST", /exactly one of "result" and "error"/],
    ["a response with a null error", '{"jsonrpc":"2.0","id":1,"error":null}', "SENTINEL_INVALID_REQUEST", /integer "code" and a string "message"/],
    [
      "a response error with a fractional code",
      '{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"m"}}',
      "SENTINEL_INVALID_REQUEST",
      /integer "code"/,
    ],
    [
      "a response error without a message",
      '{"jsonrpc":"2.0","id":1,"error":{"code":-32000}}',
      "SENTINEL_INVALID_REQUEST",
      /string "message"/,
    ],
    ["a response with a null id", '{"jsonrpc":"2.0","id":null,"result":{}}', "SENTINEL_INVALID_REQUEST", /MCP forbids null/],
  ])("%s is refused as %s", (_label, body, code, reason) => {
    const refusal = refusalOf(body);
    expect(refusal.code).toBe(code);
    expect(refusal.reason).toMatch(reason);
  });
});

describe("parseMessage accepts and classifies valid messages", () => {
  it.each<[string, string, "request" | "notification" | "response"]>([
    ["a request with a numeric id", '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', "request"],
    ["a request with id 0", '{"jsonrpc":"2.0","id":0,"method":"ping"}', "request"],
    ["a request with a negative id", '{"jsonrpc":"2.0","id":-7,"method":"ping"}', "request"],
    ["a request with a string id", '{"jsonrpc":"2.0","id":"abc","method":"tools/call","params":{"name":"x"}}', "request"],
    ["a request with an empty string id", '{"jsonrpc":"2.0","id":"","method":"ping"}', "request"],
    ["a request with empty params", '{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}', "request"],
    ["a notification", '{"jsonrpc":"2.0","method":"notifications/initialized"}', "notification"],
    ["a notification with params", '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}', "notification"],
    ["a response with a result", '{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}', "response"],
    ["a response with a null result", '{"jsonrpc":"2.0","id":1,"result":null}', "response"],
    ["a response with an error", '{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"nope","data":{}}}', "response"],
  ])("%s is a %s", (_label, body, kind) => {
    const message = messageOf(body);
    expect(message).toEqual(JSON.parse(body));
    expect(isRequest(message)).toBe(kind === "request");
    expect(isNotification(message)).toBe(kind === "notification");
    expect(isResponse(message)).toBe(kind === "response");
    expect(isRefusal(message)).toBe(false);
  });

  it("validateMessage gives the same verdict on an already parsed value", () => {
    expect(validateMessage([{ jsonrpc: "2.0", id: 1, method: "ping" }])).toMatchObject({ code: "SENTINEL_INVALID_REQUEST" });
    expect(validateMessage({ jsonrpc: "2.0", id: 1, method: "ping" })).toEqual({ jsonrpc: "2.0", id: 1, method: "ping" });
  });

  it.each<[string, unknown, boolean]>([
    ["a refusal", { code: "SENTINEL_PARSE_ERROR", reason: "x" }, true],
    ["a JSON-RPC message carrying a SENTINEL_ code", { jsonrpc: "2.0", code: "SENTINEL_X", reason: "x" }, false],
    ["an object with a foreign code", { code: "E_OTHER", reason: "x" }, false],
    ["null", null, false],
    ["a string", "SENTINEL_PARSE_ERROR", false],
  ])("isRefusal on %s is %s", (_label, value, expected) => {
    expect(isRefusal(value)).toBe(expected);
  });
});

/** Feeds the chunks to a fresh parser and collects what it dispatches. */
const parse = (chunks: Array<string | Uint8Array>): SseEvent[] => {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
  return events;
};

describe("SSE parser", () => {
  it.each<[string, string, SseEvent[]]>([
    ["LF line endings", "data: a\ndata: b\n\n", [{ data: "a\nb" }]],
    ["CRLF line endings", "data: a\r\ndata: b\r\n\r\n", [{ data: "a\nb" }]],
    ["CR line endings, followed by more bytes", "data: a\rdata: b\r\rdata: c\n\n", [{ data: "a\nb" }, { data: "c" }]],
    ["mixed line endings", "data: a\r\ndata: b\rdata: c\n\r\n", [{ data: "a\nb\nc" }]],
    ["two events", "data: 1\n\ndata: 2\n\n", [{ data: "1" }, { data: "2" }]],
    ["a comment line, ignored", ": keep-alive\ndata: x\n\n", [{ data: "x" }]],
    ["a comment-only block, which dispatches nothing", ": ping\n\n", []],
    ["blank lines alone, which dispatch nothing", "\n\n\n", []],
    ["an id, event and retry", "id: 42\nevent: message\nretry: 3000\ndata: {}\n\n", [{ id: "42", event: "message", retry: 3000, data: "{}" }]],
    ["an event without data, dispatched with empty data", "event: ping\n\n", [{ event: "ping", data: "" }]],
    ["an id without data (a priming event)", "id: 7\n\n", [{ id: "7", data: "" }]],
    ["a value without the space after the colon", "data:x\n\n", [{ data: "x" }]],
    ["only one leading space removed", "data:  x\n\n", [{ data: " x" }]],
    ["a field with no colon, an empty value", "data\ndata\n\n", [{ data: "\n" }]],
    ["colons in the value kept", 'data: {"a":"b:c"}\n\n', [{ data: '{"a":"b:c"}' }]],
    ["an unknown field ignored", "foo: bar\ndata: x\n\n", [{ data: "x" }]],
    ["an unknown field alone, which dispatches nothing", "foo: bar\n\n", []],
    ["a non-numeric retry ignored", "retry: 10s\ndata: x\n\n", [{ data: "x" }]],
    ["an id containing NUL ignored", "id: a\0b\ndata: x\n\n", [{ data: "x" }]],
    ["fields not carried into the next event", "id: 1\nevent: e\ndata: a\n\ndata: b\n\n", [{ id: "1", event: "e", data: "a" }, { data: "b" }]],
    ["an event not yet ended by a blank line, held back", "data: a\n\ndata: b\n", [{ data: "a" }]],
    ["a leading byte-order mark stripped", "\uFEFFdata: x\n\n", [{ data: "x" }]],
    ["multi-byte UTF-8", "data: é€😀\n\n", [{ data: "é€😀" }]],
  ])("%s", (_label, stream, expected) => {
    expect(parse([stream])).toEqual(expected);
  });

  const SAMPLE = [
    ": hello\r\n",
    "id: 1\r\nevent: message\r\ndata: {\"a\":1}\r\n\r\n",
    "data: line1\rdata: line2\r\r",
    "retry: 500\ndata: é😀\n\n",
    "id: 2\r\ndata: last\r\n\r\n",
  ].join("");
  const SAMPLE_BYTES = new TextEncoder().encode(SAMPLE);
  const SAMPLE_EVENTS: SseEvent[] = [
    { id: "1", event: "message", data: '{"a":1}' },
    { data: "line1\nline2" },
    { retry: 500, data: "é😀" },
    { id: "2", data: "last" },
  ];

  it("parses the sample stream in one chunk", () => {
    expect(parse([SAMPLE_BYTES])).toEqual(SAMPLE_EVENTS);
  });

  it.each(Array.from({ length: SAMPLE_BYTES.length - 1 }, (_, i) => i + 1))(
    "gives the same events when the sample stream is split at byte %i",
    (at) => {
      expect(parse([SAMPLE_BYTES.slice(0, at), SAMPLE_BYTES.slice(at)])).toEqual(SAMPLE_EVENTS);
    },
  );

  it("gives the same events when the sample stream arrives one byte at a time", () => {
    expect(parse(Array.from(SAMPLE_BYTES, (b) => Uint8Array.of(b)))).toEqual(SAMPLE_EVENTS);
  });

  it.each<[string, string[]]>([
    ["a CRLF split between CR and LF", ["data: a\r", "\n\r", "\n"]],
    ["a CRLF split before the blank line's LF", ["data: a\r\n\r", "\n"]],
    ["a field name split", ["da", "ta: a\n\n"]],
  ])("%s yields one event, not an extra blank line", (_label, chunks) => {
    expect(parse(chunks)).toEqual([{ data: "a" }]);
  });

  it("a CRLF split between CR and LF does not end the event early", () => {
    expect(parse(["data: a\r", "\ndata: b\r\n\r\n"])).toEqual([{ data: "a\nb" }]);
  });
});

describe("encodeSse", () => {
  it.each<[string, SseEvent, string]>([
    ["data only", { data: "x" }, "data: x\n\n"],
    ["empty data", { data: "" }, "data: \n\n"],
    ["all fields", { event: "message", id: "7", retry: 100, data: "{}" }, "event: message\nid: 7\nretry: 100\ndata: {}\n\n"],
    ["multi-line data", { data: "a\nb" }, "data: a\ndata: b\n\n"],
    ["CRLF and CR in data", { data: "a\r\nb\rc" }, "data: a\ndata: b\ndata: c\n\n"],
  ])("encodes %s", (_label, event, wire) => {
    expect(encodeSse(event)).toBe(wire);
  });

  it.each<[string, SseEvent, SseEvent]>([
    ["plain data", { data: "hello" }, { data: "hello" }],
    ["JSON data", { data: '{"jsonrpc":"2.0","id":1,"result":{}}' }, { data: '{"jsonrpc":"2.0","id":1,"result":{}}' }],
    ["multi-line data", { data: "a\nb\n\nc" }, { data: "a\nb\n\nc" }],
    ["data with leading spaces", { data: "  indented" }, { data: "  indented" }],
    ["data starting with a colon", { data: ":not a comment" }, { data: ":not a comment" }],
    ["empty data with an id", { id: "9", data: "" }, { id: "9", data: "" }],
    ["every field", { id: "1", event: "message", retry: 250, data: "x" }, { id: "1", event: "message", retry: 250, data: "x" }],
    ["non-ASCII data", { data: "é€😀" }, { data: "é€😀" }],
    ["CRLF data, read back with LF", { data: "a\r\nb" }, { data: "a\nb" }],
  ])("round-trips %s through the parser", (_label, event, expected) => {
    expect(parse([encodeSse(event)])).toEqual([expected]);
  });

  it("round-trips several events written back to back", () => {
    const events: SseEvent[] = [{ id: "1", data: "a" }, { event: "x", data: "b\nc" }, { data: "" }];
    expect(parse([events.map(encodeSse).join("")])).toEqual(events);
  });
});

describe("SSE parser with bare CR line endings", () => {
  it("dispatches an event whose blank line is a CR at the end of a chunk at once", () => {
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    parser.push(new TextEncoder().encode("data: a\r\r"));
    expect(events).toEqual([{ data: "a" }]);
  });

  it("treats a CRLF split across chunks as one line ending", () => {
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    parser.push(new TextEncoder().encode("data: a\r"));
    parser.push(new TextEncoder().encode("\ndata: b\r"));
    parser.push(new TextEncoder().encode("\n\r\n"));
    expect(events).toEqual([{ data: "a\nb" }]);
  });
});
