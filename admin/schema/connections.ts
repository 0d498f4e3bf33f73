/**
 * Connections: a tenant's upstream MCP servers (Streamable HTTP or stdio) and LLM providers. Literal header and
 * environment values can be secrets, so they are shown masked (`${VAR}` references as written);
 * updates are patches, so a client never has to send back a value it was only shown masked.
 */
import type { ConnectionConfig, HttpConnectionConfig, RequiredScopeConfig, StdioConnectionConfig } from "../../engine/config/types.js";
import { mask } from "../../engine/vault/masking.js";
import { deleteTenantItem } from "../tenant-items.js";
import { builder, changePayload } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import { addItem, applyPatch, compact, findItem, findTenant, listOf, pick } from "../document.js";
import { TenantRef } from "./tenants.js";

const Transport = builder.enumType("Transport", { values: ["http", "stdio", "llm"] as const });
// GraphQL enum names cannot hold "-": openai_compatible stands for the config's "openai-compatible".
const LlmProvider = builder.enumType("LlmProvider", { values: { openai: { value: "openai" }, openai_compatible: { value: "openai-compatible" } } as const });

/** A literal value masked; a `${VAR}` reference (the value lives in the gateway's environment) as written. */
const maskLiteral = (v: string): string => (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v) ? v : mask(v));
const maskValues = (m: Record<string, string> | undefined) => (m === undefined ? null : Object.fromEntries(Object.entries(m).map(([k, v]) => [k, maskLiteral(v)])));

const RequiredScope = builder.objectRef<RequiredScopeConfig>("RequiredScope").implement({
  description: "The scope a call needs: exactly one of tool, resource (a URI glob) or prompt is set.",
  fields: (t) => ({
    tool: t.exposeString("tool", { nullable: true }),
    resource: t.exposeString("resource", { nullable: true }),
    prompt: t.exposeString("prompt", { nullable: true }),
    scope: t.exposeString("scope"),
  }),
});
const RequiredScopeInput = builder.inputType("RequiredScopeInput", {
  description: "Set exactly one of tool, resource or prompt (globs over tool names, resource URIs, prompt names).",
  fields: (t) => ({ tool: t.string(), resource: t.string(), prompt: t.string(), scope: t.string({ required: true }) }),
});

export const ConnectionRef = builder.objectRef<ConnectionConfig>("Connection").implement({
  fields: (t) => ({
    name: t.exposeID("name"),
    transport: t.field({ type: Transport, resolve: (c) => c.transport }),
    description: t.exposeString("description", { nullable: true }),
    timeoutMs: t.exposeInt("timeoutMs", { nullable: true }),
    credential: t.exposeString("credential", { nullable: true, description: "The vault credential injected for this connection." }),
    requiredScopes: t.field({ type: [RequiredScope], resolve: (c) => c.requiredScopes ?? [] }),
    url: t.string({ nullable: true, resolve: (c) => (c.transport !== "stdio" ? c.url : null) }),
    provider: t.field({ type: LlmProvider, nullable: true, resolve: (c) => (c.transport === "llm" ? (c.provider ?? "openai") : null) }),
    headers: t.field({ type: "JSON", nullable: true, description: "Literal values masked.", resolve: (c) => (c.transport !== "stdio" ? maskValues(c.headers) : null) }),
    maxConnections: t.int({ nullable: true, resolve: (c) => (c.transport !== "stdio" ? (c.maxConnections ?? null) : null) }),
    command: t.string({ nullable: true, resolve: (c) => (c.transport === "stdio" ? c.command : null) }),
    args: t.stringList({ nullable: true, resolve: (c) => (c.transport === "stdio" ? (c.args ?? []) : null) }),
    env: t.field({ type: "JSON", nullable: true, description: "Literal values masked.", resolve: (c) => (c.transport === "stdio" ? maskValues(c.env) : null) }),
    cwd: t.string({ nullable: true, resolve: (c) => (c.transport === "stdio" ? (c.cwd ?? null) : null) }),
    restart: t.field({ type: "JSON", nullable: true, resolve: (c) => (c.transport === "stdio" ? (c.restart ?? null) : null) }),
  }),
});

builder.objectField(TenantRef, "connections", (t) => t.field({ type: [ConnectionRef], resolve: (tenant) => tenant.connections ?? [] }));

const FIELDS = ["description", "timeoutMs", "credential", "requiredScopes", "url", "provider", "headers", "maxConnections", "command", "args", "env", "cwd", "restart"] as const;

const fieldsOf = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) => ({
  description: t.string(),
  timeoutMs: t.int(),
  credential: t.string({ description: "A credential of the same tenant; both sides name the binding." }),
  requiredScopes: t.field({ type: [RequiredScopeInput] }),
  url: t.string({ description: "http: the upstream's MCP endpoint; llm: the provider's OpenAI-compatible base URL (https://api.openai.com/v1)." }),
  provider: t.field({ type: LlmProvider, description: "llm: the API dialect (openai, openai-compatible)." }),
  headers: t.field({ type: "JSON", description: "http, llm: extra headers, name → value." }),
  maxConnections: t.int({ description: "http, llm: keep-alive pool size." }),
  command: t.string({ description: "stdio: the program; `${NODE}` is the gateway's Node." }),
  args: t.stringList(),
  env: t.field({ type: "JSON", description: "stdio: the child's variables, name → value (`${VAR}` to take one from the gateway's environment)." }),
  cwd: t.string(),
  restart: t.field({ type: "JSON", description: "stdio: { initialDelayMs, maxDelayMs, maxRestarts }." }),
});

const ConnectionInput = builder.inputType("ConnectionInput", {
  fields: (t) => ({ name: t.string({ required: true }), transport: t.field({ type: Transport, required: true }), ...fieldsOf(t) }),
});
const ConnectionPatch = builder.inputType("ConnectionPatch", {
  description: "Absent fields keep their value; null removes one.",
  fields: (t) => ({ transport: t.field({ type: Transport }), ...fieldsOf(t) }),
});

const ConnectionPayload = changePayload("ConnectionPayload", "connection", ConnectionRef);

builder.mutationFields((t) => ({
  createConnection: t.field({
    type: ConnectionPayload,
    authScopes: (_root, args) => ({ tenantWriter: String(args.tenant) }),
    args: { tenant: t.arg.id({ required: true }), input: t.arg({ type: ConnectionInput, required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const connection = compact({ ...args.input }) as unknown as ConnectionConfig;
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "connections");
        at(addItem(list.items, list.path, (c) => c.name, connection, "connection"));
      });
      return { value: connection, version: done.version.version };
    },
  }),
  updateConnection: t.field({
    type: ConnectionPayload,
    authScopes: (_root, args) => ({ tenantWriter: String(args.tenant) }),
    args: { tenant: t.arg.id({ required: true }), name: t.arg.id({ required: true }), patch: t.arg({ type: ConnectionPatch, required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "connections");
        const found = findItem(list.items, list.path, (c) => c.name, String(args.name), "connection");
        at(found.path);
        return applyPatch(found.item as HttpConnectionConfig | StdioConnectionConfig, pick(args.patch, ["transport", ...FIELDS]));
      });
      return { value: done.result, version: done.version.version };
    },
  }),
  deleteConnection: deleteTenantItem(t, "connections", (c) => c.name, "connection"),
}));
