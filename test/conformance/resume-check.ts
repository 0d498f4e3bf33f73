/**
 * Last-Event-ID resumption check (SEP-1699), beyond what the pinned conformance suite verifies:
 * its own resumption scenario (server-sse-polling) is pending and declares protocol
 * 2025-03-26, so a server never primes or closes that stream.
 *
 * An SDK client (protocol 2025-11-25) calls the fixture's `test_reconnection` tool. The server
 * primes the POST SSE stream (event id + retry), closes it mid-call, and the client must get
 * the result by reconnecting with GET + Last-Event-ID.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

export interface ResumeCheckResult {
  resultText: string | undefined;
  /** Last-Event-ID values the client sent on GET reconnections. */
  resumedWith: string[];
  elapsedMs: number;
}

export async function runResumeCheck(url: string, timeoutMs = 20_000): Promise<ResumeCheckResult> {
  const resumedWith: string[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    const lastEventId = headers.get("last-event-id");
    if ((init?.method ?? "GET") === "GET" && lastEventId) resumedWith.push(lastEventId);
    return fetch(input, init);
  };
  const client = new Client({ name: "resume-check", version: "1.0.0" }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: recordingFetch });
  const started = Date.now();
  try {
    await client.connect(transport);
    const result = await client.callTool({ name: "test_reconnection", arguments: {} }, undefined, { timeout: timeoutMs });
    const content = (result.content ?? []) as Array<{ type: string; text?: string }>;
    return {
      resultText: content.find((c) => c.type === "text")?.text,
      resumedWith,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await client.close().catch(() => undefined);
  }
}
