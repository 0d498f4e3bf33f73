/**
 * Credentials: a tenant's upstream secrets, declared in the config (never holding a secret)
 * and sealed in the vault. The secret is only ever shown masked (`ghp_•••8a4f`); rotating
 * stores a new version through the vault's own entry point (`Vault.put`), which a running
 * gateway switches to after draining the calls in flight on the old one.
 */
import { configDigest } from "../../engine/audit/admin-change.js";
import type { CredentialConfig, SentinelConfig } from "../../engine/config/types.js";
import { secretProblem } from "../../engine/vault/credential-material.js";
import { refLabel } from "../../engine/vault/key-provider.js";
import { mask } from "../../engine/vault/masking.js";
import { openRecord, type SecretRecord } from "../../engine/vault/secret-records.js";
import { latestVersions, readVaultFile } from "../../engine/vault/vault-file.js";
import { deleteTenantItem } from "../tenant-items.js";
import { builder } from "../builder.js";
import { mutateConfig } from "../config-mutation.js";
import type { AdminContext } from "../context.js";
import { addItem, applyPatch, compact, findItem, findTenant, listOf, pick } from "../document.js";
import { invalid, notFound, unavailable } from "../errors.js";
import { TenantRef, currentTenant } from "./tenants.js";

const CredentialType = builder.enumType("CredentialType", {
  values: {
    BEARER: { value: "bearer" },
    API_KEY: { value: "api-key" },
    BASIC: { value: "basic" },
    OAUTH_CLIENT_CREDENTIALS: { value: "oauth-client-credentials" },
    DATABASE_URL: { value: "database-url" },
    ENV: { value: "env" },
  } as const,
});

interface TenantCredential {
  readonly tenant: string;
  readonly credential: CredentialConfig;
}

interface SecretView {
  readonly record: SecretRecord;
  readonly masked: string;
}

const SecretVersion = builder.objectRef<SecretView>("SecretVersion").implement({
  description: "The active secret version of a credential, masked.",
  fields: (t) => ({
    version: t.int({ resolve: (s) => s.record.version }),
    createdAt: t.field({ type: "DateTime", resolve: (s) => s.record.createdAt }),
    source: t.string({ description: "cli, api, schedule or bootstrap-env.", resolve: (s) => s.record.source }),
    rootKey: t.string({ description: "The root key that wraps its data key.", resolve: (s) => refLabel(s.record.rootKey) }),
    masked: t.exposeString("masked", { description: "At most the first and last four characters." }),
  }),
});

function vaultOf(ctx: AdminContext) {
  const vault = ctx.services.vault;
  if (vault === undefined) throw unavailable("this admin has no vault: run it with the gateway (sentinel start) or with --data-dir of the gateways' vault");
  return vault;
}

async function secretOf(ctx: AdminContext, tenant: string, name: string): Promise<SecretView | null> {
  const vault = vaultOf(ctx);
  const record = latestVersions(readVaultFile(vault.filePath)).get(`${tenant}/${name}`);
  return record === undefined ? null : view(vault, record);
}

/** The versions the vault file keeps (the active one and the last few before it), newest first. */
async function versionsOf(ctx: AdminContext, tenant: string, name: string): Promise<SecretView[]> {
  const vault = vaultOf(ctx);
  const records = readVaultFile(vault.filePath).secrets.filter((r) => r.tenant === tenant && r.credential === name);
  return Promise.all(records.sort((a, b) => b.version - a.version).map((r) => view(vault, r)));
}

/** The mask is made from a decrypted copy that is zeroed at once; the secret itself is never returned. */
async function view(vault: ReturnType<typeof vaultOf>, record: SecretRecord): Promise<SecretView> {
  const plain = await openRecord(vault.ring(), record);
  try {
    return { record, masked: mask(plain.toString("utf8")) };
  } finally {
    plain.fill(0);
  }
}

export const CredentialRef = builder.objectRef<TenantCredential>("Credential").implement({
  fields: (t) => ({
    name: t.id({ resolve: (c) => c.credential.name }),
    type: t.field({ type: CredentialType, resolve: (c) => c.credential.type }),
    description: t.string({ nullable: true, resolve: (c) => c.credential.description ?? null }),
    connections: t.stringList({ resolve: (c) => c.credential.connections }),
    scopes: t.stringList({ resolve: (c) => c.credential.scopes ?? [] }),
    header: t.string({ nullable: true, resolve: (c) => c.credential.header ?? null }),
    template: t.string({ nullable: true, resolve: (c) => c.credential.template ?? null }),
    envVar: t.string({ nullable: true, resolve: (c) => c.credential.envVar ?? null }),
    username: t.string({ nullable: true, resolve: (c) => c.credential.username ?? null }),
    oauth: t.field({ type: "JSON", nullable: true, resolve: (c) => c.credential.oauth ?? null }),
    rotation: t.field({ type: "JSON", nullable: true, resolve: (c) => c.credential.rotation ?? null }),
    secret: t.field({
      type: SecretVersion,
      nullable: true,
      description: "The active version, masked; null before the first `vault put` or rotateCredential.",
      resolve: (c, _args, ctx) => secretOf(ctx, c.tenant, c.credential.name),
    }),
    versions: t.field({
      type: [SecretVersion],
      description: "The stored versions, newest first, masked: the rotation history the vault keeps (the active version and the ones before it).",
      resolve: (c, _args, ctx) => versionsOf(ctx, c.tenant, c.credential.name),
    }),
  }),
});

