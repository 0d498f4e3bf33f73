/**
 * A rule's conditions, compiled: all items must hold (AND); an `anyOf` item holds when any of
 * its conditions does. Each compiled condition keeps a description for explain traces and the
 * input kind it reads, so the snapshot knows what the pipeline must supply.
 */
import type { AnyOfConfig, ConditionConfig } from "../config/types.js";
import type { PolicyInput } from "./compile-policy.js";
import { compileField, type FieldValue, type InputKind } from "./fields.js";
import { compileOperator, type Operator } from "./operators.js";

export interface CompiledCondition {
  readonly text: string;
  readonly reads: InputKind | undefined;
  holds(input: PolicyInput, name: string): boolean;
  /** The value the condition saw, for explain traces. */
  observe(input: PolicyInput, name: string): FieldValue;
}

export interface CompiledConditions {
  readonly items: ReadonlyArray<{ readonly any: readonly CompiledCondition[] }>;
  readonly reads: ReadonlySet<InputKind>;
  holds(input: PolicyInput, name: string): boolean;
}

/** Where a condition failed to compile: its index in the list, and in an anyOf group if any. */
export class ConditionError extends Error {
  override readonly name = "ConditionError";
  constructor(
    readonly index: number,
    readonly groupIndex: number | undefined,
    readonly part: "field" | "value",
    message: string,
  ) {
    super(message);
  }
}

const NO_READS: ReadonlySet<InputKind> = new Set();
const ALWAYS = () => true;

export function compileConditions(items: ReadonlyArray<ConditionConfig | AnyOfConfig>): CompiledConditions {
  const compiled = items.map((item, index) => {
    const group = "anyOf" in item ? item.anyOf : [item];
    return { any: group.map((cond, g) => compileCondition(cond, index, "anyOf" in item ? g : undefined)) };
  });
  let reads: ReadonlySet<InputKind> = NO_READS;
  for (const item of compiled) {
    for (const c of item.any) {
      if (c.reads === undefined || reads.has(c.reads)) continue;
      reads = new Set([...reads, c.reads]);
    }
  }

  const holds =
    compiled.length === 0
      ? ALWAYS
      : (input: PolicyInput, name: string) => {
          for (const item of compiled) {
            let ok = false;
            for (const c of item.any) {
              if (c.holds(input, name)) {
                ok = true;
                break;
              }
            }
            if (!ok) return false;
          }
          return true;
        };
  return { items: compiled, reads, holds };
}

function compileCondition(cond: ConditionConfig, index: number, groupIndex: number | undefined): CompiledCondition {
  let field;
  try {
    field = compileField(cond.field);
  } catch (err) {
    throw new ConditionError(index, groupIndex, "field", (err as Error).message);
  }
  let test;
  try {
    test = compileOperator(cond.op as Operator, cond.value);
  } catch (err) {
    throw new ConditionError(index, groupIndex, "value", (err as Error).message);
  }
  const text = cond.op === "exists" ? `${cond.field} exists${cond.value === false ? " (false)" : ""}` : `${cond.field} ${cond.op} ${JSON.stringify(cond.value)}`;
  return {
    text,
    reads: field.reads,
    holds: (input, name) => test(field.read(input, name)),
    observe: (input, name) => field.read(input, name),
  };
}
