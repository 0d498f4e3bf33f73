/**
 * `sentinel bridge`: lets stdio-only MCP hosts (desktop assistants, IDEs) use the gateway. It
 * speaks MCP over stdio to the host and Streamable HTTP to the gateway, passing every message
 * through unchanged; identity travels in the same headers any HTTP client would send.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { HEADERS, mcpPath } from "../../sdk/ts/src/wire.js";

export interface BridgeOptions {
  url: string;
  connection: string;
  apiKey: string;
  user?: string;
  metadata?: string;
}

export async function runBridge(options: BridgeOptions): Promise<void> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}` };
  if (options.user !== undefined) headers[HEADERS.user] = options.user;
  if (options.metadata !== undefined) headers[HEADERS.metadata] = options.metadata;
  const remote = new StreamableHTTPClientTransport(new URL(mcpPath(options.connection), options.url), { requestInit: { headers } });
  const local = new StdioServerTransport();

  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await remote.terminateSession().catch(() => undefined);
    await remote.close().catch(() => undefined);
    await local.close().catch(() => undefined);
    process.exit(code);
  };

  local.onmessage = (message) => {
    remote.send(message).catch((err: Error) => {
      process.stderr.write(`sentinel bridge: ${err.message}\n`);
      // A request that could not be delivered still needs an answer, or the host hangs.
      if ("id" in message && "method" in message) {
        void local.send({ jsonrpc: "2.0", id: message.id, error: { code: -32010, message: `gateway unreachable: ${err.message}` } });
      }
    });
  };
  remote.onmessage = (message) => {
    // Learn the negotiated version from the initialize result so later requests carry the
    // MCP-Protocol-Version header, as the host's own HTTP transport would have sent.
    const result = (message as { result?: { protocolVersion?: unknown; serverInfo?: unknown } }).result;
    if (typeof result?.protocolVersion === "string" && result.serverInfo !== undefined) remote.setProtocolVersion(result.protocolVersion);
    void local.send(message);
  };
  remote.onerror = (err) => process.stderr.write(`sentinel bridge: ${err.message}\n`);
  local.onclose = () => void shutdown(0);
  process.stdin.on("end", () => void shutdown(0));
  await remote.start();
  await local.start();
}
