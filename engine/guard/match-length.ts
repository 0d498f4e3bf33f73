/**
 * The most UTF-8 bytes any match of an RE2 pattern can span, read from its source.
 *
 * The scanner localises a long text's patterns window by window (locate.ts), which is exact
 * only for a pattern whose matches are never longer than the windows overlap. So the answer
 * must never be too small: every atom (a character, a class, an escape, `.`) counts as 4
 * bytes, the longest UTF-8 sequence, whatever it could actually match (case folding alone
 * turns `k` into the 3-byte Kelvin sign). `*`, `+` and `{n,}` make a pattern unbounded, and so
 * does anything this reader does not know: `undefined` means "assume any length". So does `\B`:
 * it is the one assertion a window's cut edge can make false where the whole text holds it.
 */

const ATOM = 4;

class Unknown extends Error {}

export function maxMatchBytes(source: string): number | undefined {
  try {
    const reader = new Reader(source);
    const n = reader.alternation();
    if (reader.i !== source.length) return undefined; // an unbalanced ")"
    return Number.isFinite(n) ? n : undefined;
  } catch (err) {
    if (err instanceof Unknown) return undefined;
    throw err;
  }
}

class Reader {
  i = 0;

  constructor(private readonly s: string) {}

  alternation(): number {
    let max = this.sequence();
    while (this.s[this.i] === "|") {
      this.i++;
      max = Math.max(max, this.sequence());
    }
    return max;
  }

  private sequence(): number {
    let total = 0;
    while (this.i < this.s.length && this.s[this.i] !== "|" && this.s[this.i] !== ")") total += this.quantified(this.atom());
    return total;
  }

  private quantified(atom: number): number {
    let n = atom;
    for (;;) {
      const c = this.s[this.i];
      if (c === "*" || c === "+") {
        this.i++;
        n = atom === 0 ? 0 : Infinity;
      } else if (c === "?") {
        this.i++;
      } else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i));
        if (m === null) return n; // a literal "{", read as the next atom
        this.i += m[0].length;
        const most = m[2] === undefined ? Number(m[1]) : m[3] === "" ? Infinity : Number(m[3]);
        n = atom === 0 ? 0 : atom * most;
      } else return n;
      // A lazy quantifier (`*?`, `{2,5}?`) matches no more than the greedy one.
      if (this.s[this.i] === "?") this.i++;
    }
  }

  private atom(): number {
    const c = this.s[this.i]!;
    switch (c) {
      case "(":
        return this.group();
      case "[":
        this.skipClass();
        return ATOM;
      case "\\":
        return this.escape();
      case "^":
      case "$":
        this.i++;
        return 0;
      case "*":
      case "+":
      case "?":
        throw new Unknown(); // a repetition of nothing: not RE2 syntax
      default:
        // One UTF-16 unit at a time: a surrogate pair counts twice, which only overestimates.
        this.i++;
        return ATOM;
    }
  }

  private group(): number {
    this.i++;
    if (this.s[this.i] === "?") {
      const flags = /^\?([a-zA-Z-]*)(\)|:)/.exec(this.s.slice(this.i));
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(this.s.slice(this.i));
      if (flags !== null) {
        this.i += flags[0].length;
        if (flags[2] === ")") return 0; // `(?i)`: sets flags, matches nothing
      } else if (named !== null) this.i += named[0].length;
      else throw new Unknown();
    }
    const inner = this.alternation();
    if (this.s[this.i] !== ")") throw new Unknown();
    this.i++;
    return inner;
  }

  private escape(): number {
    const c = this.s[this.i + 1];
    if (c === undefined) throw new Unknown();
    this.i += 2;
    switch (c) {
      case "B":
        throw new Unknown();
      case "b":
      case "A":
      case "z":
        return 0;
      case "Q": {
        // `\Q…\E`: literal text up to `\E` or the end.
        const end = this.s.indexOf("\\E", this.i);
        const text = end < 0 ? this.s.slice(this.i) : this.s.slice(this.i, end);
        this.i = end < 0 ? this.s.length : end + 2;
        return text.length * ATOM;
      }
      case "p":
      case "P":
      case "x":
        if (this.s[this.i] === "{") {
          const close = this.s.indexOf("}", this.i);
          if (close < 0) throw new Unknown();
          this.i = close + 1;
        } else this.i += c === "x" ? 2 : 1;
        return ATOM;
      default:
        // Octal `\123`: up to three digits, one character.
        for (let k = 0; k < 2 && /[0-7]/.test(c) && /[0-7]/.test(this.s[this.i] ?? ""); k++) this.i++;
        return ATOM;
    }
  }

  /** Steps over `[...]`: a leading `]` or `^]` is literal, `[:alpha:]` and escapes are inside. */
  private skipClass(): void {
    this.i++;
    if (this.s[this.i] === "^") this.i++;
    if (this.s[this.i] === "]") this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === "]") {
        this.i++;
        return;
      }
      if (c === "\\") {
        const next = this.s[this.i + 1];
        if ((next === "p" || next === "P" || next === "x") && this.s[this.i + 2] === "{") {
          const close = this.s.indexOf("}", this.i);
          if (close < 0) throw new Unknown();
          this.i = close + 1;
        } else this.i += 2;
        continue;
      }
      if (c === "[" && this.s[this.i + 1] === ":") {
        const close = this.s.indexOf(":]", this.i + 2);
        if (close < 0) throw new Unknown();
        this.i = close + 2;
        continue;
      }
      this.i++;
    }
    throw new Unknown();
  }
}
