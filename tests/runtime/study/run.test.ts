// The study's plan and its skip/resume logic, with a fake runner: a finished run (metrics.json) is skipped, one
// with a checkpoint is resumed, an EP run gets its oracle evaluation once, and a stopped run stops the study.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planStudy, runStudy, type StudyRun, type StudyRunner } from "../../../runtime/study.js";
import { finishRun, interruptRun, pipelineSpec } from "./fake.js";

const m = pipelineSpec("srresnet_m");
const ep = pipelineSpec("srresnet_m_ep");
const classifier = pipelineSpec("classifier");

function plan(out: string, models = [m, ep]) {
  return planStudy({ models, seeds: [0, 1], out, classifier });
}

/** Records each call; training writes metrics.json (scores: seed), the oracle metrics-oracle.json. */
function fakeRunner(stopAt?: string) {
  const calls: string[] = [];
  const runner: StudyRunner = {
    async train(run, resume) {
      calls.push(`train ${run.spec.name}:${run.seed}${resume ? " resume" : ""}`);
      if (run.id === stopAt) return false;
      finishRun(run, run.seed ?? 0);
      return true;
    },
    async oracle(run) {
      calls.push(`oracle ${run.spec.name}:${run.seed}`);
      writeFileSync(join(run.dir, "metrics-oracle.json"), "{}");
    },
  };
  return { runner, calls };
}

describe("planStudy", () => {
  it("trains the classifier once, first, then every experiment seed by seed", () => {
    const runs = plan("/runs");
    expect(runs.map((r) => `${r.spec.name}:${r.seed}`)).toEqual([
      "classifier:null",
      "srresnet_m:0",
      "srresnet_m_ep:0",
      "srresnet_m:1",
      "srresnet_m_ep:1",
    ]);
    const [cls, m0, ep0, m1] = runs as [StudyRun, StudyRun, StudyRun, StudyRun];
    // The seed is the spec's, so each seed is a run of its own; the classifier keeps its own seed.
    expect([m0.spec.seed, m1.spec.seed, cls.spec.seed]).toEqual([0, 1, classifier.spec.seed]);
    expect(m0.id).not.toBe(m1.id);
    expect(m0.dir).toBe(join("/runs", m0.id));
    expect(ep0.classifier).toBe(join(cls.dir, "classifier.safetensors"));
    expect(m0.classifier).toBeUndefined();
  });

  it("needs no classifier without explicit prompts", () => {
    expect(plan("/runs", [m]).map((r) => r.spec.name)).toEqual(["srresnet_m", "srresnet_m"]);
  });

  it("refuses an experiment named twice", () => {
    expect(() => plan("/runs", [m, m])).toThrow(/would run srresnet_m-\w+ twice/);
  });
});

describe("runStudy", () => {
  it("skips finished runs, resumes interrupted ones and evaluates EP runs with the oracle once", async () => {
    const out = mkdtempSync(join(tmpdir(), "mio-study-"));
    const [, m0, ep0, m1] = plan(out) as StudyRun[];
    finishRun(m0 as StudyRun, 0);
    interruptRun(m1 as StudyRun);
    finishRun(ep0 as StudyRun, 0); // trained, but its oracle evaluation is missing
    const { runner, calls } = fakeRunner();
    const log: string[] = [];
    let clock = 0;
    const now = () => (clock += 600_000); // every run takes 10 minutes
    expect(await runStudy(plan(out), runner, { log: (l) => log.push(l), now })).toBe(true);
    expect(calls).toEqual([
      "train classifier:null",
      "oracle srresnet_m_ep:0",
      "train srresnet_m:1 resume",
      "train srresnet_m_ep:1",
      "oracle srresnet_m_ep:1",
    ]);
    expect(log[0]).toMatch(/^study: run 1\/5, classifier \(task classifier\) \(.*\): training; 3 runs to train$/);
    expect(log[1]).toMatch(/run 2\/5, srresnet_m seed 0 .*: done, skipped$/);
    expect(log[2]).toMatch(/run 3\/5, srresnet_m_ep seed 0 .*: evaluating with the oracle task/);
    expect(log).toContainEqual(
      expect.stringMatching(
        /run 4\/5, srresnet_m seed 1 .*: resuming from its last checkpoint; about 20 min 00 s left for 2 runs$/,
      ),
    );

    // Everything is done now: a second study trains nothing.
    const again = fakeRunner();
    expect(await runStudy(plan(out), again.runner, { log: () => {} })).toBe(true);
    expect(again.calls).toEqual([]);
  });

  it("stops at a stopped run and continues with it next time", async () => {
    const out = mkdtempSync(join(tmpdir(), "mio-study-"));
    const runs = plan(out, [m]);
    const first = fakeRunner(runs[0]?.id);
    expect(await runStudy(runs, first.runner, { log: () => {} })).toBe(false);
    expect(first.calls).toEqual(["train srresnet_m:0"]);
    interruptRun(runs[0] as StudyRun);
    const second = fakeRunner();
    expect(await runStudy(runs, second.runner, { log: () => {} })).toBe(true);
    expect(second.calls).toEqual(["train srresnet_m:0 resume", "train srresnet_m:1"]);
    expect(existsSync(join(runs[1]?.dir ?? "", "metrics.json"))).toBe(true);
  });
});
