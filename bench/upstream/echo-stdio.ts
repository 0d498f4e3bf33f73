/**
 * The bench upstream as a stdio MCP server: the same echo behaviour as echo-server.ts
 * (echo-handler.ts), speaking newline-delimited JSON-RPC on stdin/stdout. The peer proxies
 * (mcp-proxy, supergateway) can only front stdio servers, so they get this build, and so does
 * a second Sentinel, so that the comparison with them is on the same upstream.
 *
 * It exits when stdin ends: a proxy that dies or is killed never leaves it behind.
 *
 *   node --import tsx bench/upstream/echo-stdio.ts
 */
import { answerRequest, encodeAnswer, isEchoRequest, parseEchoMessage } from "./echo-handler.js";

let pending = "";

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  pending += chunk;
  let out = "";
  let start = 0;
  for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n", start)) {
    const line = pending.slice(start, nl).trim();
    start = nl + 1;
    if (line === "") continue;
    const message = parseEchoMessage(line);
    if (message === undefined) {
      out += encodeAnswer(null, { error: { code: -32700, message: "expected one JSON-RPC 2.0 message per line" } }) + "\n";
      continue;
    }
    // Notifications (notifications/initialized) and responses need no answer.
    if (isEchoRequest(message)) out += encodeAnswer(message.id, answerRequest(message.method, message.params)) + "\n";
  }
  pending = pending.slice(start);
  // One write per chunk read: answers to pipelined requests leave together.
  if (out !== "") process.stdout.write(out);
});
process.stdin.on("end", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
