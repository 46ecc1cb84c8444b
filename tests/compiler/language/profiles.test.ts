// How profiles and `extends` combine settings (docs/language.md, "Profiles and extends"), stated on small experiments.
import { describe, expect, it } from "vitest";
import { UnknownProfile } from "../../../compiler/resolve/experiment.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import { check, expectDiagnostic } from "./helpers.js";

const header = "use stdlib/tasks\nuse stdlib/backbones/srresnet\nuse stdlib/prompts\n";

/** `base` is a small experiment with a data block, a sequential curriculum, a prompt and a `quick` profile. */
const base = `
experiment base {
  model SRResNet(feat: 8, blocks: 2)
  prompt adaptive { extractor FExt(nf: 8); sites body.*, conv_hr }
  data { train "a"; train "b", weight: 2; crop 64; batch 8 }
  curriculum sequential { order sr -> noise; stage_iters 100; final_iters 400; final_restarts 4 }
  profile quick { data { crop 32 } }
}
`;

/**
 * The experiments of `more`, in a file that uses base.mio. (base lives in its own file because `--profile` applies to
 * every experiment of the file it names, and base has no profile `q`.)
 */
const files = (more: string) => ({ "main.mio": `${header}use "./base.mio"\n${more}`, "base.mio": header + base });

function spec(more: string, name: string, profile?: string): ExperimentSpec {
  const r = check(files(more), { profile });
  expect(r.diagnostics.map((d) => `${d.code} ${d.span.start.line}:${d.span.start.col} ${d.message}`)).toEqual([]);
  const s = r.specs.get(name);
  if (!s) throw new Error(`no spec for ${name}`);
  return s;
}

const profiled = (profile: string, name = "base") =>
  spec(`experiment p { extends base\n profile q { ${profile} } }`, name === "base" ? "p" : name, "q");

describe("a profile", () => {
  it("replaces a setting", () =>
    expect(profiled("model SRResNet(feat: 4, blocks: 1)").model.args).toMatchObject({ feat: 4, blocks: 1 }));
  it("merges a block key by key", () =>
    expect(profiled("data { crop 16 }").data).toMatchObject({ crop: 16, batch: 8 }));
  it("merges a block with the same values", () => {
    const c = profiled("curriculum sequential { stage_iters 10 }").curriculum;
    expect(c.stages.map((s) => [s.iters, s.restarts])).toEqual([
      [10, 1],
      [400, 4],
    ]);
  });
  it("replaces a block with other values", () => {
    const c = profiled("curriculum mixed { tasks blur; iters 50 }").curriculum;
    expect(c).toEqual({ kind: "mixed", order: ["blur"], stages: [{ tasks: ["blur"], iters: 50, restarts: 1 }] });
  });
  it("merges the prompt and keeps its sites", () => {
    const p = profiled("prompt adaptive { extractor FExt(nf: 4) }").prompt;
    expect([p.dim, p.sites.map((s) => s.name)]).toEqual([4, ["body.0", "body.1", "conv_hr"]]);
  });
  it("replaces a repeatable key as a group", () =>
    expect(profiled('data { train "c" }').data.train).toEqual([{ path: "c", weight: 1 }]));
  it("adds a setting the experiment did not have", () => expect(profiled("seed 9").seed).toBe(9));
  it("is named in the spec", () => {
    const s = profiled("seed 9");
    expect([s.profile, s.profiles]).toEqual(["q", ["quick", "q"]]);
  });
  it("that does not exist is a usage error naming the ones that do", () =>
    expect(() => check(header + base, { profile: "slow" })).toThrow(
      "experiment 'base' has no profile 'slow' (its profiles: quick)",
    ));
  it("applies to every experiment of the file, so each must declare it", () =>
    expect(() =>
      check(`${header + base}experiment other { extends base\n profile q { seed 1 } }`, { profile: "q" }),
    ).toThrow(UnknownProfile));
  it("is checked even when not chosen", () =>
    expectDiagnostic(
      files("experiment p { extends base\n profile q { data { crop 4 } } }"),
      "MIO2009 6:26 crop must be >= 8, found 4",
    ));
});

describe("extends", () => {
  it("starts from the base and applies the experiment's own settings over it", () => {
    const s = spec("experiment wide { extends base\n model SRResNet(feat: 16, blocks: 2)\n data { batch 2 } }", "wide");
    expect(s.model.args).toMatchObject({ feat: 16 });
    expect(s.data).toMatchObject({ crop: 64, batch: 2 });
    expect(s.prompt.kind).toBe("adaptive");
    expect(s.curriculum.order).toEqual(["sr", "noise"]);
  });
  it("applies several bases in order", () => {
    const s = spec(
      "experiment a { extends base\n seed 1 }\nexperiment b { extends base\n seed 2\n data { crop 16 } }\nexperiment ab { extends a, b }",
      "ab",
    );
    expect([s.seed, s.data.crop]).toEqual([2, 16]);
  });
  it("merges profiles of the same name", () => {
    const s = spec("experiment v { extends base\n profile quick { data { batch 1 } } }", "v", "quick");
    expect(s.data).toMatchObject({ crop: 32, batch: 1 });
  });
  it("inherits the base's profiles", () =>
    expect(spec("experiment v { extends base }", "v", "quick").data.crop).toBe(32));
});
