/**
 * Peers suite: Sentinel against other MCP proxies installable from npm (mcp-proxy and
 * supergateway), same machine, same run, same upstream behaviour.
 *
 * Neither peer can proxy a Streamable HTTP upstream, so every proxy here fronts the stdio build
 * of the echo server (targets/peers.ts), Sentinel included: it gets the same stdio upstream,
 * one child per session, so the comparison with the peers is like for like. The direct call
 * is the HTTP build of the same echo server; "added latency" therefore includes the stdio hop
 * for every proxy here alike, and is larger than in the `e2e` suite.
 */
import { freePort, startChild, startExternal, type BenchChild } from "../lib/processes.js";
import { descendantsCpuMicros } from "../lib/proc-tree.js";
import { PEERS, peerVersion } from "../targets/peers.js";
import { addedRatio, DIRECT, PROFILE_DIR, runComparison, type ComparisonPlan, type Objective, type StartedTarget, type TargetSpec } from "./comparison.js";
import { comparisonPlots } from "./comparison-plots.js";
import { renderComparisonMarkdown } from "./comparison-report.js";
import { pipelineNote, sentinelHeaders, STAGE_NOTE, type SentinelInfo, type UpstreamInfo } from "./e2e.js";
import type { Suite } from "./suite.js";

const SENTINEL_STDIO = "sentinel-stdio";

export const PEER_TARGETS: readonly TargetSpec[] = [
  { id: DIRECT, label: "direct", description: "the echo upstream over Streamable HTTP, no proxy" },
  { id: SENTINEL_STDIO, label: "Sentinel (stdio)", description: "the gateway, full policy, fronting the stdio echo server, one child per session" },
  ...PEERS.map((p) => ({ id: p.id, label: p.label, description: p.description })),
];

/** What runs behind a proxy that spawns its upstreams: its descendants' CPU. */
const childrenCpu = (proxy: BenchChild<unknown>) => async () => descendantsCpuMicros(proxy.pid);

const peersPlan: ComparisonPlan = {
  title: "Peers: Sentinel against other MCP proxies (stdio upstream)",
  targets: PEER_TARGETS,
  // Both peers saturate near 1,000 calls per second on two cores; added latency is compared
  // at a rate every target sustains, so that it measures the proxies, not their queues.
  openRate: (options) => options.peersRate,
  async start(options, pinning, log) {
    log(`starting the echo upstream, Sentinel on the stdio echo server, ${PEERS.map((p) => p.label).join(" and ")}`);
    const nodeArgs = options.profile ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
    const upstream = await startChild<UpstreamInfo>("echo upstream", "bench/upstream/echo-server.ts", [], { cpus: pinning?.loadGeneratorAndUpstream });
    const processes: Array<BenchChild<unknown>> = [upstream];
    try {
      const sentinel = await startChild<SentinelInfo>("Sentinel (stdio)", "bench/targets/sentinel.ts", ["--stdio", "--rules", String(options.rules), "--pipeline", options.pipeline], {
        cpus: pinning?.target,
        readyTimeoutMs: 60_000,
        nodeArgs,
      });
      processes.push(sentinel);
      const targets: Record<string, StartedTarget> = {
        [DIRECT]: { url: upstream.info.url, proxy: undefined, upstreamCpuMicros: () => upstream.cpuMicros() },
        [SENTINEL_STDIO]: { url: sentinel.info.url, proxy: sentinel, upstreamCpuMicros: childrenCpu(sentinel), metricsUrl: sentinel.info.metricsUrl },
      };
      const facts: Record<string, string | number> = { rules: sentinel.info.rules, pipeline: sentinel.info.pipeline };
      for (const peer of PEERS) {
        const port = await freePort();
        const { command, args } = peer.command(port);
        const child = await startExternal(peer.label, command, args, { cpus: pinning?.target, port, readyTimeoutMs: 60_000 });
        processes.push(child);
        targets[peer.id] = { url: `http://127.0.0.1:${port}/mcp`, proxy: child, upstreamCpuMicros: childrenCpu(child) };
        facts[peer.id] = peerVersion(peer.id);
      }
      return { targets, headers: sentinelHeaders(sentinel.info.apiKey), processes, facts };
    } catch (err) {
      for (const p of processes.reverse()) await p.stop();
      throw err;
    }
  },
  objectives(result) {
    return PEERS.map((p) => addedRatio(result, SENTINEL_STDIO, p.id, "p50", 1 / 3, `Sentinel (stdio) added p50 ≤ ⅓ of ${p.label}'s (open loop)`)).filter(
      (o): o is Objective => o !== undefined,
    );
  },
  notes(result) {
    return [
      "Both peers front stdio servers only, so every proxy in this table, Sentinel included, fronts the stdio build of the echo server (bench/upstream/echo-stdio.ts, the same answers as the HTTP upstream). The direct call is the HTTP build: added latency here includes the stdio hop, alike for all.",
      `Peer versions: ${PEERS.map((p) => `${p.label} ${String(result.settings.facts[p.id])}`).join(", ")}; settings in bench/targets/peers.ts (each peer's best case for request/response traffic). This npm mcp-proxy is the TypeScript project, not the Rust one whose ~50 µs LANDSCAPE.md quotes.`,
      "Both peers answer every request as an SSE stream of one event; Sentinel and the upstream answer plain JSON. The load generator accepts both and does the same work for each.",
      "Upstream CPU for the proxies is that of their stdio children (one per session for Sentinel and supergateway, one shared for mcp-proxy).",
      pipelineNote(result.stages[SENTINEL_STDIO]),
      STAGE_NOTE,
    ];
  },
};

export const peersSuite: Suite = {
  name: "peers",
  description: "Sentinel against mcp-proxy and supergateway, all fronting the same stdio echo server",
  async run(context) {
    const result = await runComparison(peersPlan, context);
    return { result, markdown: renderComparisonMarkdown(result, { sentinel: SENTINEL_STDIO, rules: Number(result.settings.facts.rules) }), plots: comparisonPlots("peers", result) };
  },
};
