/** Small statistics helpers for combining rounds. */

/** The median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export function minMax(values: readonly number[]): { min: number; max: number } {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? { min: NaN, max: NaN } : { min: Math.min(...finite), max: Math.max(...finite) };
}

/** Rounds to a given number of decimals, keeping NaN (serialised as null in JSON). */
export const round = (value: number, decimals = 0): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};
