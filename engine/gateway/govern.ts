/**
 * The policy stage for one request: decides governed calls (tools/call, resources/read,
 * prompts/get, completion on a prompt or resource) and filters list results, so that a caller
 * never sees a tool, resource or prompt it could not use.
 */
import type { RuntimeTenant } from "../config/compile-config.js";
import type { PolicyTarget } from "../config/types.js";
import { refuse, type Refusal } from "../errors.js";
import type { JsonRpcRequest } from "../mcp/jsonrpc.js";
import { GOVERNED_METHODS } from "../mcp/protocol.js";
import type { GatewaySession, ResultRewrite } from "./gateway-session.js";
import type { Gateway } from "./gateway.js";
import type { CallFacts } from "./guard-stage.js";
import type { Decision, PolicyInput } from "../policy/compile-policy.js";
import { ownEntry } from "../util/own.js";

export interface Verdict {
  readonly refusal?: Refusal;
  readonly rewrite?: ResultRewrite;
  /** The policy decision on a governed call, allowed or not, and what it judged (for audit). */
  readonly decision?: Decision;
  readonly target?: PolicyTarget;
  readonly name?: string;
}

const LISTS: Readonly<Record<string, { key: string; field: string; target: PolicyTarget }>> = {
  "tools/list": { key: "tools", field: "name", target: "mcp.tool" },
  "resources/list": { key: "resources", field: "uri", target: "mcp.resource" },
  "resources/templates/list": { key: "resourceTemplates", field: "uriTemplate", target: "mcp.resource" },
  "prompts/list": { key: "prompts", field: "name", target: "mcp.prompt" },
};

export function govern(
  _gw: Gateway,
  session: GatewaySession,
  tenant: RuntimeTenant,
  message: JsonRpcRequest,
  sourceIp: string,
  /** Content Guard findings, Token Guard counts and limit usage (guard-stage.ts). */
  facts?: CallFacts,
): Verdict | undefined {
  const base = {
    tenant: tenant.id,
    user: session.owner.identity.user,
    metadata: session.owner.identity.metadata,
    connection: session.owner.connection,
    sourceIp,
  };

  const governed = ownEntry(GOVERNED_METHODS, message.method);
  if (governed !== undefined) {
    const name = message.params?.[governed.nameParam];
    if (typeof name !== "string") {
      return { refusal: refuse("SENTINEL_INVALID_PARAMS", `${message.method} needs a string "${governed.nameParam}"`) };
    }
    const args = message.params?.arguments;
    return judge(tenant, { ...base, ...facts, target: governed.target, name, args: isObject(args) ? args : {} });
  }

  if (message.method === "completion/complete") {
    const ref = message.params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
    // Content Guard scanned the value being completed: rules on `guard.<id>` see its findings.
    if (ref?.type === "ref/prompt" && typeof ref.name === "string") return judge(tenant, { ...base, ...facts, target: "mcp.prompt", name: ref.name });
    if (ref?.type === "ref/resource" && typeof ref.uri === "string") return judge(tenant, { ...base, ...facts, target: "mcp.resource", name: ref.uri });
    return { refusal: refuse("SENTINEL_INVALID_PARAMS", 'completion/complete needs a "ref" to a prompt or a resource') };
  }

  const list = ownEntry(LISTS, message.method);
  if (list !== undefined) {
    const rewrite: ResultRewrite = (result) => {
      const items = (result as Record<string, unknown> | undefined)?.[list.key];
      if (!Array.isArray(items)) return result;
      const visible = items.filter((item) => {
        const name = (item as Record<string, unknown> | null)?.[list.field];
        return typeof name === "string" && tenant.policy.mayPermit({ ...base, target: list.target, name });
      });
      return { ...(result as Record<string, unknown>), [list.key]: visible };
    };
    return { rewrite };
  }
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function judge(tenant: RuntimeTenant, input: PolicyInput): Verdict {
  const decision = tenant.policy.evaluate(input);
  const judged = { decision, target: input.target, name: input.name };
  if (decision.permitted) return judged;
  return { ...judged, refusal: refuse("SENTINEL_POLICY_DENIED", decision.reason, { ruleId: decision.ruleId }) };
}
