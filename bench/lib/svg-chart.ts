/**
 * A small dependency-free SVG line chart for latency-over-time series (x = seconds since
 * start, y = latency ms), with axes, "nice" tick marks, grid lines, a title and a legend.
 * It only emits SVG text; `writeLineChart` saves it beside a bench's JSON result.
 *
 * Invariants: the output is a standalone SVG 1.1 document; all text is XML-escaped; empty
 * series and non-finite points are skipped rather than breaking the scale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Series {
  name: string;
  /** [x, y] points, drawn in the given order. */
  points: readonly (readonly [number, number])[];
  /** CSS color; a palette color by default. */
  color?: string;
}

export interface LineChartOptions {
  title: string;
  series: readonly Series[];
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Include 0 in the y range (default true: latencies). */
  yFromZero?: boolean;
  /** Draw a dot on every point (default: only when a series has <= 60 points). */
  markers?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A 1/2/5 x 10^k step giving about `target` intervals over [lo, hi]. */
function niceStep(lo: number, hi: number, target: number): number {
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/** [lo, hi] widened to whole steps, with the tick values (about `target` of them) from lo to hi. */
export function niceScale(lo: number, hi: number, target = 6): { lo: number; hi: number; ticks: number[] } {
  if (!(hi > lo)) return { lo, hi: lo + 1, ticks: [lo, lo + 1] };
  const step = niceStep(lo, hi, target);
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; start + i * step <= end + step * 1e-9; i++)
    ticks.push(Number((start + i * step).toPrecision(12)));
  return { lo: ticks[0]!, hi: ticks[ticks.length - 1]!, ticks };
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

/** Renders the chart as SVG text. */
export function lineChartSvg(options: LineChartOptions): string {
  const width = options.width ?? 900;
  const height = options.height ?? 480;
  const margin = { top: 44, right: 24, bottom: 56, left: 72 };
  const legendRowHeight = 18;
  const series = options.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length]!,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  margin.bottom += legendRowHeight * Math.ceil(series.length / 4);
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  // Loops, not Math.min(...xs): long series would overflow the argument stack.
  let xMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yLo = Number.POSITIVE_INFINITY;
  let yHi = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y < yLo) yLo = y;
      if (y > yHi) yHi = y;
    }
  }
  const empty = !Number.isFinite(xMin);
  if (empty) {
    xMin = 0;
    xMax = 1;
  }
  const yScale = niceScale(options.yFromZero === false && !empty ? yLo : Math.min(0, yLo), empty ? 1 : yHi);
  const xScale = niceScale(xMin, xMax, 8);
  const [yMin, yMax, yTicks] = [yScale.lo, yScale.hi, yScale.ticks];
  [xMin, xMax] = [xScale.lo, xScale.hi];
  const xTicks = xScale.ticks;

  const sx = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => margin.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const n = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(options.title)}</text>`,
  );
  // Grid and ticks.
  for (const t of yTicks) {
    const y = n(sy(t));
    out.push(
      `<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(fmt(t))}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = n(sx(t));
    out.push(
      `<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x}" y="${margin.top + plotH + 16}" text-anchor="middle">${esc(fmt(t))}</text>`,
    );
  }
  // Axes.
  out.push(
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="black"/>`,
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 36}" text-anchor="middle">${esc(options.xLabel ?? 'time (s)')}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel ?? 'latency (ms)')}</text>`,
  );
  // Series.
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n(sx(x))} ${n(sy(y))}`).join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="1.5" stroke-linejoin="round"/>`,
    );
    if (options.markers ?? s.points.length <= 60) {
      for (const [x, y] of s.points)
        out.push(`<circle cx="${n(sx(x))}" cy="${n(sy(y))}" r="2.5" fill="${esc(s.color)}"/>`);
    }
  }
  // Legend, up to four entries per row below the x-axis label.
  const legendTop = margin.top + plotH + 52;
  const colW = plotW / 4;
  series.forEach((s, i) => {
    const x = margin.left + (i % 4) * colW;
    const y = legendTop + Math.floor(i / 4) * legendRowHeight;
    out.push(
      `<line x1="${n(x)}" y1="${y}" x2="${n(x + 20)}" y2="${y}" stroke="${esc(s.color)}" stroke-width="3"/>`,
      `<text x="${n(x + 26)}" y="${y}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Writes the chart to `file` (creating its directory) and returns the path. */
export async function writeLineChart(file: string, options: LineChartOptions): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, lineChartSvg(options));
  return file;
}
