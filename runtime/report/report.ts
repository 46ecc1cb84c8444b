// A run's report: report.md and report.html (plus loss.png) in the run folder, built from spec.json, log.jsonl and
// metrics.json. Both files come from one list of blocks, so they always say the same thing. docs/reports.md shows
// what a report contains and why.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { type ExperimentSpec, extractorParams, isClassifier } from "../../compiler/schema/experiment.js";
import { writeFileAtomic } from "../data/image.js";
import { UNKNOWN_NEEDS_CLASSIFIER } from "../eval/classifier.js";
import {
  PAPER_OUTDIS_AVG,
  PAPER_SCALE,
  PAPER_TABLE3,
  PAPER_TASKS,
  PAPER_UNKNOWN,
  PAPER_UNKNOWN_SETS,
  paperVariant,
} from "./paper.js";
import { writeLossPlot } from "./plot.js";
import { loadRun, type RunData } from "./run.js";
import {
  accuracyTable,
  columnsOf,
  confusionTables,
  escapeHtml,
  htmlTable,
  markdownTable,
  scoreTable,
  type Table,
  UNKNOWN,
  unknownColumnsOf,
  unknownTable,
} from "./tables.js";

const CLASSIFIER_NOTE =
  "Each test image's LQ is classified whole (or its central crop, with eval center_crop), as at test time in the " +
  "paper. The classifier is trained with CrossEntropy on its softmax output (the reference's double softmax, " +
  "docs/training.md) unless the loss says double_softmax: false; the paper reports no accuracy to compare with.";

/** The loss plot's caption, naming the experiment's loss. */
function lossCaption(spec: ExperimentSpec): string {
  const l = spec.train.loss;
  const name =
    l.name === "cross_entropy"
      ? `Cross-entropy${l.double_softmax === false ? "" : " (on the softmax output: floor log(e+K-1)-1)"}`
      : { l1: "L1", mse: "MSE", charbonnier: "Charbonnier" }[l.name];
  return `${name} loss (log scale) by global step; dashed lines start curriculum stages; learning rate below.`;
}

/** Training images the loader could not read, each once (a resumed run may log a file again): file → reason. */
export function skippedFiles(run: RunData): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of run.log) {
    if (e.type !== "skipped") continue;
    e.files.forEach((f, i) => {
      if (!out.has(f)) out.set(f, e.reasons[i] ?? "");
    });
  }
  return out;
}

/** "2 files skipped" and which, when training left unreadable images out; nothing otherwise. */
function skippedBlocks(run: RunData): Block[] {
  const skipped = skippedFiles(run);
  if (skipped.size === 0) return [];
  const n = skipped.size;
  return [
    {
      kind: "para",
      text:
        `${n} file${n === 1 ? "" : "s"} skipped: ${n === 1 ? "this training image" : "these training images"} ` +
        "could not be read, and training drew other images in their place.",
    },
    { kind: "list", items: [...skipped].map(([f, why]) => (why.includes(f) ? why : `${f}: ${why}`)) },
  ];
}

/** A piece of a report, rendered to Markdown and to HTML. Text is plain (no markup) in every block. */
export type Block =
  | { kind: "heading"; level: 1 | 2 | 3; text: string }
  | { kind: "para"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "table"; table: Table }
  | { kind: "image"; src: string; alt: string; caption?: string };

export interface ReportFiles {
  markdown: string;
  html: string;
  lossPlot: string;
  /** The PSNR table as Markdown (what `mioc report` prints). */
  psnrTable: string;
}

/** `SRResNet(feat: 16, blocks: 4, outer_init: "pytorch")`. */
function call(name: string, args: Record<string, unknown>): string {
  const a = Object.entries(args).map(([k, v]) => `${k}: ${typeof v === "string" ? JSON.stringify(v) : String(v)}`);
  return `${name}(${a.join(", ")})`;
}

const count = (n: number) => n.toLocaleString("en-US");

