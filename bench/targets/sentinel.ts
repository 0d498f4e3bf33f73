/**
 * Sentinel as a bench target: the real gateway (startGateway, the same code `sentinel gateway`
 * runs) on the bench config — API key auth, session identity, a 1,000-rule policy and one
 * HTTP connection to the bench upstream. It generates a fresh API key and hands it to the
 * parent with its address.
 *
 *   node --import tsx bench/targets/sentinel.ts --upstream http://127.0.0.1:PORT/mcp [--port 0] [--rules 1000]
 */
import { generateApiKey } from "../../engine/auth/api-keys.js";
import { startGateway } from "../../engine/server.js";
import { mcpPath } from "../../sdk/ts/src/wire.js";
import { announceReady, argValue, serveControl } from "../lib/child-side.js";
import { BENCH_CONNECTION, benchConfig } from "./sentinel-config.js";

const rules = Number(argValue("rules", "1000"));
const upstreamUrl = argValue("upstream", "http://127.0.0.1:8081/mcp");
const { key, hash } = generateApiKey();
const config = benchConfig({ upstreamUrl, keyHash: hash, rules, port: Number(argValue("port", "0")) });

const gateway = await startGateway({ config });
serveControl(() => gateway.close());
announceReady({
  port: gateway.port,
  url: gateway.url + mcpPath(BENCH_CONNECTION),
  metricsUrl: `${gateway.url}/metrics`,
  apiKey: key,
  rules: gateway.gateway.runtime.tenants.get(config.tenants[0]!.id)?.policy.ruleCount ?? 0,
});
