// `mioc study` end to end on the device, on tiny inline experiments (10 iterations, two 32×32 test crops): the task
// classifier is trained once, the EP model's prompts are picked by it and, in metrics-oracle.json, by the true task;
// a second study trains nothing and prints the same tables.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { miocAsync } from "../helpers/cli.js";

const DATA = `
  data {
    train "tests/fixtures/e2e/train"
    test "tests/fixtures/e2e/test"
    crop 24
    batch 2
    workers 0
  }
  curriculum mixed {
    tasks noise, dark
    iters 10
  }
  eval {
    sets in_dist
    center_crop 32
  }
  profile study {
    train { log_every 5 }
  }`;

const FILES: Record<string, string> = {
  "tiny_m.mio": `use stdlib/tasks
use stdlib/backbones/srresnet
experiment tiny_m {
  model SRResNet(feat: 4, blocks: 1, outer_init: "pytorch")
  train { optimizer adam(lr: 1e-3, betas: [0.9, 0.99]) }
${DATA}
}
`,
  "tiny_m_ep.mio": `use "./tiny_m.mio"
use stdlib/prompts
experiment tiny_m_ep {
  extends tiny_m
  prompt explicit {
    extractor FExt(nf: 4)
    sites body.*, conv_last
    maps random(size: 16, seed: 1)
    classifier TaskClassifier(width: 4, classes: 2)
  }
}
`,
  "tiny_classifier.mio": `use stdlib/tasks
use stdlib/prompts
experiment tiny_classifier {
  model TaskClassifier(width: 4, classes: 2)
  train {
    loss cross_entropy
    optimizer adam(lr: 1e-2, betas: [0.9, 0.99])
  }
${DATA}
}
`,
};

describe("mioc run, stopped with Ctrl-C", () => {
  it("during the evaluation: exits 130 without metrics, and --resume only evaluates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mio-run-stop-"));
    writeFileSync(join(dir, "tiny_m.mio"), FILES["tiny_m.mio"] as string);
    const args = ["run", join(dir, "tiny_m.mio"), "--out", join(dir, "runs")];
    const stopped = await miocAsync(args, {}, 300_000, /evaluating in_dist\/\w+ 1\//);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain("stopping: writing a checkpoint");
    expect(stopped.stderr).toMatch(/stopped; continue with: mioc run \S+tiny_m\.mio --resume/);
    const resumed = await miocAsync([...args, "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toMatch(/ iter \d+ loss/); // nothing left to train
    expect(existsSync(resumed.stdout.trim())).toBe(true); // the report
  }, 300_000);
});

describe("mioc study, end to end", () => {
  it("trains the classifier, the model and the EP model, scores EP both ways, and skips them the second time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mio-study-e2e-"));
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
    const args = [
      ...["study", join(dir, "tiny_m.mio"), join(dir, "tiny_m_ep.mio"), "--seeds", "3"],
      ...["--classifier-file", join(dir, "tiny_classifier.mio"), "--out", join(dir, "runs")],
    ];
    const first = await miocAsync(args);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stderr.split("\n").filter((l) => l.startsWith("study: "));
    expect(lines.map((l) => l.replace(/ \([^)]*\)/g, "").replace(/; about .*/, ""))).toEqual([
      "study: run 1/3, tiny_classifier: training; 3 runs to train",
      "study: run 2/3, tiny_m seed 3: training",
      "study: run 3/3, tiny_m_ep seed 3: training",
      "study: run 3/3, tiny_m_ep seed 3: evaluating with the oracle task",
    ]);
    const ep = /runs\/(tiny_m_ep-\w+)/.exec(lines[2] ?? "")?.[1] as string;
    const metrics = JSON.parse(readFileSync(join(dir, "runs", ep, "metrics.json"), "utf8"));
    const oracle = JSON.parse(readFileSync(join(dir, "runs", ep, "metrics-oracle.json"), "utf8"));
    expect([metrics.prompt_selection, oracle.prompt_selection]).toEqual(["classifier", "oracle"]);
    expect(metrics.classifier).toMatch(/tiny_classifier-\w+\/classifier\.safetensors$/);
    expect(oracle.sets.in_dist.noise.images).toBe(2);
    expect(first.stdout).toMatch(/^# mioc study: 2 experiments × seeds 3, profile study\n/);
    for (const row of ["SRResNet-M", "SRResNet-M+EP (classifier)", "SRResNet-M+EP (oracle)"])
      expect(first.stdout).toMatch(new RegExp(`\\| ${row.replace(/[+()]/g, "\\$&")} \\| 1/1 \\| \\d+\\.\\d\\d \\|`));
    expect(first.stdout).toContain("| 1 | ");
    expect(first.stdout).toContain("not resolved: fewer than two seeds");

    const second = await miocAsync(args);
    expect(second.code, second.stderr).toBe(0);
    expect(
      second.stderr
        .split("\n")
        .filter((l) => l.startsWith("study: "))
        .every((l) => l.endsWith("done, skipped")),
    ).toBe(true);
    expect(second.stdout).toBe(first.stdout);
    expect(existsSync(join(dir, "runs", ".testsets"))).toBe(true);
  }, 300_000);
});
