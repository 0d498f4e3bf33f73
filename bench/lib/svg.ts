/**
 * A small SVG line-chart writer for the bench's plots: linear or logarithmic axes with round
 * tick values, one polyline per series (optionally with point markers, hollow where a point
 * is flagged), horizontal reference lines, and a legend. Self-contained output, no scripts or
 * external fonts, so the files render the same in a browser, an editor preview or on GitHub.
 */

export interface Axis {
  readonly label: string;
  readonly scale: "linear" | "log";
  /** Data range; derived from the series when absent. */
  readonly min?: number;
  readonly max?: number;
  /** Tick positions in data units, with their labels; derived when absent. */
  readonly ticks?: ReadonlyArray<readonly [number, string]>;
  /** Labels for derived ticks. */
  readonly format?: (value: number) => string;
}

export interface Series {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** Draw a marker at every point; `hollow[i]` draws point i hollow (e.g. a missed objective). */
  readonly markers?: boolean;
  readonly hollow?: readonly boolean[];
  readonly dashed?: boolean;
}

export interface Chart {
  readonly title: string;
  readonly subtitle?: string;
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly Series[];
  readonly referenceLines?: ReadonlyArray<{ readonly y: number; readonly label: string }>;
  readonly width?: number;
  readonly height?: number;
}

/** Distinct on white and for the common colour-vision deficiencies (Okabe–Ito). */
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];

const MARGIN = { left: 72, right: 24, top: 58, bottom: 56 };

