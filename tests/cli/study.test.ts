// `mioc study` as a user runs it (the built CLI): its argument errors, and --report-only over fake run folders
// (tests/runtime/study/fake.ts) at the run ids the command itself plans.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planStudy } from "../../runtime/study.js";
import { mioc } from "../helpers/cli.js";
import { finishRun, pipelineSpec } from "../runtime/study/fake.js";

describe("mioc study: mistakes", () => {
  it.each([
    [["--seeds", "0,,1"], "--seeds '0,,1' has an empty entry"],
    [["--seeds", "0,one"], "--seeds entry 'one' is not a seed"],
    [["--seeds", "1,1"], "--seeds names seed 1 twice"],
    [["--md", "pipelines/srresnet_m.mio"], "--md 'pipelines/srresnet_m.mio' must be a .md file"],
    [["--md", "README.md"], "--md 'README.md' exists and is not a table 'mioc study' wrote"],
  ])("%j: %s", (args, message) => {
    const r = mioc(["study", "pipelines/srresnet_m.mio", ...args, "--report-only"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`mioc: error: ${message}`);
  });

  it.each([
    [["pipelines/nope.mio"], "no such file: pipelines/nope.mio"],
    [["pipelines/srresnet_m.mio", "pipelines/srresnet_m.mio"], "pipelines/srresnet_m.mio is named twice"],
    [["pipelines/classifier.mio"], "pipelines/classifier.mio is a task classifier"],
    [["pipelines/swinir_m.mio"], "experiment 'swinir_m' has no profile 'study'"],
  ])("%j: %s", (files, message) => {
    const r = mioc(["study", ...files, "--report-only"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`mioc: error: ${message}`);
  });

  it("mioc run --seed takes a whole number", () => {
    const r = mioc(["run", "pipelines/srresnet_m.mio", "--seed", "1.5"]);
    expect([r.code, r.stderr.split("\n")[0]]).toEqual([2, "mioc: error: --seed '1.5' is not a seed"]);
  });
});

describe("mioc study --report-only", () => {
  it("prints the tables of the finished runs and writes them with --md (again over its own file)", () => {
    const out = mkdtempSync(join(tmpdir(), "mio-study-cli-"));
    const models = ["srresnet_m", "srresnet_m_ep"].map((n) => pipelineSpec(n));
    const runs = planStudy({ models, seeds: [0, 1], out, classifier: pipelineSpec("classifier") });
    // M: offsets 0 and 0.2 by seed; M+EP: 1 and 1.1 with its classifier, 2 with the oracle task.
    for (const r of runs) {
      const seed = r.seed;
      if (seed === null) continue;
      finishRun(r, r.spec.name === "srresnet_m" ? 0.2 * seed : 1 + 0.1 * seed, { oracleOffset: 2 });
    }
    const md = join(out, "study.md");
    const args = ["study", "pipelines/srresnet_m.mio", "pipelines/srresnet_m_ep.mio", "--seeds", "0,1"];
    const r = mioc([...args, "--out", out, "--report-only", "--md", md]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("# mioc study: 2 experiments × seeds 0, 1, profile study");
    expect(r.stdout).toContain("| SRResNet-M | 2/2 | 24.22 ± 0.14 |");
    expect(r.stdout).toContain("| 28.33 ± 0.14 | 0.10 |");
    expect(r.stdout).toContain("| SRResNet-M+EP (oracle) | 2/2 | 26.12 ± 0.00 |");
    expect(r.stdout).toContain(
      "| SRResNet-M+EP (classifier) > SRResNet-M | In-Dis Avg | 2 | +0.95 dB | 0.05 | +0.74 dB | holds |",
    );
    expect(r.stdout).toContain("| SRResNet-M+EP (oracle) > SRResNet-M | In-Dis Avg | 2 | +1.90 dB | 0.10 |");
    expect(readFileSync(md, "utf8")).toBe(r.stdout);
    expect(mioc([...args, "--out", out, "--report-only", "--md", md]).code).toBe(0);
    writeFileSync(join(out, "notes.md"), "my notes\n");
    expect(mioc([...args, "--out", out, "--report-only", "--md", join(out, "notes.md")]).code).toBe(2);
  });
});
