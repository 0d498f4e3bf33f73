/**
 * Local stand-ins for Slack, Discord and a generic webhook receiver that check what the real ones
 * check: Slack's incoming-webhook payload (`text`, Block Kit `blocks` within Slack's limits,
 * answering `invalid_blocks` otherwise), Discord's webhook payload (`content` / `embeds` within
 * Discord's limits, 204 on success, 429 with `retry_after`), and the generic webhook's
 * HMAC-SHA256 signature over `<timestamp>.<body>` with a five-minute replay window.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface Receiver {
  readonly url: string;
  /** Payloads accepted, in order. */
  readonly accepted: unknown[];
  /** Every answer given, in order ("ok", "500", "invalid_blocks"…). */
  readonly answers: string[];
  /** Scripted answers for the next requests (status codes); then the receiver's normal behaviour. */
  readonly script: number[];
  close(): Promise<void>;
}

type Check = (req: IncomingMessage, body: string) => { status: number; text: string; accepted?: unknown };

async function serve(check: Check): Promise<Receiver> {
  const accepted: unknown[] = [];
  const answers: string[] = [];
  const script: number[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const scripted = script.shift();
      if (scripted !== undefined) {
        answers.push(String(scripted));
        if (scripted === 429) res.writeHead(429, { "content-type": "application/json", "retry-after": "0" }).end(JSON.stringify({ message: "You are being rate limited.", retry_after: 0.05, global: false }));
        else res.writeHead(scripted).end("scripted");
        return;
      }
      const out = check(req, body);
      answers.push(out.text);
      if (out.accepted !== undefined) accepted.push(out.accepted);
      res.writeHead(out.status, { "content-type": "text/plain" }).end(out.status === 204 ? undefined : out.text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, accepted, answers, script, close: () => new Promise((r) => server.close(() => r())) };
}

const json = (req: IncomingMessage, body: string): Record<string, unknown> | undefined => {
  if (req.method !== "POST" || !(req.headers["content-type"] ?? "").startsWith("application/json")) return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

const str = (v: unknown, max: number) => typeof v === "string" && v.length > 0 && v.length <= max;
const textObj = (t: unknown, types: string[], max: number) => {
  const o = t as { type?: unknown; text?: unknown } | undefined;
  return o !== undefined && types.includes(String(o.type)) && str(o.text, max);
};

function slackBlockOk(b: Record<string, unknown>): boolean {
  switch (b.type) {
    case "header":
      return textObj(b.text, ["plain_text"], 150);
    case "section": {
      const fields = b.fields as unknown[] | undefined;
      if (b.text === undefined && fields === undefined) return false;
      if (b.text !== undefined && !textObj(b.text, ["mrkdwn", "plain_text"], 3000)) return false;
      return fields === undefined || (Array.isArray(fields) && fields.length <= 10 && fields.every((f) => textObj(f, ["mrkdwn", "plain_text"], 2000)));
    }
    case "context": {
      const els = b.elements as unknown[];
      return Array.isArray(els) && els.length > 0 && els.length <= 10 && els.every((e) => textObj(e, ["mrkdwn", "plain_text"], 3000));
    }
    case "divider":
      return true;
    default:
      return false;
  }
}

export const slackReceiver = () =>
  serve((req, body) => {
    const p = json(req, body);
    if (p === undefined) return { status: 400, text: "invalid_payload" };
    if (p.text === undefined && p.blocks === undefined) return { status: 400, text: "no_text" };
    if (p.text !== undefined && !str(p.text, 40_000)) return { status: 400, text: "invalid_payload" };
    const blocks = p.blocks as Array<Record<string, unknown>> | undefined;
    if (blocks !== undefined && (!Array.isArray(blocks) || blocks.length > 50 || !blocks.every(slackBlockOk))) return { status: 400, text: "invalid_blocks" };
    return { status: 200, text: "ok", accepted: p };
  });

export const discordReceiver = () =>
  serve((req, body) => {
    const p = json(req, body);
    const bad = (why: string) => ({ status: 400, text: JSON.stringify({ code: 50035, message: `Invalid Form Body: ${why}` }) });
    if (p === undefined) return bad("not json");
    const embeds = p.embeds as Array<Record<string, unknown>> | undefined;
    if (p.content === undefined && embeds === undefined) return { status: 400, text: JSON.stringify({ code: 50006, message: "Cannot send an empty message" }) };
    if (p.content !== undefined && !str(p.content, 2000)) return bad("content");
    let total = 0;
    for (const e of embeds ?? []) {
      if (e.title !== undefined && !str(e.title, 256)) return bad("embeds.title");
      if (e.description !== undefined && !str(e.description, 4096)) return bad("embeds.description");
      const fields = (e.fields ?? []) as Array<{ name?: unknown; value?: unknown }>;
      if (fields.length > 25 || !fields.every((f) => str(f.name, 256) && str(f.value, 1024))) return bad("embeds.fields");
      total += String(e.title ?? "").length + String(e.description ?? "").length + fields.reduce((n, f) => n + String(f.name).length + String(f.value).length, 0);
    }
    if ((embeds?.length ?? 0) > 10 || total > 6000) return bad("embeds too large");
    return { status: 204, text: "204", accepted: p };
  });

/** Verifies `x-sentinel-signature` over `<x-sentinel-timestamp>.<body>`, the timestamp window and replays. */
export const webhookReceiver = (secret: string, windowSeconds = 300) => {
  const seen = new Set<string>();
  return serve((req, body) => {
    const ts = String(req.headers["x-sentinel-timestamp"] ?? "");
    const sig = String(req.headers["x-sentinel-signature"] ?? "");
    if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > windowSeconds) return { status: 401, text: "stale or missing timestamp" };
    const want = Buffer.from("v1=" + createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex"));
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { status: 401, text: "bad signature" };
    if (seen.has(sig)) return { status: 409, text: "replayed" };
    seen.add(sig);
    return { status: 200, text: "ok", accepted: JSON.parse(body) as unknown };
  });
};
