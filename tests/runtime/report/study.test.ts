// A study's tables and verdicts from fake run folders (tests/runtime/study/fake.ts): mean ± sd over seeds, the
// standard errors, the paper's rows, and each claim's paired difference and verdict.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  claimResults,
  loadStudy,
  STUDY_HEAD,
  type StudyRow,
  stat,
  studyInDisTable,
  studyMarkdown,
  studyUnknownTable,
  verdict,
} from "../../../runtime/report/study.js";
import { planStudy, type StudyRun } from "../../../runtime/study.js";
import { finishRun, pipelineSpec } from "../study/fake.js";

describe("stat and verdict", () => {
  it("gives the mean, the sample standard deviation and the standard error", () => {
    const s = stat([1, 2, 3]);
    expect([s.n, s.mean, s.sd]).toEqual([3, 2, 1]);
    expect(s.se).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(stat([5])).toEqual({ n: 1, mean: 5, sd: undefined, se: undefined });
    expect(stat([]).mean).toBeUndefined();
  });

  it("holds above 2 SE, fails below -2 SE, else is not resolved", () => {
    expect(verdict(stat([0.5, 0.6, 0.4]))).toBe("holds");
    expect(verdict(stat([-0.5, -0.6, -0.4]))).toBe("fails");
    expect(verdict(stat([0.1, -0.05, 0.02]))).toBe("not resolved at this scale");
    expect(verdict(stat([3]))).toBe("not resolved: fewer than two seeds");
  });
});

const NAMES = ["srresnet_m", "srresnet_s", "srresnet_m_ep", "srresnet_s_ep", "srresnet_m_ap", "srresnet_s_ap"];
/** Each recipe's offset per seed (0, 1, 2) over makeScores' PSNRs; the EP rows' oracle offsets. */
const OFFSETS: Record<string, number[]> = {
  srresnet_m: [0, 0.1, -0.1],
  srresnet_s: [0.5, 0.7, 0.3], // S − M: 0.5, 0.6, 0.4 → holds
  srresnet_m_ep: [0.05, 0.05, -0.08], // M+EP − M: 0.05, −0.05, 0.02 → not resolved
  srresnet_s_ep: [-0.5, -0.4, -0.6], // S+EP − S: −1, −1.1, −0.9 → fails
  srresnet_m_ap: [0, 0, 0],
  srresnet_s_ap: [1, 1.2, 0.8], // Unknown: S+AP − M: 1, 1.1, 0.9 → holds
};
const ORACLE: Record<string, number[]> = { srresnet_m_ep: [0.3, 0.41, 0.19], srresnet_s_ep: [0.5, 0.7, 0.3] };

async function study(seeds = [0, 1, 2], skip: (r: StudyRun) => boolean = () => false): Promise<StudyRow[]> {
  const out = mkdtempSync(join(tmpdir(), "mio-study-report-"));
  const runs = planStudy({ models: NAMES.map((n) => pipelineSpec(n)), seeds, out });
  for (const r of runs) {
    const seed = r.seed as number;
    const oracle = ORACLE[r.spec.name]?.[seed];
    if (!skip(r))
      finishRun(r, OFFSETS[r.spec.name]?.[seed] as number, oracle === undefined ? {} : { oracleOffset: oracle });
  }
  return loadStudy(runs.map((r) => ({ name: r.spec.name, dir: r.dir, seed: r.seed as number })));
}

