// `testset` declarations (docs/language.md, "Testsets"): a chain of degradations resolved into the spec's
// `testsets`, the `unknown` group of `eval sets`, and the mistakes a user can make in them.
import { describe, expect, it } from "vitest";
import { loadStdlibTestsets } from "../../../compiler/tasks.js";
import { check, expectDiagnostic } from "./helpers.js";

const TASKS = `task sr {
  degrade bicubic_down_up(scale: 4)
  out_dist bicubic_down_up(scale: 6)
}
task blur {
  degrade gaussian_blur(kernel: 7, sigma: 1)
  out_dist gaussian_blur(kernel: 7, sigma: 3)
}`;

const experiment = (evalSets: string) => `
experiment e {
  model SRResNet(feat: 8, blocks: 1)
  curriculum mixed {
    tasks sr, blur
    iters 10
  }
  eval { sets ${evalSets} }
}`;

describe("testset declarations", () => {
  it("resolve to a chain of degradations, each a checked call", () => {
    const src = `use stdlib/backbones/srresnet
${TASKS}
testset shaky {
  title "Shaky"
  stands_for "a phone at dusk"
  degrade motion_blur(length: odd(5..15), angle: 0..180),
          camera_noise(photons: round(50..200), read: 0.004)
}
${experiment("in_dist, unknown")}`;
    const r = check(src);
    expect(r.diagnostics.map((d) => d.message)).toEqual([]);
    const spec = r.specs.get("e");
    expect(spec?.eval.sets.map((s) => s.name)).toEqual(["in_dist", "unknown"]);
    expect(spec?.testsets).toEqual([
      {
        name: "shaky",
        title: "Shaky",
        standsFor: "a phone at dusk",
        degrade: [
          {
            fn: "motion_blur",
            params: { length: { dist: "odd", min: 5, max: 15 }, angle: { dist: "uniform", min: 0, max: 180 } },
          },
          {
            fn: "camera_noise",
            params: {
              photons: { dist: "uniform", min: 50, max: 200, decimals: 0 },
              read: { dist: "const", value: 0.004 },
            },
          },
        ],
      },
    ]);
  });

  it("of the stdlib are the paper's five, in Table 4's order", () => {
    expect(loadStdlibTestsets().map((t) => t.title)).toEqual(["Difficult", "Mild", "Wild", "Ntire20", "Toled"]);
  });

  it("need a degrade", () => expectDiagnostic('testset t { title "T" }', "MIO2008 1:9 testset 't' needs 'degrade'"));

  it("check each degradation of the chain where it is written", () => {
    expectDiagnostic(
      "testset t {\n  degrade dim(light: 0.5),\n          motion_blur(length: 8, angle: 0)\n}",
      "MIO2009 3:31 motion_blur.length must be an odd integer in 1..255, found 8",
    );
    expectDiagnostic("testset t { degrade dimm(light: 0.5) }", "MIO2001 1:21 unknown degradation 'dimm'");
    expectDiagnostic(
      "testset t { degrade camera_noise(photons: 0, read: 0) }",
      "MIO2009 1:43 camera_noise.photons must be a number > 0",
    );
  });

  it("are what 'sets unknown' needs: without one in scope it is MIO2009 at the word", () => {
    const src = `use stdlib/backbones/srresnet
${TASKS}
${experiment("in_dist, unknown")}`;
    expectDiagnostic(src, "MIO2009 17:24 eval sets 'unknown' needs testset declarations, and none is in scope");
    expectDiagnostic(
      src.replace("in_dist, unknown", "in_dist, unknwon"),
      "MIO2009 17:24 unknown test set group 'unknwon'",
    );
  });
});
