import { describe, expect, it } from "vitest";
import { formatStep, lossCurveSvg, stageStarts, trainPoints } from "../../../runtime/report/plot.js";
import type { LogEntry } from "../../../runtime/report/run.js";
import { quickSpec } from "./synthetic.js";

const train = (step: number, loss: number, lr = 1e-4): LogEntry => ({
  type: "train",
  stage: 1,
  iter: step,
  step,
  loss,
  lr,
});

describe("loss curve", () => {
  const spec = quickSpec("seq_prompt");

  it("starts a stage where the previous stages' iterations end", () => {
    expect(stageStarts(spec).map((s) => s.step)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
    expect(stageStarts(spec)[6]?.tasks).toEqual(["sr", "blur", "noise", "jpeg", "rain", "haze", "dark"]);
  });

  it("draws a dashed line and a task label for each stage", () => {
    const svg = lossCurveSvg([train(50, 0.2), train(100, 0.1)], spec);
    expect(svg.match(/stroke-dasharray/g)?.length).toBe(6); // stage 1 starts at the axis
    expect(svg).toContain("stage 1: sr<");
    expect(svg).toContain("stage 7: sr blur noise jpeg rain haze dark<");
  });

  it("puts the loss on a log axis: a tenfold drop spans the same height at any level", () => {
    const svg = lossCurveSvg([train(1000, 1), train(2000, 0.1), train(3000, 0.01)], spec);
    const line = svg.split("\n").find((l) => l.includes('stroke="#111"') && l.startsWith("<polyline"));
    const ys = [...(line ?? "").matchAll(/[\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(3);
    expect((ys[1] as number) - (ys[0] as number)).toBeCloseTo((ys[2] as number) - (ys[1] as number), 1);
    expect(svg).toContain(">0.01<");
    expect(svg).toContain(">1<");
  });

  it("keeps the last entry of a step logged twice (a resumed run) and says when there is nothing to draw", () => {
    expect(trainPoints([train(50, 0.3), train(100, 0.2), train(50, 0.25)]).map((p) => p.loss)).toEqual([0.25, 0.2]);
    expect(lossCurveSvg([], spec)).toContain("no training entries in log.jsonl");
    const diverged = lossCurveSvg(
      [train(50, 0.2), { type: "train", stage: 1, iter: 100, step: 100, loss: null, lr: null }, train(150, 0.1)],
      spec,
    );
    const line = diverged.split("\n").find((l) => l.includes('stroke="#111"') && l.startsWith("<polyline"));
    expect(line?.match(/,/g)?.length).toBe(2); // the null loss is left out
  });

  it("labels steps compactly", () => {
    expect([0, 500, 1500, 250_000, 2_500_000].map(formatStep)).toEqual(["0", "500", "1.5k", "250k", "2.5M"]);
  });
});