export function lineChart(chart: Chart): string {
  const width = chart.width ?? 760;
  const height = chart.height ?? 440;
  const legendHeight = 18 * Math.ceil(chart.series.length / 3);
  const plot = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom - legendHeight };
  const all = chart.series.flatMap((s) => s.points);
  const refs = chart.referenceLines ?? [];
  const xr = range(chart.x, all.map((p) => p[0]));
  const yr = range(chart.y, [...all.map((p) => p[1]), ...refs.map((r) => r.y)]);
  const sx = scaler(chart.x.scale, xr, plot.x, plot.x + plot.w);
  const sy = scaler(chart.y.scale, yr, plot.y + plot.h, plot.y);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(text(MARGIN.left, 22, chart.title, { size: 15, weight: "bold" }));
  if (chart.subtitle !== undefined) out.push(text(MARGIN.left, 40, chart.subtitle, { size: 11, fill: "#555555" }));

  // Grid and ticks.
  for (const [value, label] of chart.x.ticks ?? deriveTicks(chart.x, xr)) {
    const x = sx(value);
    if (x < plot.x - 0.5 || x > plot.x + plot.w + 0.5) continue;
    out.push(line(x, plot.y, x, plot.y + plot.h, "#e5e5e5"));
    out.push(text(x, plot.y + plot.h + 16, label, { anchor: "middle" }));
  }
  for (const [value, label] of chart.y.ticks ?? deriveTicks(chart.y, yr)) {
    const y = sy(value);
    if (y < plot.y - 0.5 || y > plot.y + plot.h + 0.5) continue;
    out.push(line(plot.x, y, plot.x + plot.w, y, "#e5e5e5"));
    out.push(text(plot.x - 6, y + 4, label, { anchor: "end" }));
  }
  out.push(`<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#888888"/>`);
  out.push(text(plot.x + plot.w / 2, plot.y + plot.h + 36, chart.x.label, { anchor: "middle", size: 12 }));
  out.push(`<text transform="translate(16 ${plot.y + plot.h / 2}) rotate(-90)" text-anchor="middle">${escape(chart.y.label)}</text>`);

  for (const ref of refs) {
    const y = sy(ref.y);
    out.push(`<line x1="${plot.x}" y1="${f(y)}" x2="${plot.x + plot.w}" y2="${f(y)}" stroke="#B00020" stroke-dasharray="6 4"/>`);
    out.push(text(plot.x + plot.w - 4, y - 5, ref.label, { anchor: "end", fill: "#B00020", size: 11 }));
  }

  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter(([x, y]) => usable(chart.x.scale, x) && usable(chart.y.scale, y)).map(([x, y]) => [sx(x), sy(y)] as const);
    if (pts.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="5 3"' : ""} points="${pts.map(([x, y]) => `${f(x)},${f(y)}`).join(" ")}"/>`,
      );
    }
    if (s.markers === true) {
      s.points.forEach(([x, y], k) => {
        if (!usable(chart.x.scale, x) || !usable(chart.y.scale, y)) return;
        const fill = s.hollow?.[k] === true ? "#ffffff" : color;
        out.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="4" fill="${fill}" stroke="${color}" stroke-width="2"/>`);
      });
    }
    // Legend: three entries per row under the plot.
    const lx = plot.x + (i % 3) * (plot.w / 3);
    const ly = height - legendHeight - 8 + 18 * Math.floor(i / 3) + 12;
    out.push(`<line x1="${f(lx)}" y1="${ly - 4}" x2="${f(lx + 22)}" y2="${ly - 4}" stroke="${color}" stroke-width="3"${s.dashed === true ? ' stroke-dasharray="5 3"' : ""}/>`);
    out.push(text(lx + 28, ly, s.label));
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

const usable = (scale: Axis["scale"], v: number): boolean => Number.isFinite(v) && (scale === "linear" || v > 0);

function range(axis: Axis, values: readonly number[]): [number, number] {
  const finite = values.filter((v) => usable(axis.scale, v));
  let lo = axis.min ?? (finite.length === 0 ? 1 : Math.min(...finite));
  let hi = axis.max ?? (finite.length === 0 ? 10 : Math.max(...finite));
  if (axis.scale === "log") {
    // Whole decades, so the grid starts and ends on a labelled line.
    lo = axis.min ?? 10 ** Math.floor(Math.log10(lo));
    hi = axis.max ?? 10 ** Math.ceil(Math.log10(hi));
    if (hi <= lo) hi = lo * 10;
  } else {
    if (axis.min === undefined) lo = Math.min(0, lo);
    if (axis.max === undefined) hi = niceStep(hi / 5) * Math.ceil(hi / niceStep(hi / 5));
    if (hi <= lo) hi = lo + 1;
  }
  return [lo, hi];
}

function scaler(scale: Axis["scale"], [lo, hi]: [number, number], from: number, to: number): (v: number) => number {
  if (scale === "log") {
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    return (v) => from + ((Math.log10(v) - a) / (b - a)) * (to - from);
  }
  return (v) => from + ((v - lo) / (hi - lo)) * (to - from);
}

function deriveTicks(axis: Axis, [lo, hi]: [number, number]): Array<[number, string]> {
  const format = axis.format ?? ((v: number) => String(v));
  if (axis.scale === "log") {
    // Decades; over a short range also 2× and 5×, so the axis never has just two labels.
    const ticks: Array<[number, string]> = [];
    const steps = Math.log10(hi / lo) <= 3 ? [1, 2, 5] : [1];
    for (let e = Math.round(Math.log10(lo)); 10 ** e <= hi * 1.0001; e++) {
      for (const m of steps) if (m * 10 ** e <= hi * 1.0001) ticks.push([m * 10 ** e, format(m * 10 ** e)]);
    }
    return ticks;
  }
  const step = niceStep((hi - lo) / 6);
  const ticks: Array<[number, string]> = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step / 1000; v += step) ticks.push([v, format(v)]);
  return ticks;
}

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  if (!(rough > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * p >= rough) return m * p;
  return 10 * p;
}

const f = (n: number): string => (Math.round(n * 10) / 10).toString();

function line(x1: number, y1: number, x2: number, y2: number, stroke: string): string {
  return `<line x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" stroke="${stroke}"/>`;
}

interface TextStyle {
  readonly anchor?: "start" | "middle" | "end";
  readonly size?: number;
  readonly weight?: "bold";
  readonly fill?: string;
}

function text(x: number, y: number, content: string, style: TextStyle = {}): string {
  const attrs = [
    `x="${f(x)}"`,
    `y="${f(y)}"`,
    style.anchor === undefined || style.anchor === "start" ? "" : `text-anchor="${style.anchor}"`,
    style.size === undefined ? "" : `font-size="${style.size}"`,
    style.weight === undefined ? "" : `font-weight="${style.weight}"`,
    style.fill === undefined ? "" : `fill="${style.fill}"`,
  ].filter((a) => a !== "");
  return `<text ${attrs.join(" ")}>${escape(content)}</text>`;
}

const escape = (s: string): string => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
