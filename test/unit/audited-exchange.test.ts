// The audit seam between the pipeline and the client: what the client is shown, and when,
// relative to the call's record reaching the spool. The audit log and its spool are real; the
// downstream side is a recording stand-in for the HTTP front that notes, for every write, how
// far the spool had been written at that moment.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditLog } from "../../engine/audit/audit-log.js";
import { CallTrace } from "../../engine/audit/call-trace.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { listSegments } from "../../engine/audit/spool-files.js";
import { AuditedExchange } from "../../engine/gateway/audited-exchange.js";
import type { DownstreamExchange, DownstreamStream } from "../../engine/gateway/downstream.js";
import type { SseEvent } from "../../engine/mcp/sse.js";
import { openTestLog, tempDir, testKeys } from "../support/audit-fixtures.js";

const { signer } = testKeys();
const open: AuditLog[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close(100)));
});

/** What the client was sent, each write with the spool's written seq at that moment. */
class RecordingExchange implements DownstreamExchange {
  readonly writes: Array<{ what: string; writtenSeq: number }> = [];
  aborted = false;
  constructor(private readonly log: AuditLog) {}
  onAbort(): void {}
  setHeader(): void {}
  sendJson(status: number, body: unknown): void {
    this.note(`json ${status} ${JSON.stringify(body)}`);
  }
  sendText(status: number): void {
    this.note(`text ${status}`);
  }
  sendEmpty(status: number): void {
    this.note(`empty ${status}`);
  }
  openStream(): DownstreamStream {
    this.note("open");
    let closed = false;
    return {
      get closed() {
        return closed;
      },
      send: (event: SseEvent) => this.note(`event ${event.data}`),
      close: () => {
        closed = true;
        this.note("close");
      },
    };
  }
  /** The spool's written seq when `what` was sent, or undefined if it was not (yet). */
  at(prefix: string): number | undefined {
    return this.writes.find((w) => w.what.startsWith(prefix))?.writtenSeq;
  }
  private note(what: string): void {
    this.writes.push({ what, writtenSeq: this.log.spool.writtenSeq });
  }
}

function setup(durability: "written" | "async" = "written") {
  const dir = tempDir();
  const log = openTestLog(dir, signer, { durability });
  open.push(log);
  const client = new RecordingExchange(log);
  const trace = new CallTrace("trace-1", performance.now());
  trace.tenant = "acme";
  trace.method = "tools/call";
  const records = (): AuditRecord[] =>
    listSegments(dir).flatMap((s) => readFileSync(s.path, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as AuditRecord));
  return { log, client, trace, records };
}

const turn = () => new Promise((r) => setImmediate(r));
const response = (id: number | string, body: object) => JSON.stringify({ jsonrpc: "2.0", id, ...body });