/** 812 → "13 min 32 s"; 7260 → "2 h 01 min". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** Trainable parameters: the backbone, the prompt extractor and the per-site modulation layers. */
export function totalParams(spec: ExperimentSpec): number {
  return spec.model.params + extractorParams(spec.prompt) + spec.prompt.modulationParams;
}

function metricText(spec: ExperimentSpec, name: "psnr" | "ssim"): string {
  const m = spec.eval.metrics.find((x) => x.name === name);
  const crop = m?.crop ?? 4;
  const channel = m?.y_channel ? "on the Y channel (BT.601, 16..235)" : "over R, G and B";
  return name === "psnr"
    ? `PSNR in dB on 8-bit images ${channel}, after a ${crop}-pixel border crop (BasicSR calculate_psnr, as the paper), averaged over each set's images.`
    : `SSIM ${channel} after a ${crop}-pixel border crop (BasicSR calculate_ssim: 11×11 Gaussian window, σ 1.5), averaged over each set's images.`;
}

function recipe(run: RunData): string[] {
  const { spec, metrics } = run;
  const items: string[] = [];
  items.push(`Backbone: ${call(spec.model.name, spec.model.args)}, ${count(spec.model.params)} parameters`);
  const p = spec.prompt;
  if (p.kind === "none") items.push("Prompt: none");
  else if (p.extractors) {
    const exts = p.extractors.map(
      (e) => `${e.label}: ${call(e.name, e.args)} (${count(e.params)} parameters, ${e.dim}-d) → ${e.sites.join(", ")}`,
    );
    items.push(
      `Prompt: ${p.kind} (${p.kind === "explicit" ? "EP" : "AP"}), ${exts.length} extractors (${exts.join("; ")}) ` +
        `modulating ${p.sites.length} sites (${count(p.modulationParams)} parameters)`,
    );
  } else {
    const ext = p.extractor
      ? `${call(p.extractor.name, p.extractor.args)} (${count(p.extractor.params)} parameters)`
      : "";
    items.push(
      `Prompt: ${p.kind} (${p.kind === "explicit" ? "EP" : "AP"}), extractor ${ext}, ${p.dim ?? "?"}-d vector ` +
        `modulating ${p.sites.length} sites (${count(p.modulationParams)} parameters)`,
    );
  }
  items.push(`Parameters in all: ${count(totalParams(spec))}`);
  const stages = spec.curriculum.stages;
  const iters = stages.reduce((s, st) => s + st.iters, 0);
  items.push(
    `Curriculum: ${spec.curriculum.kind}, order ${spec.curriculum.order.join(" → ")}; ${stages.length} stage` +
      `${stages.length === 1 ? "" : "s"}: ${stages.map((s) => `${s.tasks.join("+")} ${count(s.iters)}${s.restarts > 1 ? ` (${s.restarts} restarts)` : ""}`).join("; ")}`,
  );
  items.push(
    `Iterations: ${count(iters)}${metrics.steps !== undefined ? ` (run: ${count(metrics.steps)} steps)` : ""}`,
  );
  const aug = [spec.data.flip ? "flip" : "", spec.data.rotate ? "rotate" : ""].filter(Boolean).join(", ") || "none";
  const candidates = spec.data.crop_candidates ?? 1;
  const where = candidates > 1 ? ` (the most detailed of ${candidates} positions)` : "";
  items.push(`Batch ${spec.data.batch}, crop ${spec.data.crop}×${spec.data.crop}${where}, augment ${aug}`);
  const o = spec.train.optimizer;
  items.push(
    `Optimizer: ${o.name}(lr ${o.lr}, betas [${o.betas.join(", ")}]${o.weight_decay ? `, weight_decay ${o.weight_decay}` : ""}), ` +
      `schedule ${spec.train.schedule.name}${spec.train.schedule.name === "cosine_restarts" ? ` (eta_min ${spec.train.schedule.eta_min})` : ""}, loss ${spec.train.loss.name}`,
  );
  const weights = metrics.weights ?? spec.eval.weights;
  items.push(`EMA ${spec.train.ema || "off"}; weights evaluated: ${weights === "ema" ? "EMA" : "raw (as the paper)"}`);
  const sel = metrics.prompt_selection ?? (p.kind === "explicit" ? "oracle" : "none");
  const selText = {
    oracle:
      "oracle (each test image gets its true task's prompt; no classifier checkpoint was given, so this is not the " +
      "paper's test-time selection)",
    classifier: `classifier (the task classifier${metrics.classifier ? ` ${metrics.classifier}` : ""} picks each test image's prompt from the whole LQ image)`,
    none: p.kind === "adaptive" ? "none needed (the input is the prompt)" : "none",
  }[sel];
  if (!isClassifier(spec)) items.push(`Prompt selection at test time: ${selText}`);
  if (metrics.depth) items.push(`Haze depth: ${metrics.depth}`);
  const ev = spec.eval as ExperimentSpec["eval"] & { center_crop?: number; max_images?: number };
  const evalBits = [`sets ${spec.eval.sets.map((s) => s.name).join(", ")}`];
  if (ev.center_crop) evalBits.push(`central ${ev.center_crop}×${ev.center_crop} crop of each image`);
  if (ev.max_images) evalBits.push(`at most ${ev.max_images} images per set`);
  if (spec.eval.tile) evalBits.push(`tiles ${spec.eval.tile} (overlap ${spec.eval.overlap})`);
  items.push(`Evaluation: ${evalBits.join(", ")}`);
  items.push(
    `Seed ${spec.seed}; data: train ${spec.data.train.map((t) => t.path).join(", ")}, test ${spec.data.test ?? "–"}`,
  );
  return items;
}

