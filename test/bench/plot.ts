// The benchmark's picture: time-to-Ready distribution and operator RSS over time, drawn as SVG
// and rendered to PNG with resvg.
import { Resvg } from '@resvg/resvg-js';

export interface PlotInput {
  title: string;
  readyMs: number[];
  rss: { tSeconds: number; mb: number }[];
  /** What the latencies run to (default Ready), and whose RSS it is (default operator). */
  doneLabel?: string;
  processLabel?: string;
}

const W = 1000;
const H = 420;
const PAD = { left: 70, right: 20, top: 50, bottom: 50 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
}

function axes(x0: number, w: number, xLabel: string, yLabel: string, xMax: number, yMax: number): string {
  const y0 = H - PAD.bottom;
  const h = H - PAD.top - PAD.bottom;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(2));
  return [
    `<line x1="${x0}" y1="${y0}" x2="${x0 + w}" y2="${y0}" stroke="#333"/>`,
    `<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${PAD.top}" stroke="#333"/>`,
    ...ticks.map((t) => `<text x="${x0 + t * w}" y="${y0 + 18}" font-size="12" text-anchor="middle">${fmt(t * xMax)}</text>`),
    ...ticks.map((t) => `<text x="${x0 - 6}" y="${y0 - t * h + 4}" font-size="12" text-anchor="end">${fmt(t * yMax)}</text>`),
    `<text x="${x0 + w / 2}" y="${H - 12}" font-size="13" text-anchor="middle">${xLabel}</text>`,
    `<text x="${x0 - 50}" y="${PAD.top + h / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 ${x0 - 50} ${PAD.top + h / 2})">${yLabel}</text>`,
  ].join('\n');
}

export function plotSvg(input: PlotInput): string {
  const panelW = (W - 2 * PAD.left - 2 * PAD.right) / 2;
  const h = H - PAD.top - PAD.bottom;
  const y0 = H - PAD.bottom;

  const bins = 30;
  const maxReady = niceMax(Math.max(1, ...input.readyMs));
  const counts = new Array<number>(bins).fill(0);
  for (const v of input.readyMs) {
    const bin = Math.min(bins - 1, Math.floor((v / maxReady) * bins));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  const maxCount = niceMax(Math.max(1, ...counts));
  const x1 = PAD.left;
  const bars = counts
    .map((c, i) => {
      const bh = (c / maxCount) * h;
      return `<rect x="${x1 + (i * panelW) / bins + 1}" y="${y0 - bh}" width="${panelW / bins - 2}" height="${bh}" fill="#4a7bd0"/>`;
    })
    .join('\n');

  const x2 = PAD.left * 2 + PAD.right + panelW;
  const tMax = niceMax(Math.max(1, ...input.rss.map((p) => p.tSeconds)));
  const mbMax = niceMax(Math.max(1, ...input.rss.map((p) => p.mb)));
  const line = input.rss.map((p) => `${x2 + (p.tSeconds / tMax) * panelW},${y0 - (p.mb / mbMax) * h}`).join(' ');

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="24" font-size="16" text-anchor="middle">${input.title}</text>
${axes(x1, panelW, `time from create to ${input.doneLabel ?? 'Ready'} (ms)`, 'objects', maxReady, maxCount)}
${bars}
${axes(x2, panelW, 'time since start (s)', `${input.processLabel ?? 'operator'} RSS (MB)`, tMax, mbMax)}
<polyline points="${line}" fill="none" stroke="#d04a4a" stroke-width="2"/>
</svg>`;
}

export function plotPng(input: PlotInput): Buffer {
  return new Resvg(plotSvg(input), { font: { loadSystemFonts: true } }).render().asPng();
}
