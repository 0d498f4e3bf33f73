/**
 * Selection sets built from the admin API's own introspection: every field a type has (down to
 * a depth), so a test that must read "everything" keeps reading everything as fields are added.
 * Fields that need arguments without defaults are left out.
 */
import { gqlData } from "./admin-harness.js";

interface TypeRef {
  readonly kind: string;
  readonly name: string | null;
  readonly ofType: TypeRef | null;
}

interface IntrospectedField {
  readonly name: string;
  readonly args: ReadonlyArray<{ readonly type: TypeRef; readonly defaultValue: string | null }>;
  readonly type: TypeRef;
}

export type SchemaTypes = ReadonlyMap<string, readonly IntrospectedField[]>;

const TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

export async function introspect(url: string, token: string): Promise<SchemaTypes> {
  const data = await gqlData<{ __schema: { types: Array<{ name: string; kind: string; fields: IntrospectedField[] | null }> } }>(
    url,
    token,
    `{ __schema { types { name kind fields { name args { defaultValue type { ${TYPE_REF} } } type { ${TYPE_REF} } } } } }`,
  );
  return new Map(data.__schema.types.filter((t) => t.kind === "OBJECT" && t.fields !== null && !t.name.startsWith("__")).map((t) => [t.name, t.fields!]));
}

const named = (t: TypeRef): TypeRef => (t.ofType === null ? t : named(t.ofType));

/** `a b c { d e }`: every scalar field of `type`, and object fields down to `depth` levels. */
export function selectAll(types: SchemaTypes, type: string, depth: number): string {
  const fields = types.get(type);
  if (fields === undefined) throw new Error(`no object type ${type}`);
  const parts: string[] = [];
  for (const f of fields) {
    if (f.args.some((a) => a.type.kind === "NON_NULL" && a.defaultValue === null)) continue;
    const t = named(f.type);
    if (t.kind === "SCALAR" || t.kind === "ENUM") parts.push(f.name);
    else if (t.kind === "OBJECT" && depth > 0) {
      const inner = selectAll(types, t.name!, depth - 1);
      if (inner !== "") parts.push(`${f.name} { ${inner} }`);
    }
  }
  return parts.join(" ");
}

/** The selection for a root field's type (`Query.tenants` → Tenant's fields). */
export function selectField(types: SchemaTypes, root: "Query" | "Mutation" | "Subscription", field: string, depth: number): string {
  const f = types.get(root)?.find((x) => x.name === field);
  if (f === undefined) throw new Error(`no field ${root}.${field}`);
  const t = named(f.type);
  return t.kind === "OBJECT" ? selectAll(types, t.name!, depth) : "";
}