describe("a study's tables", () => {
  it("has a row per recipe and prompt selection, in the order given, with the paper's row after each recipe", async () => {
    const rows = await study();
    expect(rows.map((r) => r.label)).toEqual([
      "SRResNet-M",
      "SRResNet-S",
      "SRResNet-M+EP (classifier)",
      "SRResNet-M+EP (oracle)",
      "SRResNet-S+EP (classifier)",
      "SRResNet-S+EP (oracle)",
      "SRResNet-M+AP",
      "SRResNet-S+AP",
    ]);
    const t = studyInDisTable(rows);
    expect(t.header).toEqual(["", "Seeds", "SR", "Blur", "Noise", "JPEG", "Rain", "Haze", "Low-Light", "Avg", "SE"]);
    expect(t.rows.map((r) => r[0])).toEqual([
      "input (LQ)",
      "SRResNet-M",
      "SRResNet-M (paper)",
      "SRResNet-S",
      "SRResNet-S (paper)",
      "SRResNet-M+EP (classifier)",
      "SRResNet-M+EP (oracle)",
      "SRResNet-M+EP (paper)",
      "SRResNet-S+EP (classifier)",
      "SRResNet-S+EP (oracle)",
      "SRResNet-S+EP (paper)",
      "SRResNet-M+AP",
      "SRResNet-M+AP (paper)",
      "SRResNet-S+AP",
      "SRResNet-S+AP (paper)",
    ]);
    // makeScores: In-Dis task i scores 24.123 + 1.37 i (+ offset), so the average is 28.233 + offset.
    const m = t.rows[1] as string[];
    expect(m.slice(0, 3)).toEqual(["SRResNet-M", "3/3", "24.12 ± 0.10"]);
    expect(m.slice(-2)).toEqual(["28.23 ± 0.10", (0.1 / Math.sqrt(3)).toFixed(2)]);
    expect(t.rows[2]).toEqual([
      "SRResNet-M (paper)",
      "",
      "25.52",
      "30.01",
      "30.49",
      "32.46",
      "32.38",
      "25.57",
      "30.20",
      "29.52",
      "",
    ]);
    // The input's row: one value per seed, equal here, so no spread.
    expect((t.rows[0] as string[]).slice(0, 3)).toEqual(["input (LQ)", "3", "21.46 ± 0.00"]);
  });

  it("shows Out-Dis and Unknown averages with their standard errors; the oracle rows have no Unknown", async () => {
    const t = studyUnknownTable(await study()) as NonNullable<ReturnType<typeof studyUnknownTable>>;
    expect(t.header).toEqual([
      ...["", "Seeds", "Out-Dis Avg", "SE"],
      ...["Difficult", "Mild", "Wild", "Ntire20", "Toled", "Unknown Avg", "SE"],
    ]);
    const row = (label: string) => t.rows.find((r) => r[0] === label) as string[];
    expect(row("SRResNet-M+EP (oracle)").slice(4)).toEqual(["–", "–", "–", "–", "–", "–", "–"]);
    // Unknown set i: 17.2 + 0.9 i + offset, average 19.0 + offset.
    expect(row("SRResNet-S+AP").slice(-2)).toEqual(["20.00 ± 0.20", (0.2 / Math.sqrt(3)).toFixed(2)]);
    expect(row("SRResNet-S+AP (paper)").slice(2)).toEqual([
      "24.88",
      "",
      "17.87",
      "17.35",
      "17.66",
      "22.48",
      "20.06",
      "19.08",
      "",
    ]);
  });

  it("decides each claim from the seed-paired differences", async () => {
    const claims = claimResults(await study());
    const line = (text: string) => claims.find((c) => c.text === text);
    expect(claims.map((c) => [c.text, c.verdict])).toEqual([
      ["SRResNet-S > SRResNet-M", "holds"],
      ["SRResNet-M+EP (classifier) > SRResNet-M", "not resolved at this scale"],
      ["SRResNet-M+EP (oracle) > SRResNet-M", "holds"],
      ["SRResNet-S+EP (classifier) > SRResNet-S", "fails"],
      ["SRResNet-S+EP (oracle) > SRResNet-S", "not resolved at this scale"],
      ["SRResNet-S+AP > SRResNet-M", "holds"],
    ]);
    const s = line("SRResNet-S > SRResNet-M");
    expect(s?.diff.mean).toBeCloseTo(0.5, 12);
    expect(s?.diff.se).toBeCloseTo(0.1 / Math.sqrt(3), 12);
    expect(s?.paper).toBeCloseTo(0.289, 3);
    // The paper's +1.07 dB: the mean of its five Unknown cells, S+AP's minus M's.
    expect(line("SRResNet-S+AP > SRResNet-M")?.paper?.toFixed(2)).toBe("1.07");
    expect(line("SRResNet-S+AP > SRResNet-M")?.diff.mean).toBeCloseTo(1, 12);
  });

  it("pairs only the seeds both recipes finished, and says so with one", async () => {
    const rows = await study([0, 1], (r) => r.spec.name === "srresnet_s" && r.seed === 1);
    const s = claimResults(rows).find((c) => c.text === "SRResNet-S > SRResNet-M");
    expect([s?.diff.n, s?.verdict]).toEqual([1, "not resolved: fewer than two seeds"]);
    expect(
      studyInDisTable(rows)
        .rows.find((r) => r[0] === "SRResNet-S")
        ?.slice(1, 3),
    ).toEqual(["1/2", "24.62"]);
  });

  it("renders as Markdown under its heading, with the verdict rule", async () => {
    const md = studyMarkdown(await study(), { profile: "study", seeds: [0, 1, 2], experiments: 6 });
    expect(md.startsWith(`${STUDY_HEAD}: 6 experiments × seeds 0, 1, 2, profile study\n`)).toBe(true);
    expect(md).toContain("| SRResNet-S > SRResNet-M | In-Dis Avg | 3 | +0.50 dB | 0.06 | +0.29 dB | holds |");
    expect(md).toContain("more than 2 SE above zero");
    expect(md).toContain("The task classifier picked the true task for In-Dis 95.0%, Out-Dis 75.0% of the EP runs'");
    expect(studyMarkdown([], { profile: "study", seeds: [0], experiments: 1 })).toContain("No finished runs yet.");
  });
});
