/**
 * What the gateway needs from an upstream MCP server, whatever its transport. A session of the
 * gateway owns one UpstreamSession; ids in and out of it are already the gateway's upstream-side
 * ids (the session remaps them), so an upstream never sees two callers' ids collide.
 */
import type { JsonRpcMessage, JsonRpcRequest } from "../mcp/jsonrpc.js";
import type { SseEvent } from "../mcp/sse.js";

/** An upstream message or a bare SSE event (priming events carry an id and no data). */
export interface UpstreamEvent {
  readonly message: JsonRpcMessage | undefined;
  readonly sse: Omit<SseEvent, "data"> | undefined;
}

export type UpstreamReply =
  /** 202: a notification or response was accepted. */
  | { kind: "accepted" }
  /** A single JSON answer. */
  | { kind: "json"; message: JsonRpcMessage }
  /** A stream of events; ends when the upstream closes it. `cancel` stops reading it. */
  | { kind: "stream"; events: AsyncIterable<UpstreamEvent>; cancel(): void }
  /** An HTTP status the gateway passes on (404 unknown session, 405 no GET stream, …). */
  | { kind: "status"; status: number; body: string; contentType: string | undefined };

/** The credential version a call was admitted with at the vault & scope stage. */
export interface CallCredential {
  /** Injected into HTTP requests; read at dispatch, so a refreshed OAuth token is picked up. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Given to a stdio child at spawn. */
  readonly env: Readonly<Record<string, string>> | undefined;
}

/** A connection's credential as the upstream sees it (implemented by engine/vault). */
export interface UpstreamCredential {
  /** The active version, for traffic that is not a call (notifications, streams, spawns). */
  current(): CallCredential | Promise<CallCredential>;
  /** A child process holds this version in its environment until `unhold`. */
  hold(version: CallCredential): void;
  unhold(version: CallCredential): void;
  /** Runs after a rotation switched versions; returns the unsubscribe function. */
  onSwitch(listener: () => void): () => void;
  /** Masks any form of the secret in a line about to be logged. */
  scrubText(text: string): string;
}

export interface UpstreamSession {
  /** The protocol version negotiated at initialize, once known. */
  protocolVersion: string | undefined;
  /** Sends a client request (initialize included), with the credential version it was admitted with. */
  request(message: JsonRpcRequest, credential?: CallCredential): Promise<UpstreamReply>;
  /** Sends a notification or a response to a server request. */
  deliver(message: JsonRpcMessage): Promise<UpstreamReply>;
  /** Opens the stream of server-initiated messages, resuming after `lastEventId` if given. */
  listen(lastEventId: string | undefined): Promise<UpstreamReply>;
  /** Ends the upstream session (HTTP DELETE, or stopping the child process). */
  terminate(): Promise<void>;
}

export interface UpstreamConnection {
  readonly name: string;
  readonly timeoutMs: number;
  openSession(): UpstreamSession;
  close(): Promise<void>;
}
