/**
 * `GET /llm/<connection>/v1/models` and `…/models/<id>`: the provider's model list, filtered
 * so a caller never sees a model it could not use, like `tools/list` on the MCP path. A model
 * is shown when some `llm.model` rule may permit it for this caller (conditions on the call
 * itself, such as `tokens.in`, count as "may") and the connection's credential grants the
 * scope it requires. Asking for a hidden model by id is refused before the provider is asked.
 */
import { refuse } from "../errors.js";
import { isRefusal } from "../mcp/jsonrpc.js";
import type { PolicyInput } from "../policy/compile-policy.js";
import { outcome } from "./llm-audit.js";
import type { LlmContext } from "./llm-context.js";
import { recordAndRelease } from "../gateway/audited-exchange.js";
import { isModelName, isObject, MODEL_NAME_RULE } from "./llm-request.js";
import { secretScrubber } from "./llm-answer-stage.js";
import { header, passHeaders } from "./llm-upstream.js";
import { lease as leaseOf, mayUse } from "./llm-vault.js";

export interface ModelsContext extends LlmContext {
  readonly base: Omit<PolicyInput, "target" | "name">;
}

export async function listModels(ctx: ModelsContext, model: string | undefined): Promise<void> {
  const { gw, ex, trace, tenant, upstream } = ctx;
  const binding = gw.vault?.binding(tenant.id, upstream.name);
  const visible = (id: string) => tenant.policy.mayPermit({ ...ctx.base, target: "llm.model", name: id }) && (binding === undefined || mayUse(binding, id));
  if (trace !== undefined) {
    trace.method = "models";
    if (model !== undefined) {
      trace.target = "llm.model";
      trace.name = model;
    }
  }
  if (model !== undefined && !isModelName(model)) return ctx.fail(refuse("SENTINEL_INVALID_REQUEST", MODEL_NAME_RULE));
  if (model !== undefined && !visible(model)) return ctx.fail(refuse("SENTINEL_POLICY_DENIED", `model "${model}" is not available to this caller`));

  let lease = binding === undefined ? undefined : leaseOf(binding);
  if (lease instanceof Promise) lease = await lease;
  if (isRefusal(lease)) return ctx.fail(lease);
  if (trace !== undefined && binding !== undefined && lease !== undefined) trace.credential = { id: binding.credential.name, version: lease.version };
  try {
    const reply = await upstream.request("GET", model === undefined ? "models" : `models/${encodeURIComponent(model)}`, undefined, lease);
    if (isRefusal(reply)) return ctx.fail(reply);
    const scrub = secretScrubber(ctx);
    passHeaders(reply, ex, scrub);
    const type = header(reply.headers, "content-type")?.split(";")[0]?.trim().toLowerCase() ?? "application/json";
    let text = await reply.body.text();
    if (reply.status === 200 && model === undefined) {
      let list: unknown;
      try {
        list = JSON.parse(text);
      } catch {
        return ctx.fail(refuse("SENTINEL_UPSTREAM_PROTOCOL", "the provider's model list is not JSON"));
      }
      // A list the gateway cannot filter is not passed on: it could show what must stay hidden.
      if (!isObject(list) || !Array.isArray(list.data)) return ctx.fail(refuse("SENTINEL_UPSTREAM_PROTOCOL", 'the provider\'s model list has no "data" array'));
      text = JSON.stringify({ ...list, data: list.data.filter((m) => isObject(m) && typeof m.id === "string" && visible(m.id)) });
    }
    // A provider's error (a 401 naming the key it got) is scrubbed like a call's answer.
    text = scrub(text);
    const send = () => ex.sendText(reply.status, text, type);
    if (trace === undefined) return send();
    recordAndRelease(gw.audit!, trace, outcome(reply.status), send);
  } finally {
    if (lease !== undefined) binding!.credential.release(lease);
  }
}
