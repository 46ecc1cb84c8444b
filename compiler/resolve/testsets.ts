// `testset` declarations → TestsetSpec: a test set of degradations no task trains on (the `unknown` group of
// `eval sets`), its degradations applied in order, each drawn per image like a task's.
//
//   testset mild {
//     title "Mild"
//     stands_for "NTIRE 2018 SR track 2, realistic mild x4"
//     degrade anisotropic_blur(kernel: 21, sigma_x: 0.6..2.0, sigma_y: 0.6..2.0, angle: 0..180),
//             bicubic_down_up(scale: 4),
//             gaussian_noise(sigma: round(1..4))
//   }
import type { SettingsDecl } from "../../grammar/ast.js";
import { codes, type Diagnostic } from "../../grammar/diagnostics.js";
import type { TestsetSpec } from "../schema/task.js";
import { degradation } from "./tasks.js";
import { Reader } from "./values.js";

const TESTSET_KEYS = ["title", "stands_for", "degrade"] as const;

export function resolveTestset(decl: SettingsDecl, diagnostics: Diagnostic[]): TestsetSpec | undefined {
  const r = new Reader(diagnostics);
  const before = diagnostics.length;
  const keyed = r.keyed(decl.settings, `testset '${decl.name.text}'`, TESTSET_KEYS);
  const degrade = keyed.get("degrade")?.[0];
  if (!degrade)
    diagnostics.push({
      code: codes.missingSetting,
      severity: "error",
      span: decl.name.span,
      message: `testset '${decl.name.text}' needs 'degrade'`,
      hint: "degrade motion_blur(length: odd(5..15), angle: 0..180), gaussian_noise(sigma: 2)",
    });
  const spec: Partial<TestsetSpec> = { name: decl.name.text, title: decl.name.text, standsFor: "" };
  const title = keyed.get("title")?.[0];
  if (title) r.attempt(() => (spec.title = r.str(r.single(title), "title")));
  const standsFor = keyed.get("stands_for")?.[0];
  if (standsFor) r.attempt(() => (spec.standsFor = r.str(r.single(standsFor), "stands_for")));
  if (degrade) {
    r.attempt(() => {
      const calls = r.positional(degrade);
      if (!calls.length)
        r.fail(codes.badValue, degrade.key.span, "degrade needs at least one degradation", "degrade jpeg(quality: 80)");
      const steps = calls.map((d) => r.attempt(() => degradation(r, d)));
      if (steps.every((s) => s !== undefined)) spec.degrade = steps;
    });
  }
  return diagnostics.length === before ? (spec as TestsetSpec) : undefined;
}
