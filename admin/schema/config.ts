/**
 * The config as versioned documents: the current version, the history, the whole document as
 * JSON or YAML (what `sentinel export` prints), replacing it (what `sentinel apply` does) and
 * rolling it back. Reading or writing the whole document is for unscoped owners and admins:
 * it spans every tenant and the deployment-wide settings.
 */
import { documentFromText, documentToYaml, type ConfigDocument } from "../../engine/config-store/config-document.js";
import type { StoredVersion } from "../../engine/config-store/config-versions.js";
import { SentinelConfigError } from "../../engine/errors.js";
import { builder } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import type { AdminCaller } from "../context.js";
import { fromConfigError, invalid, notFound } from "../errors.js";

/** Change entries a tenant-scoped caller may see: those about its own tenant. */
export function visibleChanges(changes: readonly string[], caller: AdminCaller): string[] {
  const tenant = caller.tenant;
  if (tenant === undefined) return [...changes];
  return changes.filter((c) => c.includes(` ${tenant}/`) || c.endsWith(` ${tenant}`) || c.includes(` ${tenant} `));
}

export const ConfigVersionRef = builder.objectRef<StoredVersion>("ConfigVersion").implement({
  description: "One version of the config document. Every change (apply, admin mutation, rollback) adds one.",
  fields: (t) => ({
    version: t.exposeInt("version"),
    digest: t.exposeString("digest", { description: "sha256 of the canonical document; admin-change audit records carry it as before/after." }),
    author: t.exposeString("author", { description: "`api:<admin token id>`, `cli:<os user>`, `demo` or `import`." }),
    comment: t.exposeString("comment", { nullable: true }),
    createdAt: t.field({ type: "DateTime", resolve: (v) => v.createdAt }),
    changes: t.stringList({
      description: "What changed against the previous version: `+rule acme/x`, `~connection acme/y`, `-apiKey acme/old`, `~server`.",
      resolve: (v, _args, ctx) => visibleChanges(v.changes, ctx.caller),
    }),
    document: t.field({
      type: "JSON",
      authScopes: { globalReader: true },
      description: "The whole document as written (variables not interpolated).",
      resolve: async (v, _args, ctx) => (await loadDocument(v, ctx.services.versions)) ?? {},
    }),
    yaml: t.string({
      authScopes: { globalReader: true },
      description: "The document as YAML: `sentinel export` prints exactly this.",
      resolve: async (v, _args, ctx) => documentToYaml((await loadDocument(v, ctx.services.versions)) ?? {}),
    }),
  }),
});

/** Versions listed without documents load theirs on demand. */
async function loadDocument(v: StoredVersion, versions: { get(n: number): Promise<StoredVersion | undefined> }): Promise<ConfigDocument | undefined> {
  if (Object.keys(v.document).length > 0) return v.document;
  return (await versions.get(v.version))?.document;
}

builder.queryFields((t) => ({
  config: t.field({
    type: ConfigVersionRef,
    nullable: true,
    description: "The current config version; null before the first apply.",
    resolve: (_root, _args, ctx) => ctx.services.versions.current(),
  }),
  configVersions: t.field({
    type: [ConfigVersionRef],
    description: "Config versions, newest first; pass the last one's version as `before` for the next page.",
    args: { before: t.arg.int(), limit: t.arg.int({ defaultValue: 50 }) },
    resolve: (_root, args, ctx) => ctx.services.versions.list({ before: args.before ?? undefined, limit: args.limit ?? 50 }),
  }),
  configVersion: t.field({
    type: ConfigVersionRef,
    args: { version: t.arg.int({ required: true }) },
    resolve: async (_root, args, ctx) => (await ctx.services.versions.get(args.version)) ?? Promise.reject(notFound(`config version ${args.version}`)),
  }),
}));

const ReplaceInput = {
  expectedVersion: "The version the document was based on; a different current version is SENTINEL_ADMIN_CONFLICT.",
  comment: "Kept with the version.",
};

builder.mutationFields((t) => ({
  applyConfig: t.field({
    type: ConfigVersionRef,
    authScopes: { globalWriter: true },
    description: "Replaces the whole document, as `sentinel apply -f` does. Give `yaml` or `document`.",
    args: {
      yaml: t.arg.string(),
      document: t.arg({ type: "JSON" }),
      expectedVersion: t.arg.int({ description: ReplaceInput.expectedVersion }),
      comment: t.arg.string({ description: ReplaceInput.comment }),
    },
    resolve: async (_root, args, ctx) => {
      let next: ConfigDocument;
      if ((args.yaml == null) === (args.document == null)) throw invalid("give exactly one of yaml and document");
      if (args.yaml != null) {
        try {
          next = documentFromText(args.yaml, "yaml");
        } catch (err) {
          if (err instanceof SentinelConfigError) throw fromConfigError(err, undefined);
          throw err;
        }
      } else {
        if (args.document === null || typeof args.document !== "object" || Array.isArray(args.document)) throw invalid("document must be a JSON object", { path: "" });
        next = JSON.parse(JSON.stringify(args.document)) as ConfigDocument;
      }
      const done = await mutateConfig(ctx, args, (doc) => replaceDocument(doc, next));
      return done.version;
    },
  }),
  rollbackConfig: t.field({
    type: ConfigVersionRef,
    authScopes: { globalWriter: true },
    description: "Makes an earlier version's document current again, as a new version.",
    args: { version: t.arg.int({ required: true }), expectedVersion: t.arg.int({ description: ReplaceInput.expectedVersion }), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const target = await ctx.services.versions.get(args.version);
      if (target === undefined) throw notFound(`config version ${args.version}`);
      const done = await mutateConfig(ctx, { ...args, comment: args.comment ?? `rollback to version ${args.version}` }, (doc) => replaceDocument(doc, target.document));
      return done.version;
    },
  }),
}));

function replaceDocument(doc: ConfigDocument, next: ConfigDocument): void {
  for (const key of Object.keys(doc)) delete doc[key];
  Object.assign(doc, structuredClone(next));
}
