/**
 * The gateway's view of one HTTP exchange with a downstream client, independent of the HTTP
 * server underneath (the uWebSockets.js adapter in engine/front implements it). Keeping the
 * pipeline on this interface is what lets the front move to another server without touching it.
 */
import type { JsonRpcMessage } from "../mcp/jsonrpc.js";
import type { SseEvent } from "../mcp/sse.js";

export interface IncomingRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly query: string;
  /** Lower-case header names; repeated headers joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  readonly remoteAddress: string;
}

export interface DownstreamStream {
  readonly closed: boolean;
  /** `message`: the JSON-RPC message the event's data encodes, when there is one (audit reads it, the wire does not). */
  send(event: SseEvent, message?: JsonRpcMessage): void;
  close(): void;
}

export interface DownstreamExchange {
  /** True once the client went away; writes after that are ignored. */
  readonly aborted: boolean;
  onAbort(listener: () => void): void;
  /** Headers to add to whatever response is sent. */
  setHeader(name: string, value: string): void;
  sendJson(status: number, body: unknown): void;
  sendText(status: number, body: string, contentType: string): void;
  sendEmpty(status: number): void;
  /** Starts a `200 text/event-stream` response. */
  openStream(): DownstreamStream;
}
