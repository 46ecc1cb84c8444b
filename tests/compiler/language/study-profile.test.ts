// The study profile (`mioc study`, docs/training.md "The study") is the quick recipe evaluated on a larger central
// crop. A profile cannot extend another, so each pipeline repeats its quick settings under `study`: this test fails
// when the two drift apart (retune quick, then copy the change into study).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import { repoRoot } from "./helpers.js";

function specOf(file: string, profile: string): ExperimentSpec {
  const r = checkFile(join(repoRoot, "pipelines", file), { profile });
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  return [...r.specs.values()][0] as ExperimentSpec;
}

/** The spec without what the study profile may change: its name and the evaluation's central crop. */
function recipe(spec: ExperimentSpec) {
  const { profile, eval: ev, ...rest } = spec;
  const { center_crop, ...evalRest } = ev;
  return { ...rest, eval: evalRest };
}

const SRRESNET = ["m", "s", "m_ep", "s_ep", "m_ap", "s_ap"].map((v) => `srresnet_${v}.mio`);

describe("the study profile", () => {
  it.each(SRRESNET)("%s: the quick recipe, evaluated on the central 256×256", (file) => {
    const [quick, study] = [specOf(file, "quick"), specOf(file, "study")];
    expect(recipe(study)).toEqual(recipe(quick));
    expect([quick.eval.center_crop, study.eval.center_crop]).toEqual([128, 256]);
    expect(study.profile).toBe("study");
  });

  it("classifier.mio: the quick recipe as it is", () => {
    const [quick, study] = [specOf("classifier.mio", "quick"), specOf("classifier.mio", "study")];
    expect({ ...study, profile: "quick" }).toEqual(quick);
  });
});
