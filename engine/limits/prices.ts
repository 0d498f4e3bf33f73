/**
 * What a call costs in dollars: LLM calls from a price table per model (dollars per million
 * input and output tokens), tool calls from a fixed per-call price and/or an argument read as
 * an amount (`stripe.charge` → `args.amount`, with `scale: 0.01` for amounts in cents). The first
 * entry whose glob matches the canonical name wins.
 */
import type { PricesConfig } from "../config/types.js";
import { canonicalName } from "../policy/canonical.js";
import { compileField, type FieldReader } from "../policy/fields.js";
import type { PolicyInput } from "../policy/compile-policy.js";
import { compileGlob, type GlobMatcher } from "../policy/glob.js";
import { at } from "./config-error.js";

/** Costs are counted in integer micro-dollars, so sums in the windows are exact. */
export const MICROS_PER_DOLLAR = 1_000_000;

interface ModelPrice {
  readonly glob: GlobMatcher;
  readonly input: number;
  readonly output: number;
}

interface ToolPrice {
  readonly glob: GlobMatcher;
  readonly perCall: number;
  readonly argument: FieldReader | undefined;
  readonly argumentName: string | undefined;
  readonly scale: number;
}

/** A tool cost that cannot be read: the argument is there but is not a non-negative amount. */
export interface CostProblem {
  readonly problem: string;
}

export class PriceTable {
  private readonly models: readonly ModelPrice[];
  private readonly tools: readonly ToolPrice[];

  constructor(config: PricesConfig) {
    this.models = (config.models ?? []).map((m, i) => ({
      glob: at(`prices.models[${i}].pattern`, () => compileGlob(m.pattern)),
      input: m.inputPerMillion,
      output: m.outputPerMillion,
    }));
    this.tools = (config.tools ?? []).map((t, i) => ({
      glob: at(`prices.tools[${i}].pattern`, () => compileGlob(t.pattern)),
      perCall: t.perCall ?? 0,
      argument: t.argument === undefined ? undefined : at(`prices.tools[${i}].argument`, () => compileField(`args.${t.argument}`)),
      argumentName: t.argument,
      scale: t.scale ?? 1,
    }));
  }

  get empty(): boolean {
    return this.models.length === 0 && this.tools.length === 0;
  }

  /** Micro-dollars for an LLM call's tokens; 0 for a model without a price. */
  modelCost(model: string, tokensIn: number, tokensOut: number): number {
    const name = canonicalName(model);
    const price = this.models.find((m) => m.glob.match(name));
    if (price === undefined) return 0;
    // Prices are per million tokens and costs are in micro-dollars: the factors cancel.
    return Math.round(tokensIn * price.input + tokensOut * price.output);
  }

  /** Micro-dollars for a tool call, read from its arguments. */
  toolCost(tool: string, args: Readonly<Record<string, unknown>> | undefined): number | CostProblem {
    const name = canonicalName(tool);
    const price = this.tools.find((t) => t.glob.match(name));
    if (price === undefined) return 0;
    let dollars = price.perCall;
    if (price.argument !== undefined) {
      const raw = price.argument.read({ args } as PolicyInput, name);
      if (raw !== undefined && raw !== null) {
        const amount = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
        if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) {
          return { problem: `argument "${price.argumentName}" must be a non-negative number to price the call` };
        }
        dollars += amount * price.scale;
      }
    }
    return Math.round(dollars * MICROS_PER_DOLLAR);
  }
}