/** The paper's variants of these runs' recipes (`SwinIR-S+AP`), each once, in run order. */
function paperVariants(runs: readonly RunData[]): string[] {
  return [...new Set(runs.map((r) => paperVariant(r.spec)).filter((v): v is string => v !== undefined))];
}

/** A paper row's values in these columns' order (`names` is the row's column order); "–" where it has none. */
function paperCells(cols: readonly { task: string }[], names: readonly string[], row: readonly number[]): string[] {
  return cols.map((c) => {
    const i = names.indexOf(c.task);
    return i < 0 ? "–" : (row[i] as number).toFixed(2);
  });
}

/**
 * The paper's rows for these runs' recipes, in their column order; undefined when the paper has none. One run's
 * report quotes its own recipe's row, `mioc report` over several runs every recipe's.
 */
export function paperTable(runs: readonly RunData[]): Table | undefined {
  const variants = paperVariants(runs);
  if (variants.length === 0) return undefined;
  const cols = columnsOf(runs);
  const rows = variants.map((variant) => {
    const row = PAPER_TABLE3[variant] as readonly number[];
    const cells = paperCells(cols, PAPER_TASKS, row);
    const out = PAPER_OUTDIS_AVG[variant];
    return [`${variant} (paper)`, ...cells, (row[7] as number).toFixed(2), out === undefined ? "–" : out.toFixed(2)];
  });
  return {
    header: ["", ...cols.map((c) => c.title), "Avg", "Out-Dis Avg"],
    rows,
    notes: ["MiOIR Table 3 (In-Dis) and Table 4 (Out-Dis average): DF2K training, DIV2K-valid test images."],
  };
}

/** The paper's Unknown rows for these runs' recipes, in their Unknown columns; undefined when the paper has none. */
export function paperUnknownTable(runs: readonly RunData[]): Table | undefined {
  const variants = paperVariants(runs).filter((v) => PAPER_UNKNOWN[v]);
  if (variants.length === 0 || !runs.some((r) => r.metrics.sets[UNKNOWN])) return undefined;
  const cols = unknownColumnsOf(runs);
  const rows = variants.map((variant) => {
    const row = PAPER_UNKNOWN[variant] as readonly number[];
    const cells = paperCells(cols, PAPER_UNKNOWN_SETS, row);
    return [`${variant} (paper)`, ...cells, (row[5] as number).toFixed(2)];
  });
  return {
    header: ["", ...cols.map((c) => c.title), "Unknown Avg"],
    rows,
    notes: [
      "MiOIR Table 4, on the real sets (NTIRE 2018 Difficult/Mild/Wild and NTIRE 2020 at LR size, T-OLED): not " +
        "comparable to the synthetic stand-ins here, only the ranking of recipes is.",
    ],
  };
}