builder.objectField(TenantRef, "credentials", (t) =>
  t.field({ type: [CredentialRef], resolve: (tenant) => (tenant.credentials ?? []).map((credential) => ({ tenant: tenant.id, credential })) }),
);

const credentialFields = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) => ({
  description: t.string(),
  connections: t.stringList({ description: "The connections that may use it." }),
  scopes: t.stringList({ description: '`repos:read`, `charge:create(amount <= 50)`.' }),
  header: t.string(),
  template: t.string({ description: 'e.g. "token {secret}".' }),
  envVar: t.string(),
  username: t.string(),
  oauth: t.field({ type: "JSON", description: "{ tokenUrl, clientId, scope, audience, clientAuth, refreshBeforeSeconds }" }),
  rotation: t.field({ type: "JSON", description: "{ periodDays, command }" }),
  bootstrapEnv: t.string(),
});
const FIELDS = ["description", "connections", "scopes", "header", "template", "envVar", "username", "oauth", "rotation", "bootstrapEnv"];

const CredentialInput = builder.inputType("CredentialInput", {
  description: "A credential declaration. It never holds the secret: store that with rotateCredential or `sentinel vault put`.",
  fields: (t) => ({ name: t.string({ required: true }), type: t.field({ type: CredentialType, required: true }), ...credentialFields(t) }),
});
const CredentialPatch = builder.inputType("CredentialPatch", { fields: (t) => ({ type: t.field({ type: CredentialType }), ...credentialFields(t) }) });

const CredentialPayload = builder.objectRef<{ credential: TenantCredential; version: number }>("CredentialPayload").implement({
  fields: (t) => ({ credential: t.field({ type: CredentialRef, resolve: (p) => p.credential }), version: t.exposeInt("version") }),
});

const writer = (_root: unknown, args: { tenant: string | number }) => ({ tenantWriter: String(args.tenant) });

builder.mutationFields((t) => ({
  createCredential: t.field({
    type: CredentialPayload,
    authScopes: writer,
    args: { tenant: t.arg.id({ required: true }), input: t.arg({ type: CredentialInput, required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const credential = compact({ connections: [], ...args.input }) as unknown as CredentialConfig;
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "credentials");
        at(addItem(list.items, list.path, (c) => c.name, credential, "credential"));
      });
      return { credential: { tenant: String(args.tenant), credential }, version: done.version.version };
    },
  }),
  updateCredential: t.field({
    type: CredentialPayload,
    authScopes: writer,
    args: { tenant: t.arg.id({ required: true }), name: t.arg.id({ required: true }), patch: t.arg({ type: CredentialPatch, required: true }), expectedVersion: t.arg.int(), comment: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const done = await mutateConfig(ctx, args, (doc, at) => {
        const list = listOf(findTenant(doc, String(args.tenant)), "credentials");
        const found = findItem(list.items, list.path, (c) => c.name, String(args.name), "credential");
        at(found.path);
        return applyPatch(found.item, pick(args.patch, ["type", ...FIELDS]));
      });
      return { credential: { tenant: String(args.tenant), credential: done.result }, version: done.version.version };
    },
  }),
  deleteCredential: deleteTenantItem(t, "credentials", (c) => c.name, "credential", "Removes the declaration (connections must stop naming it first); sealed versions stay in the vault file. Returns the new config version."),
  rotateCredential: t.field({
    type: SecretVersion,
    authScopes: writer,
    description: "Seals `secret` as the credential's next version. Gateways switch to it once the calls in flight on the old version finish.",
    args: { tenant: t.arg.id({ required: true }), name: t.arg.id({ required: true }), secret: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const tenant = String(args.tenant);
      const config = (await currentTenant(ctx, tenant)).credentials?.find((c) => c.name === String(args.name));
      if (config === undefined) throw notFound(`credential "${args.name}"`);
      const vault = vaultOf(ctx);
      const problem = secretProblem(config.type, args.secret);
      if (problem !== undefined) throw invalid(`credential ${config.name}: ${problem}`, { field: "secret" });
      const record = await vault.put(tenant, config, args.secret, "api");
      const doc = (await ctx.document()) as unknown as SentinelConfig;
      const digest = configDigest(doc);
      ctx.services.audit?.recordAdminChange({ who: `api:${ctx.caller.id}`, what: [`~secret ${tenant}/${config.name} v${record.version}`], before: digest, after: digest }, tenant);
      return { record, masked: mask(args.secret) };
    },
  }),
}));
