/**
 * Response inspection on the LLM path (`guard.responseInspection`): the model's output is
 * scanned with the tenant's Content Guard patterns and actions, like an MCP result
 * (engine/gateway/result-guard.ts). A deny pattern withholds the whole answer; redact patterns
 * become placeholders in the answer the client gets. Findings name paths under `answer`, never
 * the matched text.
 */
import type { Safeguards } from "../config/compile-safeguards.js";
import { refuse, type Refusal } from "../errors.js";
import { describeFindings, toFindings, type Finding } from "../guard/findings.js";
import { placeholder, redactLeaves } from "../guard/redact.js";
import type { LeafMatches, ScanPattern, TextMatch } from "../guard/scan.js";
import { deltasOf, scanAnswer, type Delta } from "./llm-answer.js";
import type { EndpointName } from "./llm-routes.js";
import type { HeldEvent } from "./llm-stream.js";

export interface AnswerVerdict {
  readonly findings: readonly Finding[];
  /** Held events whose data was rewritten (stream mode). */
  readonly changed: ReadonlySet<number>;
}

/** The response-inspecting guard of a tenant, if it has one. */
export const answerGuard = (sg: Safeguards | undefined) => (sg?.guard?.responseInspection === true ? sg.guard : undefined);

/** Inspects a whole (non-streamed) answer, redacting it in place. */
export function guardAnswer(sg: Safeguards, endpoint: EndpointName, answer: Record<string, unknown>): AnswerVerdict | Refusal {
  const guard = answerGuard(sg)!;
  const leaves = scanAnswer(guard.scanner, endpoint, answer);
  return settle(leaves, guard.spec.patterns, (include, label) => void redactLeaves(answer, leaves, include, label), new Set());
}

/**
 * Inspects a held stream. Deltas are joined per text before scanning, so a value split across
 * events is found; a placeholder is put in the event where its value started and the rest of
 * the value is removed from the events that carried it. Events without deltas (the Responses
 * API's `done` events, which repeat the whole text) are scanned as they are.
 */
export function guardHeld(sg: Safeguards, endpoint: EndpointName, events: readonly HeldEvent[]): AnswerVerdict | Refusal {
  const guard = answerGuard(sg)!;
  const patterns = guard.spec.patterns;
  const texts = new Map<string, Array<{ delta: Delta; event: number }>>();
  const whole: Array<{ event: number; leaves: LeafMatches[] }> = [];
  events.forEach((held, i) => {
    if (held.data === undefined) return;
    const deltas = deltasOf(endpoint, held.data);
    if (deltas.length === 0) {
      const leaves = guard.scanner.scanValue(held.data, false);
      if (leaves.length > 0) whole.push({ event: i, leaves });
      return;
    }
    for (const delta of deltas) {
      let pieces = texts.get(delta.key);
      if (pieces === undefined) texts.set(delta.key, (pieces = []));
      pieces.push({ delta, event: i });
    }
  });
  const joined: Array<{ pieces: Array<{ delta: Delta; event: number }>; matches: readonly TextMatch[] }> = [];
  const leaves: LeafMatches[] = [];
  for (const [key, pieces] of texts) {
    const matches = guard.scanner.scanText(pieces.map((p) => p.delta.holder[p.delta.field] as string).join(""));
    if (matches.length === 0) continue;
    joined.push({ pieces, matches });
    leaves.push({ path: ["stream", key], matches });
  }
  for (const w of whole) leaves.push(...w.leaves.map((l) => ({ path: ["event", w.event, ...l.path], matches: l.matches })));
  const changed = new Set<number>();
  return settle(leaves, patterns, (include, label) => {
    for (const { pieces, matches } of joined) {
      const selected = matches.filter((m) => include(m.pattern));
      if (selected.length === 0) continue;
      const rewritten = redactPieces(pieces.map((p) => p.delta.holder[p.delta.field] as string), selected, label);
      pieces.forEach((p, k) => {
        if (p.delta.holder[p.delta.field] === rewritten[k]) return;
        p.delta.holder[p.delta.field] = rewritten[k];
        changed.add(p.event);
      });
    }
    for (const w of whole) if (redactLeaves(events[w.event]!.data, w.leaves, include, label)[1] > 0) changed.add(w.event);
  }, changed);
}

function settle(
  leaves: readonly LeafMatches[],
  patterns: readonly ScanPattern[],
  redact: (include: (p: number) => boolean, label: (p: number) => string) => void,
  changed: ReadonlySet<number>,
): AnswerVerdict | Refusal {
  const findings = toFindings("answer", leaves, patterns);
  const blocked = findings.filter((f) => f.action === "deny");
  if (blocked.length > 0) return refuse("SENTINEL_CONTENT_BLOCKED", `Content Guard withheld the answer: ${describeFindings(blocked)} (action deny)`);
  if (findings.some((f) => f.action === "redact")) redact((p) => patterns[p]!.action === "redact", (p) => patterns[p]!.label);
  return { findings, changed };
}

/**
 * Redacts matches (offsets into the pieces joined) piece by piece: each placeholder goes where
 * its span starts, and the span's characters are removed from every piece they fall in.
 */
export function redactPieces(pieces: readonly string[], matches: readonly TextMatch[], labelOf: (pattern: number) => string): string[] {
  // Overlapping matches merge into one span named after the first, as redactText does.
  const spans: Array<{ start: number; end: number; label: string }> = [];
  for (const m of matches) {
    const last = spans[spans.length - 1];
    if (last !== undefined && m.start < last.end) last.end = Math.max(last.end, m.end);
    else spans.push({ start: m.start, end: m.end, label: labelOf(m.pattern) });
  }
  const out: string[] = [];
  let offset = 0;
  let s = 0;
  for (const piece of pieces) {
    const from = offset;
    const to = offset + piece.length;
    let text = "";
    let at = from;
    while (at < to) {
      while (s < spans.length && spans[s]!.end <= at) s++;
      const span = spans[s];
      if (span === undefined || span.start >= to) {
        text += piece.slice(at - from);
        break;
      }
      if (span.start > at) {
        text += piece.slice(at - from, span.start - from);
        at = span.start;
        continue;
      }
      if (span.start === at) text += placeholder(span.label);
      at = Math.min(span.end, to);
    }
    out.push(text);
    offset = to;
  }
  return out;
}