function meaning(run: RunData): Block[] {
  const { spec } = run;
  const variant = paperVariant(spec);
  const iters = spec.curriculum.stages.reduce((s, st) => s + st.iters, 0);
  const blocks: Block[] = [{ kind: "heading", level: 2, text: "What the numbers mean" }];
  const profile = run.metrics.profile ?? spec.profile;
  if (profile === "quick") {
    const scale = PAPER_SCALE[spec.model.name];
    const params = scale?.params[spec.prompt.kind];
    const theirs =
      scale && params
        ? `the paper's ${spec.model.name} has ${(params / 1e6).toFixed(3)}M parameters and trains ` +
          `${count(scale.iters)} iterations at batch ${scale.batch} on ${scale.crop}×${scale.crop} crops of DF2K, tested on DIV2K-valid`
        : "the paper's models are far larger and train far longer, on DF2K, tested on DIV2K-valid";
    blocks.push({
      kind: "para",
      text:
        `This run uses the 'quick' profile: a tiny model (${count(totalParams(spec))} parameters) trained for ` +
        `${count(iters)} iterations at batch ${spec.data.batch} on ${spec.data.crop}×${spec.data.crop} crops, sized ` +
        `for a CPU. Its numbers show that the pipeline learns and how recipes rank at this scale; they are not ` +
        `comparable to the paper's Table 3 (${theirs}). Read them against the input (LQ) rows: the gain over the ` +
        "degraded input is what a tiny model can show.",
    });
  } else {
    blocks.push({
      kind: "para",
      text:
        `Profile ${profile ?? "none (the experiment's full recipe)"}. The paper trains on DF2K and tests on DIV2K-valid; ` +
        `this run's test images come from ${spec.data.test ?? "its test folder"}, so compare differences between ` +
        "recipes (and gains over the input rows), not absolute values.",
    });
  }
  const paper = paperTable([run]);
  if (paper && variant) {
    blocks.push({ kind: "para", text: `For reference, the paper's numbers for the same recipe (${variant}):` });
    blocks.push({ kind: "table", table: paper });
  }
  const paperUnknown = paperUnknownTable([run]);
  if (paperUnknown) blocks.push({ kind: "table", table: paperUnknown });
  return blocks;
}

/**
 * Everything a report says, as blocks; `samples` are the grids found in the run folder (paths relative to it).
 *
 * @example renderMarkdown(reportBlocks(run, []))
 */
