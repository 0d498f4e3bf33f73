/**
 * The peer MCP proxies, installed from npm as devDependencies at pinned versions, and the
 * command that starts the stdio build of the bench upstream for them.
 *
 * Both peers front stdio servers only (neither can proxy a Streamable HTTP upstream to
 * Streamable HTTP clients), so each gets `bench/upstream/echo-stdio.ts`, the same echo
 * behaviour as the HTTP upstream, and serves it over Streamable HTTP on /mcp:
 *
 * - **mcp-proxy** (punkpeye/mcp-proxy, TypeScript; not the Rust project of the same name whose
 *   figures LANDSCAPE.md quotes): one upstream child shared by every downstream session,
 *   `--server stream` (only the endpoint measured), `--no-eventStore` (its README's advice for
 *   request/response-only deployments; it saves a copy of every answer).
 * - **supergateway**: `--outputTransport streamableHttp --stateful`, one upstream child per
 *   session (its stateless mode starts a child per request, which no one would measure), and
 *   `--logLevel none` (its default logs every message).
 *
 * Settings are each peer's best case for this workload; everything else is their default.
 */
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { REPO_ROOT } from "../lib/processes.js";

export interface Command {
  readonly command: string;
  readonly args: readonly string[];
}

/** The stdio echo server, as a command line (absolute paths: the peers spawn it from their own cwd). */
export const ECHO_STDIO_COMMAND: Command = {
  command: process.execPath,
  args: ["--import", "tsx", resolve(REPO_ROOT, "bench/upstream/echo-stdio.ts")],
};

export type PeerId = "mcp-proxy" | "supergateway";

export interface PeerSpec {
  readonly id: PeerId;
  readonly label: string;
  readonly description: string;
  /** The command line that serves the stdio echo server on 127.0.0.1:`port`/mcp. */
  command(port: number): Command;
}

const require = createRequire(import.meta.url);

/** The version installed, for the report. */
export function peerVersion(id: PeerId): string {
  return (require(`${id}/package.json`) as { version: string }).version;
}

/** A package's bin script, run with this Node rather than through a shell wrapper. */
function binScript(pkg: PeerId, bin: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bins = (require(manifest) as { bin: Record<string, string> | string }).bin;
  const path = typeof bins === "string" ? bins : bins[bin];
  if (path === undefined) throw new Error(`${pkg} has no "${bin}" bin`);
  return join(dirname(manifest), path);
}

export const PEERS: readonly PeerSpec[] = [
  {
    id: "mcp-proxy",
    label: "mcp-proxy",
    description: "npm mcp-proxy (TypeScript) fronting the stdio echo server, one shared upstream child",
    command: (port) => ({
      command: process.execPath,
      args: [binScript("mcp-proxy", "mcp-proxy"), "--host", "127.0.0.1", "--port", String(port), "--server", "stream", "--no-eventStore", "--", ECHO_STDIO_COMMAND.command, ...ECHO_STDIO_COMMAND.args],
    }),
  },
  {
    id: "supergateway",
    label: "supergateway",
    description: "npm supergateway, stdio→Streamable HTTP, stateful, one upstream child per session",
    command: (port) => ({
      command: process.execPath,
      args: [
        binScript("supergateway", "supergateway"),
        "--stdio",
        // supergateway runs this through a shell: quote the paths.
        [ECHO_STDIO_COMMAND.command, ...ECHO_STDIO_COMMAND.args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" "),
        "--outputTransport",
        "streamableHttp",
        "--stateful",
        "--port",
        String(port),
        "--logLevel",
        "none",
      ],
    }),
  },
];
