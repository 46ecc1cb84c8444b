// Each of the paper's pipelines maps to its Table 3 row (and Table 4's, where the paper has one), so `mioc report`
// quotes the paper's numbers beside a run of it; the row's training scale counts the pipeline's parameters.
import { describe, expect, it } from "vitest";
import {
  PAPER_OUTDIS_AVG,
  PAPER_SCALE,
  PAPER_TABLE3,
  PAPER_UNKNOWN,
  paperVariant,
} from "../../../runtime/report/paper.js";
import { quickSpec } from "./synthetic.js";

describe.each([
  ["srresnet_m", "SRResNet-M"],
  ["srresnet_s", "SRResNet-S"],
  ["srresnet_m_ep", "SRResNet-M+EP"],
  ["srresnet_s_ep", "SRResNet-S+EP"],
  ["srresnet_m_ap", "SRResNet-M+AP"],
  ["srresnet_s_ap", "SRResNet-S+AP"],
  ["swinir_m", "SwinIR-M"],
  ["swinir_s", "SwinIR-S"],
  ["swinir_m_ep", "SwinIR-M+EP"],
  ["swinir_s_ep", "SwinIR-S+EP"],
  ["swinir_m_ap", "SwinIR-M+AP"],
  ["swinir_s_ap", "SwinIR-S+AP"],
])("pipelines/%s.mio", (pipeline, row) => {
  it(`is the paper's ${row}`, () => {
    const spec = quickSpec(pipeline);
    expect(paperVariant(spec)).toBe(row);
    expect(PAPER_TABLE3[row]).toHaveLength(8);
    expect(PAPER_SCALE[spec.model.name]?.params[spec.prompt.kind]).toBeGreaterThan(0);
  });
});

it("Table 4 has the M, S+EP and S+AP rows of both backbones", () => {
  const rows = ["SRResNet-M", "SRResNet-S+AP", "SRResNet-S+EP", "SwinIR-M", "SwinIR-S+AP", "SwinIR-S+EP"];
  expect(Object.keys(PAPER_OUTDIS_AVG).sort()).toEqual(rows);
  expect(Object.keys(PAPER_UNKNOWN).sort()).toEqual(rows);
});

// Backbones without Table 3 rows still quote the reference's scale, its parameter counts (the exact integers in
// tests/compiler/language/specs.test.ts) rounded to thousands.
it.each([
  ["restormer_s", 26_126_644],
  ["restormer_s_ep", 26_547_578],
  ["restormer_s_ap", 26_572_666],
  ["uformer_s", 50_880_946],
  ["uformer_s_ep", 51_457_976],
  ["uformer_s_ap", 51_489_336],
  ["promptir_m", 35_376_967],
])("pipelines/%s.mio: no paper row, the reference's scale (%i parameters)", (pipeline, params) => {
  const spec = quickSpec(pipeline);
  expect(paperVariant(spec)).toBeUndefined();
  expect(PAPER_SCALE[spec.model.name]?.params[spec.prompt.kind]).toBe(Math.round(params / 1e3) * 1e3);
});