export function reportBlocks(run: RunData, samples: { task: string; title: string; src: string }[]): Block[] {
  const { spec, metrics } = run;
  const profile = metrics.profile ?? spec.profile ?? "none";
  const adapter = metrics.adapter ?? "unknown adapter";
  const blocks: Block[] = [{ kind: "heading", level: 1, text: `Run ${run.id} · profile ${profile} · ${adapter}` }];
  const facts = [`experiment ${metrics.name}`];
  if (metrics.steps !== undefined) facts.push(`${count(metrics.steps)} steps`);
  if (metrics.seconds !== undefined) facts.push(`${formatDuration(metrics.seconds)} of training`);
  const skipped = skippedFiles(run).size;
  if (skipped) facts.push(`${skipped} file${skipped === 1 ? "" : "s"} skipped`);
  blocks.push({ kind: "para", text: `${facts.join(" · ")}.` });
  blocks.push(...skippedBlocks(run));

  const accuracy = accuracyTable(run);
  if (isClassifier(spec)) {
    // A classifier run has no restored images: its result is the accuracy table.
    blocks.push({ kind: "heading", level: 2, text: "Task classifier accuracy (%)" });
    if (accuracy) blocks.push({ kind: "table", table: accuracy });
    else blocks.push({ kind: "para", text: "metrics.json has no classifier accuracy." });
    for (const { title, table } of confusionTables(run))
      blocks.push({ kind: "heading", level: 3, text: title }, { kind: "table", table });
    blocks.push({ kind: "para", text: CLASSIFIER_NOTE });
    blocks.push({ kind: "heading", level: 2, text: "Recipe" }, { kind: "list", items: recipe(run) });
    blocks.push({ kind: "heading", level: 2, text: "Training loss" });
    blocks.push({ kind: "image", src: "loss.png", alt: "training loss", caption: lossCaption(spec) });
    return blocks;
  }
  const psnr = scoreTable(run, "psnr");
  blocks.push({ kind: "heading", level: 2, text: "PSNR (dB)" });
  if (psnr) blocks.push({ kind: "table", table: psnr }, { kind: "para", text: metricText(spec, "psnr") });
  else blocks.push({ kind: "para", text: "metrics.json has no PSNR values." });
  blocks.push(...unknownBlocks(run));
  if (accuracy) {
    blocks.push(
      { kind: "heading", level: 2, text: "Task classifier accuracy (%)" },
      { kind: "table", table: accuracy },
    );
    blocks.push({
      kind: "para",
      text: "The classifier picked each test image's explicit prompt; a wrong pick gives the image another task's prompt.",
    });
  }
  const ssim = scoreTable(run, "ssim");
  if (ssim) {
    blocks.push({ kind: "heading", level: 2, text: "SSIM" }, { kind: "table", table: ssim });
    blocks.push({ kind: "para", text: metricText(spec, "ssim") });
  }
  blocks.push(...meaning(run));
  blocks.push({ kind: "heading", level: 2, text: "Recipe" }, { kind: "list", items: recipe(run) });
  blocks.push({ kind: "heading", level: 2, text: "Training loss" });
  blocks.push({
    kind: "image",
    src: "loss.png",
    alt: "training loss",
    caption: lossCaption(spec),
  });
  blocks.push({ kind: "heading", level: 2, text: "Samples" });
  if (samples.length === 0) blocks.push({ kind: "para", text: "No sample grids in samples/." });
  else
    blocks.push({
      kind: "para",
      text:
        "One grid per task and Unknown set, a row per test set: the degraded input (LQ), the model's output and " +
        "the ground truth (GT), on the region of the test images with the most detail (the highest gradient " +
        "energy of the GT). Under the LQ and output panels: their PSNR to the GT panel, and the output's gain.",
    });
  for (const s of samples) blocks.push({ kind: "image", src: s.src, alt: `${s.title} sample`, caption: s.title });
  return blocks;
}

/**
 * The Unknown group in the paper's Table 4 layout; or, when the experiment asked for it but metrics.json has
 * none, why (an EP model without a classifier: the Unknown sets have no true task to take a prompt from).
 */
function unknownBlocks(run: RunData): Block[] {
  const table = unknownTable(run);
  const heading: Block = { kind: "heading", level: 2, text: "Out-Dis and Unknown PSNR (dB), as the paper's Table 4" };
  if (table) return [heading, { kind: "table", table }];
  const asked = run.spec.eval.sets.some((s) => s.name === UNKNOWN && s.path === null);
  if (!asked || isClassifier(run.spec)) return [];
  const why =
    run.metrics.prompt_selection === "oracle"
      ? `No Unknown scores: ${UNKNOWN_NEEDS_CLASSIFIER} (give --classifier CKPT).`
      : "metrics.json has no Unknown scores.";
  return [heading, { kind: "para", text: why }];
}

type Rules = { [K in Block["kind"]]: (b: Extract<Block, { kind: K }>) => string };

