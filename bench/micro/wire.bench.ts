/**
 * The JSON-RPC parse and forward path (engine/mcp/jsonrpc.ts, engine/mcp/sse.ts): the work the
 * gateway does on the message itself for every forwarded tools/call, apart from policy and
 * I/O. In the order a call goes through it:
 *
 *  - request in: parseMessage (JSON.parse + validation);
 *  - request out: the message re-serialised with the upstream id (the gateway forwards its own
 *    serialisation of what policy judged, never the client's bytes);
 *  - answer in, JSON: JSON.parse + validateMessage; answer out: id restored, re-serialised;
 *  - answer in, SSE: SseParser over the stream bytes, then the same; answer out as an SSE event
 *    (encodeSse).
 *
 * Arguments of 64 B (what the end-to-end bench sends), 1 KiB and 64 KiB; the larger ones are
 * the Content Guard tests' corpus (test/cases/guard-cases.ts), so these costs line up with the
 * scan costs in guard.bench.ts. The echo tool's answer carries the arguments back as text, as
 * the bench upstream does.
 *
 *   node --import tsx bench/micro/wire.bench.ts [--quick]
 */
import { Bench } from "tinybench";
import { isRefusal, parseMessage, validateMessage, type JsonRpcMessage } from "../../engine/mcp/jsonrpc.js";
import { encodeSse, SseParser, type SseEvent } from "../../engine/mcp/sse.js";
import { guardCorpus } from "../../test/cases/guard-cases.js";
import { markdownTable, writeMicroResult } from "./output.js";

const quick = process.argv.includes("--quick");

interface Payload {
  readonly label: string;
  readonly args: unknown;
}

const PAYLOADS: readonly Payload[] = [
  { label: "64 B", args: { marker: "sentinel-bench-7c1f", message: "x".repeat(64) } },
  { label: "1 KiB", args: guardCorpus(1024) },
  { label: "64 KiB", args: guardCorpus(64 * 1024) },
];

const encoder = new TextEncoder();

function check(m: JsonRpcMessage | ReturnType<typeof parseMessage>): JsonRpcMessage {
  if (isRefusal(m)) throw new Error(`the bench's own message was refused: ${m.reason}`);
  return m;
}

/** One SSE stream of one event, parsed and validated as the HTTP upstream reads it. */
function parseSseAnswer(bytes: Uint8Array): JsonRpcMessage {
  let event: SseEvent | undefined;
  new SseParser((e) => (event = e)).push(bytes);
  return check(validateMessage(JSON.parse(event!.data)));
}

interface Row {
  readonly payload: string;
  readonly requestBytes: number;
  /** Microseconds per operation, p50. */
  readonly parseRequest: number;
  readonly serializeRequest: number;
  readonly answerJson: number;
  readonly answerSse: number;
  readonly wholePathJson: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const { label, args } of PAYLOADS) {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 42, method: "tools/call", params: { name: "echo", arguments: args } });
    const answerText = JSON.stringify({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: JSON.stringify(args) }] } });
    const answerSse = encoder.encode(encodeSse({ event: "message", data: answerText }));
    const parsed = check(parseMessage(body));

    const bench = new Bench({ time: quick ? 100 : 1000, warmupTime: quick ? 50 : 300, iterations: quick ? 16 : 64 });
    bench.add("parse request", () => void check(parseMessage(body)));
    bench.add("serialise request with the upstream id", () => void JSON.stringify({ ...parsed, id: 7 }));
    bench.add("answer, JSON: parse, validate, restore id, serialise", () => {
      const m = check(validateMessage(JSON.parse(answerText)));
      void JSON.stringify({ ...m, id: 42 });
    });
    bench.add("answer, SSE: parse stream, validate, restore id, encode event", () => {
      const m = parseSseAnswer(answerSse);
      void encodeSse({ event: "message", data: JSON.stringify({ ...m, id: 42 }) });
    });
    bench.add("whole path, JSON answer", () => {
      const request = check(parseMessage(body));
      void JSON.stringify({ ...request, id: 7 });
      const m = check(validateMessage(JSON.parse(answerText)));
      void JSON.stringify({ ...m, id: 42 });
    });
    await bench.run();
    const [parse, serialise, json, sse, whole] = bench.tasks.map((t) => (t.result as unknown as { latency: { p50: number } }).latency.p50 * 1000) as [number, number, number, number, number];
    rows.push({ payload: label, requestBytes: Buffer.byteLength(body), parseRequest: parse, serializeRequest: serialise, answerJson: json, answerSse: sse, wholePathJson: whole });
  }
  const us = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(1));
  const markdown = [
    "JSON-RPC parse and forward path of one tools/call, µs p50 (policy and I/O excluded):",
    "",
    markdownTable(
      rows.map((r) => ({
        arguments: r.payload,
        "request bytes": r.requestBytes.toLocaleString("en-US"),
        "parse request": us(r.parseRequest),
        "re-serialise request": us(r.serializeRequest),
        "JSON answer in → out": us(r.answerJson),
        "SSE answer in → out": us(r.answerSse),
        "whole path (JSON answer)": us(r.wholePathJson),
        "MB/s, whole path": ((2 * r.requestBytes) / r.wholePathJson).toFixed(0),
      })),
    ),
  ].join("\n");
  writeMicroResult("wire", { quick, unit: "µs p50", rows }, markdown);
}

await main();
