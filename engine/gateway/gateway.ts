/**
 * The data plane: routes requests to the MCP pipeline or the operational endpoints, holds the
 * published runtime config, the open sessions and the upstream pools.
 */
import type { RuntimeConfig } from "../config/compile-config.js";
import type { Safeguards } from "../config/compile-safeguards.js";
import type { ConnectionConfig } from "../config/types.js";
import { refuse } from "../errors.js";
import type { GuardSpecs } from "../guard/guard-snapshot.js";
import { ScanPool } from "../guard/scan-pool.js";
import { MemoryCounterStore, type CounterStore } from "../limits/counter-store.js";
import { MCP_PATH_PREFIX } from "../../sdk/ts/src/wire.js";
import { Metrics } from "../metrics/metrics.js";
import { HttpUpstream } from "../upstream/http-upstream.js";
import { StdioUpstream } from "../upstream/stdio-upstream.js";
import type { UpstreamConnection } from "../upstream/upstream.js";
import type { Vault } from "../vault/vault.js";
import type { DownstreamExchange, IncomingRequest } from "./downstream.js";
import { errorResponse } from "./gateway-session.js";
import { compileHostCheck, type HostCheck } from "./host-check.js";
import { handleMcp } from "./pipeline.js";
import { handleLlm } from "../llm/llm-pipeline.js";
import { LLM_PATH_PREFIX } from "../llm/llm-routes.js";
import { LlmUpstream } from "../llm/llm-upstream.js";
import { SessionRegistry } from "./session-registry.js";
import type { AuditLog } from "../audit/audit-log.js";
import { auditMetrics } from "../audit/audit-metrics.js";

export class Gateway {
  readonly metrics = new Metrics();
  readonly sessions = new SessionRegistry((n) => (this.metrics.activeSessions = n));
  draining = false;
  /** Limit counters. Kept across publishes: a reload must not reset anyone's usage. */
  readonly counters: CounterStore = new MemoryCounterStore();
  /** Content Guard and Token Guard work on large payloads, off the event loop. */
  readonly guardPool = new ScanPool();
  /** The audit trail (engine/audit); set by startGateway, absent when `audit.enabled` is false. */
  audit: AuditLog | undefined = undefined;
  private current: RuntimeConfig;
  private hostCheck: HostCheck;
  private generation = 1;
  private readonly upstreams = new Map<string, { fingerprint: string; connection: UpstreamConnection }>();

  constructor(
    runtime: RuntimeConfig,
    /** Credentials and scopes (engine/vault); absent, connections carry no vault credential. */
    readonly vault?: Vault,
  ) {
    vault?.publish(runtime.source);
    this.guardPool.publish(guardSpecs(runtime));
    this.current = runtime;
    this.hostCheck = compileHostCheck(runtime.server);
    this.sessions.startSweeping(() => this.current.server.sessionIdleTimeoutMs);
  }

  get runtime(): RuntimeConfig {
    return this.current;
  }

  get configGeneration(): number {
    return this.generation;
  }

  /**
   * Swaps in a new config. The swap is one assignment on the event loop, so each request sees
   * either the old or the new config, never a mix; open sessions keep their upstream session
   * but are judged by the new policy from their next request on.
   */
  publish(runtime: RuntimeConfig): void {
    this.vault?.publish(runtime.source);
    // Before the swap: a call judged by the new config may post tasks naming its pattern sets.
    this.guardPool.publish(guardSpecs(runtime));
    this.current = runtime;
    this.hostCheck = compileHostCheck(runtime.server);
    this.generation++;
  }

  /** The shared pool or process factory for a connection; rebuilt when its config changes. */
  upstreamFor(tenantId: string, config: ConnectionConfig): UpstreamConnection {
    const key = `${tenantId}/${config.name}`;
    const credential = this.vault?.binding(tenantId, config.name)?.credential;
    // The credential object is part of the identity: a replaced credential (new header, new
    // type) needs a pool or child that injects the new way.
    const fingerprint = JSON.stringify(config) + (credential === undefined ? "" : `\ncredential #${credential.serial}`);
    const known = this.upstreams.get(key);
    if (known !== undefined && known.fingerprint === fingerprint) return known.connection;
    // A changed connection gets a fresh pool; sessions on the old one finish on it.
    const connection =
      config.transport === "http" ? new HttpUpstream(config, credential) : config.transport === "llm" ? new LlmUpstream(config, credential) : new StdioUpstream(config, credential);
    this.upstreams.set(key, { fingerprint, connection });
    return connection;
  }

  async handle(req: IncomingRequest, ex: DownstreamExchange): Promise<void> {
    try {
      if (req.path.startsWith(MCP_PATH_PREFIX)) {
        const problem = this.hostCheck.allows(req.headers.get("host"), req.headers.get("origin"));
        if (problem !== undefined) {
          this.metrics.countRefusal("SENTINEL_FORBIDDEN_ORIGIN");
          return ex.sendJson(403, errorResponse(null, refuse("SENTINEL_FORBIDDEN_ORIGIN", problem)));
        }
        let connection: string;
        try {
          connection = decodeURIComponent(req.path.slice(MCP_PATH_PREFIX.length));
        } catch {
          connection = "";
        }
        if (connection === "" || connection.includes("/")) {
          return ex.sendJson(404, errorResponse(null, refuse("SENTINEL_UNKNOWN_CONNECTION", "the path must be /mcp/<connection>")));
        }
        return await handleMcp(this, req, ex, connection);
      }
      if (req.path.startsWith(LLM_PATH_PREFIX)) {
        // The LLM path answers in OpenAI's error format, so it reports a Host/Origin refusal itself.
        return await handleLlm(this, req, ex, this.hostCheck.allows(req.headers.get("host"), req.headers.get("origin")));
      }
      switch (req.path) {
        case "/healthz":
          return ex.sendJson(200, { status: "ok" });
        case "/readyz":
          return this.draining
            ? ex.sendJson(503, { status: "draining" })
            : ex.sendJson(200, { status: "ready", configGeneration: this.generation, sessions: this.sessions.size });
        case "/metrics":
          return ex.sendText(200, this.metrics.prometheus() + auditMetrics(this.audit), "text/plain; version=0.0.4");
        default:
          return ex.sendJson(404, { error: "not found", hint: "MCP is served at /mcp/<connection>, LLM calls at /llm/<connection>/v1/<endpoint>" });
      }
    } catch (err) {
      process.stderr.write(`sentinel: internal error on ${req.method} ${req.path}: ${(err as Error).stack ?? String(err)}\n`);
      if (!ex.aborted) ex.sendJson(500, errorResponse(null, refuse("SENTINEL_INTERNAL", "internal error")));
    }
  }

  /** Stops taking sessions, ends the open ones and closes upstream pools and processes. */
  async close(): Promise<void> {
    this.draining = true;
    await this.sessions.closeAll();
    await Promise.all([...this.upstreams.values()].map((u) => u.connection.close()));
    this.upstreams.clear();
    await this.guardPool.close();
  }
}

/** Every tenant's Content Guard pattern set, by key, for the scan pool's snapshot. */
function guardSpecs(runtime: RuntimeConfig): GuardSpecs {
  const specs = new Map<string, NonNullable<Safeguards["guard"]>["spec"]>();
  for (const tenant of runtime.tenants.values()) {
    const sg = tenant.safeguards;
    if (sg?.guard !== undefined) specs.set(sg.guardKey, sg.guard.spec);
  }
  return specs;
}