/** How each block kind is written in Markdown. */
const markdownRules: Rules = {
  heading: (b) => `${"#".repeat(b.level)} ${b.text}`,
  para: (b) => b.text,
  list: (b) => b.items.map((i) => `- ${i}`).join("\n"),
  table: (b) => markdownTable(b.table).trimEnd(),
  image: (b) => `![${b.alt}](${b.src})${b.caption ? `\n\n${b.caption}` : ""}`,
};

/** How each block kind is written in HTML; text is escaped, images are relative links. */
const htmlRules: Rules = {
  heading: (b) => `<h${b.level}>${escapeHtml(b.text)}</h${b.level}>`,
  para: (b) => `<p>${escapeHtml(b.text)}</p>`,
  list: (b) => `<ul>\n${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join("\n")}\n</ul>`,
  table: (b) => htmlTable(b.table),
  image: (b) =>
    `<figure><img src="${escapeHtml(b.src)}" alt="${escapeHtml(b.alt)}">` +
    `${b.caption ? `<figcaption>${escapeHtml(b.caption)}</figcaption>` : ""}</figure>`,
};

function render(rules: Rules, b: Block): string {
  return (rules[b.kind] as (b: Block) => string)(b);
}

/**
 * Writes blocks as Markdown (GitHub-flavoured tables, images as relative links).
 *
 * @example renderMarkdown([{ kind: "heading", level: 1, text: "Run x" }]) // "# Run x\n"
 */
export function renderMarkdown(blocks: readonly Block[]): string {
  return `${blocks.map((b) => render(markdownRules, b)).join("\n\n")}\n`;
}

const CSS = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0}th,td{padding:0.25em 0.6em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #888}
.note{color:#666;font-size:0.9em;margin:0.2em 0}figure{margin:1em 0}img{max-width:100%}
figcaption{color:#555;font-size:0.9em}td.gain{color:#1a7f37}td.loss{color:#c62828}td.best{background:#eef6ee}`;

/**
 * Writes blocks as one self-contained HTML page: inline CSS, no scripts, images as relative links.
 *
 * @example renderHtml(blocks, "mio report: seq_prompt-6cd66349b035")
 */
export function renderHtml(blocks: readonly Block[], title: string): string {
  const parts = blocks.map((b) => render(htmlRules, b));
  return (
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n` +
    `<style>\n${CSS}\n</style>\n</head>\n<body>\n${parts.join("\n")}\n</body>\n</html>\n`
  );
}

/** The sample grids present in the run folder (samples/<name>.png), in task then Unknown set order. */
function findSamples(run: RunData): { task: string; title: string; src: string }[] {
  return [...columnsOf([run]), ...unknownColumnsOf([run])]
    .map((c) => ({ task: c.task, title: c.title, src: `samples/${c.task}.png` }))
    .filter((s) => existsSync(join(run.dir, s.src)));
}

/**
 * Writes loss.png, report.md and report.html into a run folder (each atomically) and returns their paths with the
 * PSNR table. Throws `RunFolderError` when spec.json, log.jsonl or metrics.json is missing or malformed.
 *
 * @example const { psnrTable } = await writeReport("runs/seq_prompt-6cd66349b035");
 */
export async function writeReport(runDir: string): Promise<ReportFiles> {
  const run = await loadRun(runDir);
  const files: ReportFiles = {
    markdown: join(runDir, "report.md"),
    html: join(runDir, "report.html"),
    lossPlot: join(runDir, "loss.png"),
    psnrTable: "",
  };
  await writeLossPlot(files.lossPlot, run.log, run.spec);
  const blocks = reportBlocks(run, findSamples(run));
  await writeFileAtomic(files.markdown, renderMarkdown(blocks));
  await writeFileAtomic(files.html, renderHtml(blocks, `mio report: ${run.id}`));
  const psnr = scoreTable(run, "psnr");
  const unknown = unknownTable(run);
  files.psnrTable = psnr
    ? [psnr, ...(unknown ? [unknown] : [])].map(markdownTable).join("\n")
    : "metrics.json has no PSNR values.\n";
  return files;
}
