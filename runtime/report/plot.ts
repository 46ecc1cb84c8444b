// The loss curve of a run as an SVG (then a PNG through sharp): the training loss on a log scale against the
// global step, each curriculum stage's start as a vertical line labelled with its tasks, per-task losses when the
// log has them, and the learning rate in a small panel below (cosine restarts show up there).

import sharp from "sharp";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { writeFileAtomic } from "../data/image.js";
import type { LogEntry } from "./run.js";

type TrainEntry = Extract<LogEntry, { type: "train" }>;
/** A train entry whose loss can be drawn on a log axis. */
type Point = TrainEntry & { loss: number };

const positive = (v: number | null | undefined): v is number => typeof v === "number" && v > 0;

const W = 820;
const H = 540;
const LEFT = 72;
const RIGHT = 800;
const LOSS_TOP = 36;
const LOSS_BOTTOM = 350;
const LR_TOP = 380;
const LR_BOTTOM = 480;
/** One colour per task line (Tableau 10), in the spec's task order. */
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];

const num = (v: number) => (Math.round(v * 100) / 100).toString();

/** The training entries by step; a step logged twice (a resumed run) keeps its last entry. */
export function trainPoints(log: readonly LogEntry[]): TrainEntry[] {
  const byStep = new Map<number, TrainEntry>();
  for (const e of log) if (e.type === "train") byStep.set(e.step, e);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** 1, 2 or 5 times a power of ten, about `span / 6`. */
function niceStep(span: number): number {
  const raw = Math.max(span / 6, 1e-12);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** The largest 1, 2 or 5 times a power of ten at or below `v` (> 0). */
function niceBelow(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [5, 2, 1].map((m) => m * p).find((c) => c <= v * (1 + 1e-12)) ?? p;
}

/** The smallest 1, 2 or 5 times a power of ten at or above `v` (> 0). */
function niceAbove(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v * (1 - 1e-12)) ?? 10 * p;
}

/** 250000 → "250k", 1500000 → "1.5M". */
export function formatStep(v: number): string {
  if (v >= 1e6) return `${num(v / 1e6)}M`;
  if (v >= 1e3) return `${num(v / 1e3)}k`;
  return num(v);
}

/** Where each stage starts (global step) and its tasks, from the spec's curriculum. */
export function stageStarts(spec: ExperimentSpec): { step: number; stage: number; tasks: string[] }[] {
  let step = 0;
  return spec.curriculum.stages.map((s, i) => {
    const start = { step, stage: i + 1, tasks: s.tasks };
    step += s.iters;
    return start;
  });
}

/**
 * The loss-curve SVG of a run. Pure: the same log and spec give the same text.
 *
 * @example const svg = lossCurveSvg(run.log, run.spec);
 */
export function lossCurveSvg(log: readonly LogEntry[], spec: ExperimentSpec): string {
  const pts = trainPoints(log).filter((p): p is Point => positive(p.loss));
  const totalIters = spec.curriculum.stages.reduce((s, st) => s + st.iters, 0);
  const maxStep = Math.max(totalIters, ...pts.map((p) => p.step), 1);
  const x = (step: number) => LEFT + (step / maxStep) * (RIGHT - LEFT);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<g font-family="DejaVu Sans, sans-serif" font-size="11" fill="#222">`,
    `<text x="${LEFT}" y="22" font-size="14">${escapeXml(spec.name)}: training loss (log scale) and learning rate</text>`,
  );

  // Task lines first, so the total loss is drawn on top.
  const tasks = spec.tasks.map((t) => t.name);
  for (const p of pts) for (const t of Object.keys(p.task_loss ?? {})) if (!tasks.includes(t)) tasks.push(t);
  const values = pts.flatMap((p) => [p.loss, ...Object.values(p.task_loss ?? {})]).filter(positive);
  let [lo, hi] = values.length ? [niceBelow(Math.min(...values)), niceAbove(Math.max(...values))] : [0.01, 1];
  if (hi <= lo) hi = lo * 10;
  const y = (v: number) =>
    LOSS_BOTTOM - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (LOSS_BOTTOM - LOSS_TOP);

  // Axes, log-scale gridlines (decades, plus 2 and 5 when the range spans at most two decades).
  out.push(frame(LOSS_TOP, LOSS_BOTTOM), frame(LR_TOP, LR_BOTTOM));
  const decades = Math.log10(hi / lo);
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of decades <= 2 ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      if (v < lo * 0.999 || v > hi * 1.001) continue;
      out.push(hline(y(v), m === 1 ? "#ccc" : "#eee"));
      out.push(`<text x="${LEFT - 6}" y="${num(y(v) + 4)}" text-anchor="end">${formatLoss(v)}</text>`);
    }
  }
  const xStep = niceStep(maxStep);
  for (let s = 0; s <= maxStep + 1e-9; s += xStep) {
    out.push(`<line x1="${num(x(s))}" y1="${LR_BOTTOM}" x2="${num(x(s))}" y2="${LR_BOTTOM + 4}" stroke="#444"/>`);
    out.push(`<text x="${num(x(s))}" y="${LR_BOTTOM + 17}" text-anchor="middle">${formatStep(s)}</text>`);
  }
  out.push(`<text x="${(LEFT + RIGHT) / 2}" y="${LR_BOTTOM + 36}" text-anchor="middle">step</text>`);
  out.push(
    `<text transform="translate(16 ${(LOSS_TOP + LOSS_BOTTOM) / 2}) rotate(-90)" text-anchor="middle">loss</text>`,
    `<text transform="translate(16 ${(LR_TOP + LR_BOTTOM) / 2}) rotate(-90)" text-anchor="middle">lr</text>`,
  );

  // Stage starts: a dashed line through both panels, labelled with the stage's tasks.
  for (const st of stageStarts(spec)) {
    const sx = num(x(st.step));
    if (st.step > 0) {
      out.push(`<line x1="${sx}" y1="${LOSS_TOP}" x2="${sx}" y2="${LR_BOTTOM}" stroke="#999" stroke-dasharray="4 3"/>`);
    }
    const label = escapeXml(`stage ${st.stage}: ${st.tasks.join(" ")}`);
    out.push(
      `<text transform="translate(${num(x(st.step) + 12)} ${LOSS_TOP + 6}) rotate(90)" font-size="10" fill="#555" stroke="white" stroke-width="3" paint-order="stroke">${label}</text>`,
    );
  }

  if (pts.length === 0) {
    out.push(
      `<text x="${(LEFT + RIGHT) / 2}" y="${(LOSS_TOP + LOSS_BOTTOM) / 2}" text-anchor="middle">no training entries in log.jsonl</text>`,
    );
  }
  const legend: [string, string, number][] = [];
  tasks.forEach((t, i) => {
    const series = pts.filter((p) => (p.task_loss?.[t] ?? 0) > 0).map((p) => [p.step, p.task_loss?.[t] as number]);
    if (series.length === 0) return;
    const colour = PALETTE[i % PALETTE.length] as string;
    out.push(
      polyline(
        series.map(([s, v]) => [x(s as number), y(v as number)]),
        colour,
        1,
        0.8,
      ),
    );
    legend.push([t, colour, 1]);
  });
  if (pts.length) {
    out.push(
      polyline(
        pts.map((p) => [x(p.step), y(p.loss)]),
        "#111",
        1.8,
        1,
      ),
    );
    legend.unshift(["loss", "#111", 1.8]);
  }
  legend.forEach(([name, colour, width], i) => {
    const ly = LOSS_TOP + 12 + i * 14;
    out.push(
      `<line x1="${RIGHT - 80}" y1="${ly - 4}" x2="${RIGHT - 62}" y2="${ly - 4}" stroke="${colour}" stroke-width="${width}"/>`,
      `<text x="${RIGHT - 56}" y="${ly}">${escapeXml(name)}</text>`,
    );
  });

  // Learning rate, linear from 0.
  const lrMax = Math.max(0, ...pts.map((p) => p.lr ?? 0));
  if (lrMax > 0) {
    const ly = (v: number) => LR_BOTTOM - (v / (lrMax * 1.05)) * (LR_BOTTOM - LR_TOP);
    for (const v of [0, lrMax / 2, lrMax]) {
      out.push(hline(ly(v), "#eee"));
      out.push(
        `<text x="${LEFT - 6}" y="${num(ly(v) + 4)}" text-anchor="end">${v === 0 ? "0" : v.toExponential(1)}</text>`,
      );
    }
    out.push(
      polyline(
        pts.filter((p) => p.lr !== null).map((p) => [x(p.step), ly(p.lr ?? 0)]),
        "#e15759",
        1.4,
        1,
      ),
    );
  }
  out.push("</g>", "</svg>");
  return `${out.join("\n")}\n`;
}

function frame(top: number, bottom: number): string {
  return `<rect x="${LEFT}" y="${top}" width="${RIGHT - LEFT}" height="${bottom - top}" fill="none" stroke="#444"/>`;
}

function hline(y: number, colour: string): string {
  return `<line x1="${LEFT}" y1="${num(y)}" x2="${RIGHT}" y2="${num(y)}" stroke="${colour}"/>`;
}

function polyline(points: number[][], colour: string, width: number, opacity: number): string {
  const p = points.map(([a, b]) => `${num(a as number)},${num(b as number)}`).join(" ");
  return `<polyline points="${p}" fill="none" stroke="${colour}" stroke-width="${width}" stroke-opacity="${opacity}" stroke-linejoin="round"/>`;
}

/** 0.01 → "0.01", 2e-5 → "2e-5": short tick labels. */
function formatLoss(v: number): string {
  return v >= 1e-3 && v < 1e4 ? Number(v.toPrecision(3)).toString() : v.toExponential(0).replace("e+", "e");
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Renders the loss curve to a PNG file, atomically.
 *
 * @example await writeLossPlot("runs/x/loss.png", run.log, run.spec);
 */
export async function writeLossPlot(path: string, log: readonly LogEntry[], spec: ExperimentSpec): Promise<void> {
  const png = await sharp(Buffer.from(lossCurveSvg(log, spec)))
    .flatten({ background: "#ffffff" })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  await writeFileAtomic(path, png);
}
