/**
 * Content Guard: a tenant's built-in pattern selection, custom patterns (RE2 or keyword lists)
 * and response inspection, plus the catalogue of built-ins. A pattern RE2 cannot run is refused
 * with its path, exactly as when the config loads.
 */
import type { GuardAction as Action, GuardBuiltinConfig, GuardConfig, GuardPatternConfig } from "../../engine/config/types.js";
import { BUILTIN_PATTERNS, type BuiltinPattern } from "../../engine/guard/library.js";
import { builder } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import { addItem, applyPatch, compact, findItem, findTenant, pick } from "../document.js";
import { TenantRef } from "./tenants.js";

const GuardAction = builder.enumType("GuardAction", { values: ["deny", "redact", "alert"] as const });

const Builtin = builder.objectRef<BuiltinPattern>("GuardBuiltin").implement({
  description: "A built-in Content Guard pattern (engine/guard/library.ts).",
  fields: (t) => ({
    id: t.exposeID("id"),
    label: t.exposeString("label"),
    description: t.exposeString("description"),
    precision: t.exposeString("precision"),
    defaultAction: t.field({ type: GuardAction, resolve: (p) => p.defaultAction }),
    optIn: t.boolean({ description: 'Not enabled by "*"; must be named.', resolve: (p) => p.optIn === true }),
  }),
});

const BuiltinChoice = builder.objectRef<GuardBuiltinConfig>("GuardBuiltinChoice").implement({
  fields: (t) => ({
    id: t.string({ description: '"*" for every built-in that is not opt-in.', resolve: (b) => (typeof b === "string" ? b : b.id) }),
    action: t.field({ type: GuardAction, nullable: true, description: "Overrides the default action.", resolve: (b) => (typeof b === "string" ? null : (b.action ?? null)) }),
  }),
});

const Pattern = builder.objectRef<GuardPatternConfig>("GuardPattern").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    pattern: t.exposeString("pattern", { nullable: true, description: "RE2 syntax." }),
    keywords: t.exposeStringList("keywords", { nullable: true }),
    action: t.field({ type: GuardAction, resolve: (p) => p.action }),
    label: t.exposeString("label", { nullable: true }),
  }),
});

const Guard = builder.objectRef<GuardConfig>("Guard").implement({
  fields: (t) => ({
    builtins: t.field({ type: [BuiltinChoice], resolve: (g) => g.builtins ?? [] }),
    patterns: t.field({ type: [Pattern], resolve: (g) => g.patterns ?? [] }),
    responseInspection: t.boolean({ resolve: (g) => g.responseInspection === true }),
    offloadBytes: t.exposeInt("offloadBytes", { nullable: true }),
  }),
});

builder.objectField(TenantRef, "guard", (t) => t.field({ type: Guard, nullable: true, resolve: (tenant) => tenant.guard ?? null }));

builder.queryField("guardBuiltins", (t) => t.field({ type: [Builtin], description: "Every built-in pattern.", resolve: () => [...BUILTIN_PATTERNS] }));

const BuiltinInput = builder.inputType("GuardBuiltinInput", {
  fields: (t) => ({ id: t.string({ required: true }), action: t.field({ type: GuardAction }) }),
});
const PatternInput = builder.inputType("GuardPatternInput", {
  description: "Either `pattern` (RE2) or `keywords`.",
  fields: (t) => ({
    id: t.string({ required: true }),
    pattern: t.string(),
    keywords: t.stringList(),
    action: t.field({ type: GuardAction, required: true }),
    label: t.string(),
  }),
});

const GuardPayload = builder.objectRef<{ guard: GuardConfig; version: number }>("GuardPayload").implement({
  fields: (t) => ({ guard: t.field({ type: Guard, resolve: (p) => p.guard }), version: t.exposeInt("version") }),
});

const writer = (_root: unknown, args: { tenant: string | number }) => ({ tenantWriter: String(args.tenant) });

/** Runs `fn` on the tenant's guard section (created when absent). */
function onGuard(ctx: Parameters<typeof mutateConfig>[0], args: { tenant: string | number; expectedVersion?: number | null; comment?: string | null }, fn: (g: GuardConfig, path: string) => string | void) {
  return mutateConfig(ctx, args, (doc, at) => {
    const tenant = findTenant(doc, String(args.tenant));
    tenant.item.guard ??= {};
    at(fn(tenant.item.guard, `${tenant.path}.guard`) ?? `${tenant.path}.guard`);
    return tenant.item.guard;
  });
}

builder.mutationFields((t) => ({
  setGuard: t.field({
    type: GuardPayload,
    authScopes: writer,
    description: "Sets the tenant's built-in selection and settings; absent arguments keep their value, null removes one.",
    args: {
      tenant: t.arg.id({ required: true }),
      builtins: t.arg({ type: [BuiltinInput] }),
      responseInspection: t.arg.boolean(),
      offloadBytes: t.arg.int(),
      expectedVersion: t.arg.int(),
      comment: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const builtins = args.builtins?.map((b): GuardBuiltinConfig => (b.action == null ? b.id : { id: b.id, action: b.action as Action }));
      const done = await onGuard(ctx, args, (g) => {
        applyPatch(g, { ...pick(args, ["responseInspection", "offloadBytes"]), builtins: args.builtins === null ? null : builtins });
      });
      return { guard: done.result, version: done.version.version };
    },
  }),
  upsertGuardPattern: t.field({
    type: GuardPayload,
    authScopes: writer,
    description: "Adds a custom pattern, or replaces the one with the same id.",
    args: { tenant: t.arg.id({ required: true }), input: t.arg({ type: PatternInput, required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const pattern = compact({ ...args.input }) as GuardPatternConfig;
      const done = await onGuard(ctx, args, (g, path) => {
        g.patterns ??= [];
        const index = g.patterns.findIndex((p) => p.id === pattern.id);
        if (index < 0) return addItem(g.patterns, `${path}.patterns`, (p) => p.id, pattern, "guard pattern");
        g.patterns[index] = pattern;
        return `${path}.patterns[${index}]`;
      });
      return { guard: done.result, version: done.version.version };
    },
  }),
  deleteGuardPattern: t.field({
    type: GuardPayload,
    authScopes: writer,
    args: { tenant: t.arg.id({ required: true }), id: t.arg.id({ required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await onGuard(ctx, args, (g, path) => {
        g.patterns ??= [];
        g.patterns.splice(findItem(g.patterns, `${path}.patterns`, (p) => p.id, String(args.id), "guard pattern").index, 1);
      });
      return { guard: done.result, version: done.version.version };
    },
  }),
}));