describe("a call answered with an SSE stream", () => {
  it("passes progress through at once, and holds the answering event and the end of the stream until the record is written", async () => {
    const { log, client, trace, records } = setup();
    const stream = new AuditedExchange(client, log, trace, 7).openStream();
    stream.send({ data: JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } }) });
    expect(client.at("event {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"")).toBe(0);

    const answer = { jsonrpc: "2.0" as const, id: 7, result: { content: [{ type: "text", text: "done" }] } };
    stream.send({ data: JSON.stringify(answer) }, answer);
    stream.close();
    expect(stream.closed).toBe(true);
    expect(client.at(`event ${JSON.stringify(answer)}`)).toBeUndefined();
    expect(client.at("close")).toBeUndefined();

    await turn();
    const written = records().find((r) => r.id === "trace-1")!;
    expect(written).toMatchObject({ kind: "call", method: "tools/call", outcome: { status: "ok", httpStatus: 200 } });
    expect(client.at(`event ${JSON.stringify(answer)}`)).toBeGreaterThanOrEqual(written.seq);
    expect(client.writes.map((w) => w.what.split(" ")[0])).toEqual(["open", "event", "event", "close"]);
  });

  it.each<[string, string, object]>([
    ["a tool error", response(3, { result: { isError: true, content: [] } }), { status: "tool_error", httpStatus: 200 }],
    ["an upstream JSON-RPC error", response(3, { error: { code: -32602, message: "bad" } }), { status: "error", code: "jsonrpc:-32602", httpStatus: 200 }],
    ["the gateway's own timeout", response(3, { error: { code: -32001, message: "slow", data: { code: "SENTINEL_UPSTREAM_TIMEOUT" } } }), { status: "error", code: "SENTINEL_UPSTREAM_TIMEOUT" }],
  ])("records %s from the answering event, even when it came as text without the parsed message", async (_label, data, outcome) => {
    const { log, client, trace, records } = setup();
    const stream = new AuditedExchange(client, log, trace, 3).openStream();
    stream.send({ data });
    await turn();
    expect(records().find((r) => r.id === "trace-1")?.outcome).toMatchObject(outcome);
    expect(client.at(`event ${data}`)).toBeGreaterThanOrEqual(1);
  });

  it("is not answered by a server request, a notification mentioning errors, or another id's response", async () => {
    const { log, client, trace, records } = setup();
    const stream = new AuditedExchange(client, log, trace, 9).openStream();
    const events = [
      JSON.stringify({ jsonrpc: "2.0", id: "sentinel-1", method: "sampling/createMessage", params: { result: 1 } }),
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { data: { error: "disk" } } }),
      response(10, { result: {} }),
      response("9", { result: {} }),
    ];
    for (const data of events) stream.send({ data });
    await turn();
    expect(records().filter((r) => r.kind === "call")).toEqual([]);
    expect(client.writes.filter((w) => w.what.startsWith("event")).map((w) => w.writtenSeq)).toEqual([0, 0, 0, 0]);
  });

  it("records a stream that ends without its answer, once, and ends it only after the record", async () => {
    const { log, client, trace, records } = setup();
    const stream = new AuditedExchange(client, log, trace, 1).openStream();
    stream.close();
    stream.close();
    expect(client.at("close")).toBeUndefined();
    await turn();
    expect(records().filter((r) => r.id === "trace-1").map((r) => r.outcome)).toEqual([{ code: "stream-closed", httpStatus: 200, status: "error" }]);
    expect(client.at("close")).toBe(1);
  });

  it("with async durability sends the answer straight on", () => {
    const { log, client, trace } = setup("async");
    const stream = new AuditedExchange(client, log, trace, 1).openStream();
    stream.send({ data: response(1, { result: {} }) });
    stream.close();
    expect(client.writes.map((w) => w.what.split(" ")[0])).toEqual(["open", "event", "close"]);
  });
});

describe("answers without a JSON-RPC result", () => {
  it("opens a GET stream only once its record is written, and queues what arrives meanwhile", async () => {
    const { log, client, trace, records } = setup();
    trace.method = "GET";
    const stream = new AuditedExchange(client, log, trace, undefined).openStream();
    stream.send({ data: "", id: "prime" });
    expect(stream.closed).toBe(false);
    expect(client.writes).toEqual([]);
    await turn();
    const written = records().find((r) => r.id === "trace-1")!;
    expect(written).toMatchObject({ method: "GET", outcome: { status: "ok", httpStatus: 200 } });
    expect(client.writes.map((w) => w.what)).toEqual(["open", "event "]);
    expect(client.at("open")).toBeGreaterThanOrEqual(written.seq);
    stream.close();
    expect(client.at("close")).toBeDefined();
  });

  it.each<[string, (ex: DownstreamExchange) => void, object]>([
    ["a notification's 202", (ex) => ex.sendEmpty(202), { status: "ok", httpStatus: 202 }],
    ["a session's end", (ex) => ex.sendEmpty(200), { status: "ok", httpStatus: 200 }],
    [
      "a response to no server request",
      (ex) => ex.sendJson(400, { jsonrpc: "2.0", id: null, error: { code: -32600, message: "x", data: { code: "SENTINEL_INVALID_REQUEST" } } }),
      { status: "error", code: "SENTINEL_INVALID_REQUEST", httpStatus: 400 },
    ],
    ["an upstream's plain-text status", (ex) => ex.sendText(503, "down", "text/plain"), { status: "error", code: "http:503", httpStatus: 503 }],
  ])("holds %s until its record is written", async (_label, answer, outcome) => {
    const { log, client, trace, records } = setup();
    answer(new AuditedExchange(client, log, trace, undefined));
    expect(client.writes).toEqual([]);
    await turn();
    const written = records().find((r) => r.id === "trace-1")!;
    expect(written.outcome).toEqual(expect.objectContaining(outcome));
    expect(client.writes).toHaveLength(1);
    expect(client.writes[0]!.writtenSeq).toBeGreaterThanOrEqual(written.seq);
  });
});
