// writeReport over a synthetic run folder: the tables carry metrics.json's numbers in the paper's layout, the
// averages are right, and report.html and loss.png are written next to report.md.
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { writeReport } from "../../../runtime/report/report.js";
import { removeSyntheticRuns, syntheticRun, TASKS, UNKNOWN_SETS } from "./synthetic.js";

afterAll(removeSyntheticRuns);

/** The cells of the Markdown table row whose first cell is `label`, in the section after `heading`. */
function row(md: string, heading: string, label: string): string[] {
  const section = md.slice(md.indexOf(heading));
  const line = section.split("\n").find((l) => l.startsWith(`| ${label} |`));
  if (!line) throw new Error(`no row '${label}' under '${heading}'`);
  return line
    .slice(2, -2)
    .split(" | ")
    .map((c) => c.trim());
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe("writeReport", () => {
  it("writes report.md with the PSNR and SSIM tables in the paper's layout", async () => {
    const run = await syntheticRun("seq_prompt", { ssim: true });
    const files = await writeReport(run.dir);
    const md = readFileSync(join(run.dir, "report.md"), "utf8");
    expect(files.markdown).toBe(join(run.dir, "report.md"));

    expect(md).toMatch(/^# Run seq_prompt-0123456789ab · profile quick · llvmpipe .* \(fallback\)\n/);
    expect(row(md, "## PSNR", "")).toEqual(["", "SR", "Blur", "Noise", "JPEG", "Rain", "Haze", "Low-Light", "Avg"]);
    for (const [set, label] of [
      ["in_dist", "In-Dis"],
      ["out_dist", "Out-Dis"],
    ] as const) {
      const scores = TASKS.map((t) => run.sets[set]?.[t]);
      const psnr = scores.map((s) => s?.psnr as number);
      const lq = scores.map((s) => s?.lq_psnr as number);
      const ssim = scores.map((s) => s?.ssim as number);
      // Every output cell beats its input in these scores, so each is marked ▲.
      const up = (v: number) => `${v.toFixed(2)} ▲`;
      expect(row(md, "## PSNR", label)).toEqual([label, ...psnr.map(up), up(mean(psnr))]);
      expect(row(md, "## PSNR", `${label} input (LQ)`)).toEqual([
        `${label} input (LQ)`,
        ...lq.map((v) => v.toFixed(2)),
        mean(lq).toFixed(2),
      ]);
      expect(row(md, "## SSIM", label)).toEqual([label, ...ssim.map((v) => v.toFixed(4)), mean(ssim).toFixed(4)]);
    }
    // Spot checks by hand: In-Dis SR 24.123, Low-Light 24.123 + 6 * 1.37 = 32.343, Avg 24.123 + 3 * 1.37 = 28.233.
    expect(row(md, "## PSNR", "In-Dis")).toEqual(expect.arrayContaining(["24.12 ▲", "32.34 ▲", "28.23 ▲"]));
    expect(files.psnrTable).toContain("| In-Dis | 24.12 ▲ | 25.49 ▲ |");
    expect(md).toContain("▲: above the input (LQ) row's value, ▼: below it.");

    // Table 4's layout: Out-Dis Avg, the five Unknown sets, Unknown Avg; each output below its input here (▼).
    const table4 = "## Out-Dis and Unknown PSNR";
    expect(row(md, table4, "")).toEqual([
      "",
      "Out-Dis Avg",
      "Difficult",
      "Mild",
      "Wild",
      "Ntire20",
      "Toled",
      "Unknown Avg",
    ]);
    const out = TASKS.map((t) => run.sets.out_dist?.[t]?.psnr as number);
    const outLq = TASKS.map((t) => run.sets.out_dist?.[t]?.lq_psnr as number);
    const unknown = UNKNOWN_SETS.map((t) => run.sets.unknown?.[t]?.psnr as number);
    const unknownLq = UNKNOWN_SETS.map((t) => run.sets.unknown?.[t]?.lq_psnr as number);
    const down = (v: number) => `${v.toFixed(2)} ▼`;
    expect(row(md, table4, "output")).toEqual([
      "output",
      `${mean(out).toFixed(2)} ▲`,
      ...unknown.map(down),
      down(mean(unknown)),
    ]);
    expect(row(md, table4, "input (LQ)")).toEqual([
      "input (LQ)",
      mean(outLq).toFixed(2),
      ...unknownLq.map((v) => v.toFixed(2)),
      mean(unknownLq).toFixed(2),
    ]);
    expect(files.psnrTable).toContain("| output |");
  });

  it("marks a loss, and an output equal to its input at the digits shown, not at all", async () => {
    const run = await syntheticRun("srresnet_m", { samples: false });
    const metrics = JSON.parse(readFileSync(join(run.dir, "metrics.json"), "utf8"));
    metrics.sets.in_dist.sr = { psnr: 20.001, lq_psnr: 21.456 };
    metrics.sets.in_dist.blur = { psnr: 22.5612, lq_psnr: 22.5638 };
    writeFileSync(join(run.dir, "metrics.json"), JSON.stringify(metrics));
    await writeReport(run.dir);
    const md = readFileSync(join(run.dir, "report.md"), "utf8");
    expect(row(md, "## PSNR", "In-Dis").slice(1, 3)).toEqual(["20.00 ▼", "22.56"]);
    const html = readFileSync(join(run.dir, "report.html"), "utf8");
    expect(html).toContain('<td class="loss">20.00 ▼</td><td>22.56</td>');
  });

  it("explains a quick run and quotes the paper's row for the same recipe", async () => {
    const run = await syntheticRun("seq_prompt");
    await writeReport(run.dir);
    const md = readFileSync(join(run.dir, "report.md"), "utf8");
    expect(md).toContain("not comparable to the paper's Table 3");
    expect(row(md, "What the numbers mean", "SRResNet-S+AP (paper)")).toEqual([
      "SRResNet-S+AP (paper)",
      ...["25.73", "30.66", "30.60", "32.68", "34.13", "25.51", "28.97", "29.76", "24.88"],
    ]);
    // And its Table 4 Unknown row, after the In-Dis one.
    const unknownPaper = md.slice(md.indexOf("| Difficult | Mild |", md.indexOf("What the numbers mean")));
    expect(row(unknownPaper, "| Difficult", "SRResNet-S+AP (paper)")).toEqual([
      "SRResNet-S+AP (paper)",
      ...["17.87", "17.35", "17.66", "22.48", "20.06", "19.08"],
    ]);
    expect(md).not.toContain("## SSIM"); // metrics.json has no ssim
    for (const text of [
      "Backbone: SRResNet(blocks: 4, feat: 16",
      "Prompt: adaptive (AP), extractor FExt(nf: 16)",
      "Curriculum: sequential, order sr → blur → noise → jpeg → rain → haze → dark; 7 stages",
      "Iterations: 5,000",
      "Batch 4, crop 32×32 (the most detailed of 3 positions), augment flip, rotate",
      "Optimizer: adam(lr 0.002, betas [0.9, 0.99])",
      "weights evaluated: raw",
      "Prompt selection at test time: none needed",
      "Haze depth: prior",
    ]) {
      expect(md).toContain(text);
    }
  });

  it("lists each of several prompt extractors with the sites it feeds (Restormer_EP's four)", async () => {
    const run = await syntheticRun("restormer_s_ep", { samples: false });
    await writeReport(run.dir);
    const md = readFileSync(join(run.dir, "report.md"), "utf8");
    expect(md).toContain("Prompt: explicit (EP), 4 extractors (F_ext_net1: RestormerFExt(nf: 16)");
    expect(md).toContain(
      "F_ext_net3: RestormerFExt(nf: 16) (5,440 parameters, 16-d) → decoder_level2, decoder_level1, refinement",
    );
    expect(md).toContain("modulating 6 sites");
  });

  it("writes a self-contained report.html, a loss.png and links the sample grids", async () => {
    const run = await syntheticRun("srresnet_s_ep");
    await writeReport(run.dir);
    const html = readFileSync(join(run.dir, "report.html"), "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("<td>In-Dis</td>");
    expect(html).toContain('<td class="gain">24.12 ▲</td>');
    expect(html).toContain("td.gain{color:#1a7f37}");
    expect(html).toContain('<img src="loss.png"');
    // One grid per task and Unknown set, tasks first.
    const grids = [...html.matchAll(/<img src="(samples\/[^"]+)"/g)].map((m) => m[1]);
    expect(grids).toEqual(["samples/sr.png", "samples/blur.png", "samples/mild.png"]);
    expect(html).toContain("<figcaption>Mild</figcaption>");
    expect(html).not.toMatch(/(src|href)="(https?:|\/)/); // nothing outside the run folder
    expect(html).toContain("Prompt selection at test time: oracle");
    expect(html).toContain("SRResNet-S+EP (paper)");

    const loss = join(run.dir, "loss.png");
    expect(statSync(loss).size).toBeGreaterThan(1000);
    const png = PNG.sync.read(readFileSync(loss));
    expect([png.width, png.height]).toEqual([820, 540]);
    // Something is drawn: the black loss line and the red lr line exist among the pixels.
    let dark = 0;
    let red = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i] as number, png.data[i + 1] as number, png.data[i + 2] as number];
      if (r < 40 && g < 40 && b < 40) dark++;
      if (r > 200 && g < 110 && b < 110) red++;
    }
    expect(dark).toBeGreaterThan(500);
    expect(red).toBeGreaterThan(200);
    expect(existsSync(join(run.dir, "report.md"))).toBe(true);
  });

  it("says why an EP run without a classifier has no Unknown scores", async () => {
    const run = await syntheticRun("srresnet_s_ep", { samples: false });
    const metrics = JSON.parse(readFileSync(join(run.dir, "metrics.json"), "utf8"));
    delete metrics.sets.unknown;
    writeFileSync(join(run.dir, "metrics.json"), JSON.stringify(metrics));
    await writeReport(run.dir);
    const md = readFileSync(join(run.dir, "report.md"), "utf8");
    expect(md).toContain(
      "## Out-Dis and Unknown PSNR (dB), as the paper's Table 4\n\nNo Unknown scores: the Unknown sets have no true task",
    );
    expect(md).toContain("(give --classifier CKPT)");
  });

  it("says how many training files were skipped, and which, once each", async () => {
    const run = await syntheticRun("seq_prompt");
    await writeReport(run.dir);
    expect(readFileSync(join(run.dir, "report.md"), "utf8")).not.toContain("skipped");
    const x = "data/train/x.png";
    const cut = "data/train/sub/cut.png";
    const skipped = (step: number, files: string[], reasons: string[]) =>
      `${JSON.stringify({ type: "skipped", stage: 1, step, files, reasons, time: 1e12 })}\n`;
    appendFileSync(
      join(run.dir, "log.jsonl"),
      skipped(0, [x], [`cannot read image '${x}': Input file contains unsupported image format`]) +
        skipped(40, [cut], ["vipspng: libpng read error"]) +
        // A resumed run (a new process) logs a file again: still one file.
        skipped(50, [x], [`cannot read image '${x}': Input file contains unsupported image format`]),
    );
    await writeReport(run.dir);
    const md = readFileSync(join(run.dir, "report.md"), "utf8");
    const html = readFileSync(join(run.dir, "report.html"), "utf8");
    expect(md.split("\n")[2]).toMatch(/· 2 files skipped\.$/);
    expect(md).toContain("2 files skipped: these training images could not be read");
    expect(md).toContain(`- cannot read image '${x}': Input file contains unsupported image format\n`);
    expect(md).toContain(`- ${cut}: vipspng: libpng read error\n`);
    expect(md.match(/^- .*x\.png/gm)).toHaveLength(1);
    expect(html).toContain(`<li>${cut}: vipspng: libpng read error</li>`);
  });

  it("is deterministic: the same run folder gives the same bytes", async () => {
    const run = await syntheticRun("seq_prompt");
    await writeReport(run.dir);
    const first = ["report.md", "report.html", "loss.png"].map((f) => readFileSync(join(run.dir, f)));
    await writeReport(run.dir);
    const second = ["report.md", "report.html", "loss.png"].map((f) => readFileSync(join(run.dir, f)));
    expect(second).toEqual(first);
  });
});
