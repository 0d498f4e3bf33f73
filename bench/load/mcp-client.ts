/**
 * The load generator's MCP client: opens Streamable HTTP sessions on a target and issues
 * `tools/call echo` requests on them, over an undici keep-alive Pool.
 *
 * Every target gets byte-for-byte the same requests — including Sentinel's auth and identity
 * headers, which the upstream and the bare proxy simply ignore — so the compared latencies
 * differ only by what sits in the path. The per-call work here is kept small and identical
 * for all targets: one string concatenation for the body, and a substring check of the answer
 * instead of a JSON parse (a full parse is done on the first calls of each session).
 *
 * Answers may come as plain JSON or as an SSE stream carrying one message (the peer proxies,
 * built on the MCP SDK's server transport, answer every request that way); both are accepted.
 */
import { Pool } from "undici";
import { guardCorpus } from "../../test/cases/guard-cases.js";

export const PROTOCOL_VERSION = "2025-11-25";

export interface TargetEndpoint {
  /** The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp/echo. */
  readonly url: string;
  /** Sent on every request (auth, identity). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface McpSession {
  readonly id: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface CallOutcome {
  readonly ok: boolean;
  readonly status: number;
}

/** Unique in the arguments, so a correct echo is recognisable without parsing the answer. */
const MARKER = "sentinel-bench-7c1f";

export class McpClient {
  readonly pool: Pool;
  private readonly path: string;
  private nextId = 1;
  private readonly bodyHead: string;
  private readonly bodyTail: string;
  /** Calls whose answer is parsed and checked in full, per session. */
  private readonly fullChecks = new Map<string, number>();

  constructor(
    readonly endpoint: TargetEndpoint,
    connections: number,
    payloadBytes: number,
  ) {
    const url = new URL(endpoint.url);
    this.path = url.pathname + url.search;
    // A target that stops answering fails the calls after 30 s instead of hanging the run.
    this.pool = new Pool(url.origin, { connections, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
    const args = JSON.stringify({ marker: MARKER, message: prose(payloadBytes) });
    this.bodyHead = '{"jsonrpc":"2.0","id":';
    this.bodyTail = `,"method":"tools/call","params":{"name":"echo","arguments":${args}}}`;
  }

  /** initialize, notifications/initialized and a tools/list that must show `echo`. */
  async openSession(): Promise<McpSession> {
    const base = { ...this.endpoint.headers, "content-type": "application/json", accept: "application/json, text/event-stream" };
    const init = await this.pool.request({
      path: this.path,
      method: "POST",
      headers: base,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "sentinel-bench", version: "1.0.0" } },
      }),
    });
    const initText = await init.body.text();
    const sessionHeader = init.headers["mcp-session-id"];
    const id = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    if (init.statusCode !== 200 || id === undefined) {
      throw new Error(`initialize on ${this.endpoint.url} failed: HTTP ${init.statusCode} ${initText.slice(0, 300)}`);
    }
    const headers = { ...base, "mcp-session-id": id, "mcp-protocol-version": PROTOCOL_VERSION };

    const initialized = await this.pool.request({ path: this.path, method: "POST", headers, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' });
    await initialized.body.dump();
    if (initialized.statusCode !== 202) throw new Error(`notifications/initialized on ${this.endpoint.url} answered HTTP ${initialized.statusCode}`);

    const list = await this.pool.request({ path: this.path, method: "POST", headers, body: '{"jsonrpc":"2.0","id":0,"method":"tools/list"}' });
    const listed = JSON.parse(messageText(await list.body.text())) as { result?: { tools?: Array<{ name?: string }> } };
    if (!listed.result?.tools?.some((t) => t.name === "echo")) {
      throw new Error(`tools/list on ${this.endpoint.url} does not show the echo tool: ${JSON.stringify(listed).slice(0, 300)}`);
    }
    this.fullChecks.set(id, 3);
    return { id, headers };
  }

  /** One tools/call; resolves when the whole answer has been read. Never rejects. */
  async call(session: McpSession): Promise<CallOutcome> {
    try {
      const res = await this.pool.request({ path: this.path, method: "POST", headers: session.headers, body: this.bodyHead + this.nextId++ + this.bodyTail });
      const text = await res.body.text();
      return { ok: res.statusCode === 200 && this.looksRight(session.id, text), status: res.statusCode };
    } catch {
      return { ok: false, status: 0 };
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private looksRight(sessionId: string, text: string): boolean {
    const left = this.fullChecks.get(sessionId) ?? 0;
    if (left > 0) {
      this.fullChecks.set(sessionId, left - 1);
      return isEchoResult(text);
    }
    return text.includes(MARKER) && !text.includes('"error"');
  }
}

function isEchoResult(text: string): boolean {
  try {
    const parsed = JSON.parse(messageText(text)) as { result?: { content?: Array<{ type?: string; text?: string }> } };
    const first = parsed.result?.content?.[0];
    return first?.type === "text" && (JSON.parse(first.text ?? "null") as { marker?: string } | null)?.marker === MARKER;
  } catch {
    return false;
  }
}

/**
 * The JSON-RPC message of an answer body: the body itself when it is JSON, otherwise the data
 * of the first event of an SSE stream (its `data:` lines joined, up to the blank line).
 */
export function messageText(body: string): string {
  if (body.startsWith("{")) return body;
  const data: string[] = [];
  for (const line of body.split(/\r\n|\r|\n/)) {
    if (line === "") {
      if (data.length > 0) break;
      continue;
    }
    if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
  }
  return data.join("\n");
}

/**
 * `bytes` characters of ordinary text for the echoed argument: the notes of the Content Guard
 * tests' corpus (test/cases/guard-cases.ts), leaving out the notes it salts with a finding
 * ("… contact <e-mail, card number…> thanks"), so a guard scans real prose and lets the call through.
 */
export function prose(bytes: number): string {
  if (bytes <= 0) return "";
  let text = "";
  for (let budget = 2 * bytes; text.length < bytes; budget *= 2) {
    text = guardCorpus(budget)
      .records.map((r) => String(r.note))
      .filter((note) => !note.includes(" contact "))
      .join(" ");
  }
  return text.slice(0, bytes);
}
