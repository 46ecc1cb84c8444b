// The comparison tables (the paper's Table 3 and Table 4 layouts, best values in bold) and the run-folder checks.
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compareRuns } from "../../../runtime/report/compare.js";
import { loadRun, parseLog, RunFolderError } from "../../../runtime/report/run.js";
import { markdownTable, scoreTable } from "../../../runtime/report/tables.js";
import { removeSyntheticRuns, syntheticRun, TASKS, UNKNOWN_SETS } from "./synthetic.js";

afterAll(removeSyntheticRuns);

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe("comparison table", () => {
  it("has a row per run (by experiment name), the task columns, Avg and Ipv.; the best of each column in bold", async () => {
    const m = await syntheticRun("srresnet_m", { samples: false });
    const s = await syntheticRun("srresnet_s", { offset: 0.4, samples: false });
    const { tables, markdown } = await compareRuns([m.dir, s.dir]);
    const table = tables[0] as NonNullable<(typeof tables)[0]>;
    expect(table.header).toEqual([
      "Run",
      ...["SR", "Blur", "Noise", "JPEG", "Rain", "Haze", "Low-Light"],
      ...["Avg", "Ipv."],
    ]);
    const inM = TASKS.map((t) => m.sets.in_dist?.[t]?.psnr as number);
    const inS = TASKS.map((t) => s.sets.in_dist?.[t]?.psnr as number);
    const lq = TASKS.map((t) => m.sets.in_dist?.[t]?.lq_psnr as number);
    // Both runs were measured on the same inputs, so the LQ row comes first.
    expect(table.rows.map((r) => r[0])).toEqual(["input (LQ)", "srresnet_m", "srresnet_s"]);
    expect(table.rows[0]).toEqual(["input (LQ)", ...lq.map((v) => v.toFixed(2)), mean(lq).toFixed(2), ""]);
    expect(table.rows[1]).toEqual(["srresnet_m", ...inM.map((v) => v.toFixed(2)), mean(inM).toFixed(2), "baseline"]);
    expect(table.rows[2]?.slice(-2)).toEqual([mean(inS).toFixed(2), "+0.40"]);
    // srresnet_s is 0.4 dB better everywhere: its cells are the best, the input row is never marked, nor Ipv.
    expect(markdown).toContain("| srresnet_s | **24.52** |");
    expect(markdown).toContain(`| srresnet_m | 24.12 |`);
    expect(markdown).toContain(`| **${mean(inS).toFixed(2)}** | +0.40 |`);
    expect(markdown.split("\n")[1]).toBe("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  });

  it("has Table 4's layout: Out-Dis Avg, the Unknown sets, Unknown Avg, each with an Ipv.", async () => {
    const m = await syntheticRun("srresnet_m", { samples: false });
    const ap = await syntheticRun("srresnet_s_ap", { offset: 0.5, samples: false });
    const { tables, markdown } = await compareRuns([m.dir, ap.dir]);
    const t4 = tables[1] as NonNullable<(typeof tables)[1]>;
    expect(t4.header).toEqual([
      "Run",
      "Out-Dis Avg",
      "Ipv.",
      ...["Difficult", "Mild", "Wild", "Ntire20", "Toled"],
      "Unknown Avg",
      "Ipv.",
    ]);
    const outM = mean(TASKS.map((t) => m.sets.out_dist?.[t]?.psnr as number));
    const unknownAp = UNKNOWN_SETS.map((t) => ap.sets.unknown?.[t]?.psnr as number);
    const unknownLq = UNKNOWN_SETS.map((t) => m.sets.unknown?.[t]?.lq_psnr as number);
    expect(t4.rows.map((r) => r[0])).toEqual(["input (LQ)", "srresnet_m", "srresnet_s_ap"]);
    expect(t4.rows[0]?.slice(3)).toEqual([...unknownLq.map((v) => v.toFixed(2)), mean(unknownLq).toFixed(2), ""]);
    expect(t4.rows[1]?.slice(0, 3)).toEqual(["srresnet_m", outM.toFixed(2), "baseline"]);
    expect(t4.rows[2]).toEqual([
      "srresnet_s_ap",
      (outM + 0.5).toFixed(2),
      "+0.50",
      ...unknownAp.map((v) => v.toFixed(2)),
      mean(unknownAp).toFixed(2),
      "+0.50",
    ]);
    expect(t4.marks?.[2]?.filter((x) => x === "best")).toHaveLength(7);
    expect(markdown).toContain("| Run | Out-Dis Avg | Ipv. | Difficult |");
    expect(markdown).toContain(`| srresnet_s_ap | **${(outM + 0.5).toFixed(2)}** | +0.50 |`);
  });

  it("ends with the paper's rows for the runs' recipes, each once, in run order (Table 3, then Table 4's Unknown)", async () => {
    const m = await syntheticRun("srresnet_m", { samples: false });
    const s = await syntheticRun("srresnet_s", { offset: 0.2, samples: false });
    const ap = await syntheticRun("srresnet_s_ap", { offset: 0.5, samples: false });
    const { tables, markdown } = await compareRuns([m.dir, s.dir, ap.dir, m.dir]);
    const [paper, unknown] = tables.slice(2);
    expect(paper?.header).toEqual([
      "",
      "SR",
      "Blur",
      "Noise",
      "JPEG",
      "Rain",
      "Haze",
      "Low-Light",
      "Avg",
      "Out-Dis Avg",
    ]);
    expect(paper?.rows).toEqual([
      ["SRResNet-M (paper)", "25.52", "30.01", "30.49", "32.46", "32.38", "25.57", "30.20", "29.52", "24.88"],
      ["SRResNet-S (paper)", "25.72", "30.49", "30.67", "32.73", "32.81", "25.78", "30.45", "29.81", "–"],
      ["SRResNet-S+AP (paper)", "25.73", "30.66", "30.60", "32.68", "34.13", "25.51", "28.97", "29.76", "24.88"],
    ]);
    // The paper gives Unknown scores for M and S+AP only.
    expect(unknown?.rows.map((r) => r[0])).toEqual(["SRResNet-M (paper)", "SRResNet-S+AP (paper)"]);
    expect(unknown?.rows[1]?.slice(-1)).toEqual(["19.08"]);
    expect(markdown).toContain("| SRResNet-S+AP (paper) | 25.73 |");
  });

  it("marks an average over fewer tasks and tells runs of the same experiment apart", async () => {
    const a = await syntheticRun("srresnet_s_ap", { samples: false });
    const b = await syntheticRun("srresnet_s_ap", { offset: -1, samples: false });
    const metrics = JSON.parse(await readFile(join(b.dir, "metrics.json"), "utf8"));
    delete metrics.sets.in_dist.dark;
    metrics.run = "srresnet_s_ap-ffffffffffff";
    await writeFile(join(b.dir, "metrics.json"), JSON.stringify(metrics));
    const [table] = (await compareRuns([a.dir, b.dir])).tables;
    if (!table) throw new Error("no comparison table");
    expect(table.rows.map((r) => r[0])).toEqual(["srresnet_s_ap-0123456789ab", "srresnet_s_ap-ffffffffffff"]);
    const six = TASKS.slice(0, 6).map((t) => b.sets.in_dist?.[t]?.psnr as number);
    expect(table.rows[1]?.[7]).toBe("–");
    expect(table.rows[1]?.[8]).toBe(`${mean(six).toFixed(2)}*`);
    expect(table.notes.join("\n")).toContain("* Average over the tasks measured");
    // The LQ rows differ now (one task missing), so no shared input row.
    expect(table.rows.some((r) => r[0] === "input (LQ)")).toBe(false);
  });

  it("shows a PSNR of Infinity (null in JSON) as ∞", async () => {
    const r = await syntheticRun("srresnet_m", { samples: false });
    const metrics = JSON.parse(await readFile(join(r.dir, "metrics.json"), "utf8"));
    metrics.sets.in_dist.sr.psnr = null;
    await writeFile(join(r.dir, "metrics.json"), JSON.stringify(metrics));
    const t = scoreTable(await loadRun(r.dir), "psnr");
    expect(t?.rows[0]?.[1]).toBe("∞");
    expect(t?.rows[0]?.[8]).toBe("∞");
    expect(markdownTable(t as NonNullable<typeof t>)).toContain("| In-Dis | ∞ ▲ |");
  });
});

describe("run folders", () => {
  const failure = async (dir: string) => {
    try {
      await loadRun(dir);
    } catch (e) {
      expect(e).toBeInstanceOf(RunFolderError);
      return (e as Error).message;
    }
    throw new Error("loadRun did not fail");
  };

  it("names the folder and what is missing", async () => {
    const missing = join(tmpdir(), "mio-no-such-run-folder");
    expect(await failure(missing)).toBe(`run folder '${missing}': does not exist`);
    for (const file of ["spec.json", "metrics.json", "log.jsonl"]) {
      const r = await syntheticRun("srresnet_m", { samples: false });
      await rm(join(r.dir, file));
      expect(await failure(r.dir)).toBe(`run folder '${r.dir}': ${file} is missing`);
    }
  });

  it("rejects malformed files with the key or line at fault", async () => {
    const r = await syntheticRun("srresnet_m", { samples: false });
    const metrics = JSON.parse(await readFile(join(r.dir, "metrics.json"), "utf8"));
    metrics.classifier_confusion = { in_dist: { noise: { dark: "two" } } };
    await writeFile(join(r.dir, "metrics.json"), JSON.stringify(metrics));
    expect(await failure(r.dir)).toContain(
      "metrics.json: 'classifier_confusion.in_dist' must map each true task to counts per predicted task",
    );
    delete metrics.classifier_confusion;
    metrics.sets.out_dist.rain.psnr = "high";
    await writeFile(join(r.dir, "metrics.json"), JSON.stringify(metrics));
    expect(await failure(r.dir)).toContain("metrics.json: 'sets.out_dist.rain.psnr' must be a number");
    await writeFile(join(r.dir, "spec.json"), JSON.stringify({ version: 1, name: "x" }));
    expect(await failure(r.dir)).toContain("spec.json is not a valid experiment spec");
    await writeFile(join(r.dir, "spec.json"), "{");
    expect(await failure(r.dir)).toContain("spec.json is not valid JSON");
  });

  it("reads log.jsonl strictly but skips a last line still being written", () => {
    const ok = '{"type":"stage","stage":1,"stages":1,"tasks":["sr"],"iters":10}\n{"type":"train","stage":1,"it';
    expect(parseLog("r", ok).map((e) => e.type)).toEqual(["stage"]);
    expect(() => parseLog("r", '{"type":"train"\n{"type":"done"}\n')).toThrow(/log.jsonl line 1 is not valid JSON/);
    expect(() => parseLog("r", '{"type":"train","step":1}\n')).toThrow(
      /line 1: a "train" entry needs a number 'stage'/,
    );
    expect(parseLog("r", '{"type":"start","run":"x"}\n')).toEqual([
      { type: "other", raw: { type: "start", run: "x" } },
    ]);
    // A diverged step logs a non-finite loss, which JSON writes as null: still a valid entry.
    const nan = '{"type":"train","stage":1,"iter":5,"step":5,"loss":null,"lr":null}\n';
    expect(parseLog("r", nan)).toEqual([{ type: "train", stage: 1, iter: 5, step: 5, loss: null, lr: null }]);
    expect(() => parseLog("r", '{"type":"train","stage":1,"iter":5,"step":5,"loss":"x","lr":1}\n')).toThrow(
      /needs a number \(or null\) 'loss'/,
    );
    const skipped = '{"type":"skipped","stage":1,"step":0,"files":["a.png"],"reasons":["cannot read image"]}\n';
    expect(parseLog("r", skipped)).toEqual([
      { type: "skipped", stage: 1, step: 0, files: ["a.png"], reasons: ["cannot read image"] },
    ]);
    expect(() => parseLog("r", '{"type":"skipped","stage":1,"step":0,"files":["a.png"],"reasons":[]}\n')).toThrow(
      /line 1: a "skipped" entry needs 'files' and 'reasons', lists of strings of one length/,
    );
    expect(() => parseLog("r", '{"type":"skipped","stage":1,"files":[],"reasons":[]}\n')).toThrow(
      /a "skipped" entry needs a number 'step'/,
    );
  });
});
