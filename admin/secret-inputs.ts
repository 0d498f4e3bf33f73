/**
 * Keeps a secret sent to the admin API (`rotateCredential(secret: …)`) out of its error
 * responses. graphql-js quotes the input it rejects: a syntax error names the token it stopped
 * at, a validation error prints the literal it refused, a variable coercion error prints the
 * variable's value. So for a request whose document has a `secret` argument, every form of the
 * value given to it is masked in the error messages before the response is written; a document
 * that mentions `secret` but does not parse is answered with the error's position only.
 */
import { GraphQLError, Kind, parse, print, visit, type ValueNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import { Scrubber } from "../engine/vault/masking.js";

type Guard = Scrubber | "unparsed";

export function secretInputsPlugin(): Plugin {
  const guards = new WeakMap<Request, Guard>();
  return {
    onParams({ params, request }) {
      const query = params.query;
      // Cheap test first: almost no admin request mentions a secret.
      if (typeof query !== "string" || !query.includes("secret")) return;
      guards.set(request, secretValues(query, params.variables ?? {}));
    },
    onResultProcess({ request, result, setResult }) {
      const guard = guards.get(request);
      if (guard === undefined || !hasErrors(result)) return;
      setResult({ ...result, errors: result.errors.map((e) => masked(e, guard)) });
    },
  };
}

/** Every form the values given to `secret` arguments may take in an error message. */
function secretValues(query: string, variables: Record<string, unknown>): Guard {
  let document;
  try {
    document = parse(query);
  } catch {
    return "unparsed";
  }
  const values: string[] = [];
  visit(document, {
    Argument(node) {
      if (node.name.value !== "secret") return;
      if (node.value.kind === Kind.VARIABLE) leaves(variables[node.value.name.value], values);
      else literalLeaves(node.value, values);
    },
  });
  // graphql-js prints strings JSON-escaped: the escaped form is a form of the secret too.
  return new Scrubber(values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]));
}

function leaves(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) leaves(v, out);
  else if (value !== null && typeof value === "object") for (const v of Object.values(value)) leaves(v, out);
}

function literalLeaves(node: ValueNode, out: string[]): void {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.ENUM:
    case Kind.INT:
    case Kind.FLOAT:
      out.push(node.value);
      return;
    case Kind.LIST:
      for (const v of node.values) literalLeaves(v, out);
      return;
    case Kind.OBJECT:
      for (const f of node.fields) literalLeaves(f.value, out);
      return;
    default:
      out.push(print(node));
  }
}

function masked(error: GraphQLError, guard: Guard): GraphQLError {
  if (guard === "unparsed") {
    const at = error.locations?.[0];
    const where = at === undefined ? "" : ` at line ${at.line}, column ${at.column}`;
    return new GraphQLError(`Syntax Error: the document does not parse${where}`, { source: error.source, positions: error.positions, extensions: error.extensions });
  }
  const message = guard.text(error.message);
  if (message === error.message) return error;
  return new GraphQLError(message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions: error.extensions });
}

interface WithErrors {
  readonly errors: readonly GraphQLError[];
}

function hasErrors(result: unknown): result is WithErrors & Record<string, unknown> {
  return result !== null && typeof result === "object" && !Array.isArray(result) && Array.isArray((result as { errors?: unknown }).errors);
}
