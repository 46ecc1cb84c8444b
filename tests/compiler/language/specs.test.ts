// Golden specs: every pipeline, with and without `--profile quick`, resolves to the committed spec in __snapshots__/
// (a change to the language, the stdlib or a pipeline shows up as a diff there). Then the facts the paper fixes:
// the SRResNet+prompt parameter counts, the sequential curriculum, and the run id's stability.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { printSpec, specHash, validateSpec } from "../../../compiler/schema/emit.js";
import { type ExperimentSpec, extractorParams } from "../../../compiler/schema/experiment.js";
import { repoRoot } from "./helpers.js";

const pipelines = readdirSync(join(repoRoot, "pipelines"))
  .filter((f) => f.endsWith(".mio"))
  .sort();

/** The one experiment of a pipeline file, checked without a diagnostic. */
function specOf(file: string, profile?: string, text?: string): ExperimentSpec {
  const path = join(repoRoot, "pipelines", file);
  const r = checkFile(path, { profile, ...(text === undefined ? {} : { text }) });
  expect(
    r.diagnostics.map((d) => `${d.code} ${d.span.file}:${d.span.start.line}:${d.span.start.col} ${d.message}`),
  ).toEqual([]);
  expect(r.specs.size).toBe(1);
  return [...r.specs.values()][0] as ExperimentSpec;
}

const name = (file: string) => file.replace(/\.mio$/, "");

it("finds the paper's seven SRResNet pipelines", () =>
  expect(pipelines).toEqual(
    expect.arrayContaining([
      "seq_prompt.mio",
      "srresnet_m.mio",
      "srresnet_m_ap.mio",
      "srresnet_m_ep.mio",
      "srresnet_s.mio",
      "srresnet_s_ap.mio",
      "srresnet_s_ep.mio",
    ]),
  ));

it("finds the paper's six SwinIR pipelines", () =>
  expect(pipelines).toEqual(
    expect.arrayContaining([
      "swinir_m.mio",
      "swinir_m_ap.mio",
      "swinir_m_ep.mio",
      "swinir_s.mio",
      "swinir_s_ap.mio",
      "swinir_s_ep.mio",
    ]),
  ));

it("finds the PromptIR pipelines", () =>
  expect(pipelines).toEqual(expect.arrayContaining(["promptir_m.mio", "promptir_s.mio"])));

it("finds the paper's six Restormer pipelines", () =>
  expect(pipelines).toEqual(
    expect.arrayContaining([
      "restormer_m.mio",
      "restormer_m_ap.mio",
      "restormer_m_ep.mio",
      "restormer_s.mio",
      "restormer_s_ap.mio",
      "restormer_s_ep.mio",
    ]),
  ));

it("finds the paper's six Uformer pipelines", () =>
  expect(pipelines).toEqual(
    expect.arrayContaining([
      "uformer_m.mio",
      "uformer_m_ap.mio",
      "uformer_m_ep.mio",
      "uformer_s.mio",
      "uformer_s_ap.mio",
      "uformer_s_ep.mio",
    ]),
  ));

describe.each(pipelines)("%s", (file) => {
  it.each([
    ["", undefined],
    [".quick", "quick"],
  ])("matches __snapshots__/%s", async (suffix, profile) => {
    const spec = specOf(file, profile);
    expect(validateSpec(spec)).toEqual([]);
    expect(spec.profile).toBe(profile ?? null);
    await expect(printSpec(spec)).toMatchFileSnapshot(`__snapshots__/${name(file)}${suffix}.spec.json`);
  });
});

describe("seq_prompt.mio", () => {
  it.each([undefined, "quick"])(
    "equals srresnet_s_ap.mio except its name, sources and quick task weights (profile %s)",
    (profile) => {
      const { name: a, sources: sa, profiles: pa, ...full } = specOf("seq_prompt.mio", profile);
      const { name: b, sources: sb, profiles: pb, ...composed } = specOf("srresnet_s_ap.mio", profile);
      expect([a, b]).toEqual(["seq_prompt", "srresnet_s_ap"]);
      expect(Object.keys(sa)).not.toEqual(Object.keys(sb));
      // The SRResNet pipelines also declare the study profile (`mioc study`), which seq_prompt has no use for.
      expect(pb).toEqual([...pa, "study"]);
      // The README's job alone weighs the mild tasks in its quick profile (docs/training.md, "The quick profile"): the
      // study's six pipelines keep one recipe between them.
      const { task_weights, ...train } = full.train;
      expect(task_weights).toEqual(profile === "quick" ? { blur: 2, jpeg: 3, sr: 2 } : undefined);
      expect({ ...full, train }).toEqual(composed);
    },
  );

  it("has seven cumulative stages in the paper's order: 250k each, then 1M with 4 restarts", () => {
    const c = specOf("seq_prompt.mio").curriculum;
    const order = ["sr", "blur", "noise", "jpeg", "rain", "haze", "dark"];
    expect(c.kind).toBe("sequential");
    expect(c.order).toEqual(order);
    expect(c.stages).toEqual(
      order.map((_, i) => ({
        tasks: order.slice(0, i + 1),
        iters: i < 6 ? 250_000 : 1_000_000,
        restarts: i < 6 ? 1 : 4,
      })),
    );
    expect(c.stages.reduce((n, s) => n + s.iters, 0)).toBe(2_500_000);
  });

  it("keeps the curriculum's proportions in the quick profile", () => {
    const c = specOf("seq_prompt.mio", "quick").curriculum;
    expect(c.stages.map((s) => s.tasks.length)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(c.stages.at(-1)?.iters).toBe(4 * (c.stages[0]?.iters ?? 0));
  });
});

describe("parameter counts (docs/training.md)", () => {
  const total = (s: ExperimentSpec) => s.model.params + extractorParams(s.prompt) + s.prompt.modulationParams;

  /** Each backbone's paper configuration and parameter count (docs/training.md), as every pipeline on it has them. */
  const paperModels: Record<string, [Record<string, number>, number]> = {
    SRResNet: [{ feat: 64, blocks: 16 }, 1_222_147],
    SwinIR: [{ embed: 180, groups: 6, depth: 6, heads: 6, window: 8, feat: 64 }, 11_604_775],
    Restormer: [{ dim: 48, l1: 4, l2: 6, l3: 6, l4: 8, refinement: 4, pad: 64 }, 26_126_644],
    PromptIR: [{ dim: 48, l1: 4, l2: 6, l3: 6, l4: 8, refinement: 4 }, 35_376_967],
    Uformer: [{ embed: 32, window: 8, e2: 8, bottleneck: 2, d0: 8, modulator: 1 }, 50_880_946],
  };

  it("every pipeline's model is its backbone's paper configuration: SRResNet 1,222,147, SwinIR 11,604,775, Restormer 26,126,644, PromptIR 35,376,967, Uformer 50,880,946", () => {
    for (const file of pipelines.filter((f) => f !== "classifier.mio")) {
      const spec = specOf(file);
      const [args, params] = paperModels[spec.model.name] ?? [{}, Number.NaN];
      expect(spec.model.args, file).toMatchObject(args);
      expect(spec.model.params, file).toBe(params);
    }
  });

  it("the task classifier has 188,551 parameters and one class per task, in the reference's label order", () => {
    const spec = specOf("classifier.mio");
    expect(spec.model.params).toBe(188_551);
    expect(spec.tasks.map((t) => t.name)).toEqual(["blur", "noise", "jpeg", "rain", "haze", "dark", "sr"]);
    expect(spec.train.loss).toEqual({ name: "cross_entropy", eps: 0, double_softmax: true });
  });

  it.each([
    ["srresnet_m.mio", "none", 1_222_147],
    ["srresnet_s.mio", "none", 1_222_147],
    ["srresnet_m_ep.mio", "explicit", 1_441_033],
    ["srresnet_s_ep.mio", "explicit", 1_441_033],
    ["srresnet_m_ap.mio", "adaptive", 1_447_305],
    ["srresnet_s_ap.mio", "adaptive", 1_447_305],
    ["seq_prompt.mio", "adaptive", 1_447_305],
    ["swinir_m.mio", "none", 11_604_775],
    ["swinir_s.mio", "none", 11_604_775],
    ["swinir_m_ep.mio", "explicit", 11_854_341],
    ["swinir_s_ep.mio", "explicit", 11_854_341],
    ["swinir_m_ap.mio", "adaptive", 11_860_613],
    ["swinir_s_ap.mio", "adaptive", 11_860_613],
    ["promptir_m.mio", "none", 35_376_967],
    ["promptir_s.mio", "none", 35_376_967],
    // Restormer_EP/AP: four F_ext nets (nf 64) and six scale/shift pairs; counted in PyTorch by
    // scripts/fixtures/restormer_golden.py (the reference's 26.548M / 26.573M).
    ["restormer_m.mio", "none", 26_126_644],
    ["restormer_s.mio", "none", 26_126_644],
    ["restormer_m_ep.mio", "explicit", 26_547_578],
    ["restormer_s_ep.mio", "explicit", 26_547_578],
    ["restormer_m_ap.mio", "adaptive", 26_572_666],
    ["restormer_s_ap.mio", "adaptive", 26_572_666],
    // Uformer_EP/AP: five F_ext nets (nf 64) and six scale/shift pairs; counted in PyTorch by
    // scripts/fixtures/uformer_golden.py (the reference's 51.458M / 51.489M).
    ["uformer_m.mio", "none", 50_880_946],
    ["uformer_s.mio", "none", 50_880_946],
    ["uformer_m_ep.mio", "explicit", 51_457_976],
    ["uformer_s_ep.mio", "explicit", 51_457_976],
    ["uformer_m_ap.mio", "adaptive", 51_489_336],
    ["uformer_s_ap.mio", "adaptive", 51_489_336],
  ])("%s (%s prompts): %i with the extractor and the scale/shift layers", (file, kind, params) => {
    const spec = specOf(file);
    expect(spec.prompt.kind).toBe(kind);
    expect(total(spec)).toBe(params);
  });

  it("prompts are wired to all 18 sites: 16 blocks, conv_hr (64 channels) and conv_last (3)", () => {
    const sites = specOf("seq_prompt.mio").prompt.sites;
    expect(sites).toHaveLength(18);
    expect(sites.slice(-3)).toEqual([
      { name: "body.15", channels: 64 },
      { name: "conv_hr", channels: 64 },
      { name: "conv_last", channels: 3 },
    ]);
  });

  it("SwinIR's prompts are wired to its 9 sites and its extractor is labelled F_ext_net, SwinIR_EP/AP's", () => {
    for (const file of ["swinir_m_ep.mio", "swinir_s_ap.mio"]) {
      for (const profile of [undefined, "quick"]) {
        const p = specOf(file, profile).prompt;
        expect(p.extractor?.label).toBe("F_ext_net");
        expect(p.sites.map((x) => x.name)).toEqual([
          ...[0, 1, 2, 3, 4, 5].slice(0, profile ? 2 : 6).map((g) => `layers.${g}`),
          "conv_after_body",
          "conv_before_upsample",
          "conv_last",
        ]);
      }
    }
  });

  it("Restormer_EP/AP: four extractors F_ext_net1..4, each feeding the reference's sites, in every profile", () => {
    for (const file of ["restormer_m_ep.mio", "restormer_s_ap.mio"]) {
      for (const profile of [undefined, "quick"]) {
        const p = specOf(file, profile).prompt;
        expect(p.extractor).toBeUndefined();
        expect(p.extractors?.map((e) => [e.label, e.name, e.dim, e.sites])).toEqual([
          ["F_ext_net1", "RestormerFExt", profile ? 16 : 64, ["latent"]],
          ["F_ext_net2", "RestormerFExt", profile ? 16 : 64, ["decoder_level3"]],
          ["F_ext_net3", "RestormerFExt", profile ? 16 : 64, ["decoder_level2", "decoder_level1", "refinement"]],
          ["F_ext_net4", "RestormerFExt", profile ? 16 : 64, ["output"]],
        ]);
        expect(p.sites.map((x) => x.name)).toEqual(p.extractors?.flatMap((e) => e.sites));
      }
    }
  });

  it("Uformer_EP/AP: five extractors F_ext_net1..5 on the bottleneck, decoders 0-3 and the output, in every profile", () => {
    for (const file of ["uformer_m_ep.mio", "uformer_s_ep.mio", "uformer_m_ap.mio", "uformer_s_ap.mio"]) {
      for (const profile of [undefined, "quick"]) {
        const p = specOf(file, profile).prompt;
        const nf = profile ? 16 : 64;
        expect(p.extractor).toBeUndefined();
        expect(p.extractors?.map((e) => [e.label, e.name, e.dim, e.inChannels, e.sites])).toEqual(
          [["conv", "decoderlayer_0"], ["decoderlayer_1"], ["decoderlayer_2"], ["decoderlayer_3"], ["output_proj"]].map(
            (sites, i) => [`F_ext_net${i + 1}`, "UformerFExt", nf, file.includes("_ep") ? 1 : 3, sites],
          ),
        );
        // The paper's sites' channels (embed 32): 16, 16, 8, 4 and 2 × embed, then the 3 output channels.
        if (!profile) expect(p.sites.map((x) => x.channels)).toEqual([512, 512, 256, 128, 64, 3]);
        expect(p.sites.map((x) => x.name)).toEqual(p.extractors?.flatMap((e) => e.sites));
      }
    }
  });

  it("Uformer-S+EP/AP: uformer_s's curriculum and recipe (AdamW 2e-4, weight decay 0.02, eta_min 1e-6) in every profile", () => {
    const strip = ({ name: _, sources: __, prompt: ___, ...rest }: ExperimentSpec) => rest;
    for (const p of [undefined, "quick"])
      for (const f of ["uformer_s_ep.mio", "uformer_s_ap.mio"]) {
        const spec = specOf(f, p);
        expect(strip(spec)).toEqual(strip(specOf("uformer_s.mio", p)));
        expect(spec.curriculum.order).toEqual(["rain", "jpeg", "blur", "sr", "noise", "haze", "dark"]);
        if (!p) {
          expect(spec.train.optimizer).toMatchObject({
            name: "adamw",
            lr: 2e-4,
            betas: [0.9, 0.99],
            weight_decay: 0.02,
          });
          expect(spec.train.schedule).toEqual({ name: "cosine_restarts", eta_min: 1e-6 });
        }
      }
  });

  it("Restormer-S (+EP/AP): the reference's Restormer order, six stages of 100k, then 400k in 4 periods; quick 1000× shorter", () => {
    for (const file of ["restormer_s.mio", "restormer_s_ep.mio", "restormer_s_ap.mio"]) {
      const spec = specOf(file);
      expect(spec.curriculum.order).toEqual(["rain", "jpeg", "blur", "sr", "noise", "haze", "dark"]);
      const full = spec.curriculum.stages.map((s) => [s.tasks.length, s.iters, s.restarts]);
      expect(full).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => [n, n < 7 ? 100_000 : 400_000, n < 7 ? 1 : 4]));
      const quick = specOf(file, "quick").curriculum.stages.map((s) => [s.tasks.length, s.iters, s.restarts]);
      expect(quick).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => [n, n < 7 ? 100 : 400, n < 7 ? 1 : 4]));
      expect(spec.train.optimizer).toMatchObject({ name: "adamw", lr: 2e-4, betas: [0.9, 0.99], weight_decay: 0 });
      expect(spec.train.schedule).toEqual({ name: "cosine_restarts", eta_min: 1e-7 });
      expect(spec.data.batch).toBe(8);
    }
  });

  it("SwinIR-S (+EP/AP): six stages of 100k, then 400k in 4 periods; the quick profile in the same proportions", () => {
    for (const file of ["swinir_s.mio", "swinir_s_ep.mio", "swinir_s_ap.mio"]) {
      const full = specOf(file).curriculum.stages.map((s) => [s.tasks.length, s.iters, s.restarts]);
      expect(full).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => [n, n < 7 ? 100_000 : 400_000, n < 7 ? 1 : 4]));
      const quick = specOf(file, "quick").curriculum.stages.map((s) => [s.tasks.length, s.iters, s.restarts]);
      expect(quick).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => [n, n < 7 ? 60 : 240, n < 7 ? 1 : 4]));
    }
    // The sequential variants differ from swinir_s only in their prompt (and name and sources).
    const strip = ({ name: _, sources: __, prompt: ___, ...rest }: ExperimentSpec) => rest;
    for (const p of [undefined, "quick"])
      for (const f of ["swinir_s_ep.mio", "swinir_s_ap.mio"])
        expect(strip(specOf(f, p))).toEqual(strip(specOf("swinir_s.mio", p)));
  });

  it("PromptIR: AdamW 2e-4, batch 8, the Restormer family's order; S is six stages of 100k, then 400k in 4", () => {
    const m = specOf("promptir_m.mio");
    expect(m.train.optimizer).toMatchObject({ name: "adamw", lr: 2e-4, betas: [0.9, 0.99], weight_decay: 0 });
    expect([m.data.batch, m.data.crop, m.train.schedule]).toEqual([8, 128, expect.objectContaining({ eta_min: 1e-7 })]);
    expect(m.curriculum.stages.map((s) => [s.iters, s.restarts])).toEqual([[1_000_000, 10]]);
    const s = specOf("promptir_s.mio").curriculum.stages;
    expect(s.map((x) => x.tasks.at(-1))).toEqual(["rain", "jpeg", "blur", "sr", "noise", "haze", "dark"]);
    expect(s.map((x) => [x.iters, x.restarts])).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => (n < 7 ? [1e5, 1] : [4e5, 4])),
    );
    const quick = specOf("promptir_s.mio", "quick").curriculum.stages.map((x) => [x.iters, x.restarts]);
    expect(quick).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => (n < 7 ? [60, 1] : [240, 4])));
  });

  it("the explicit prompt's extractor reads a 1-channel map, the adaptive one the 3-channel input", () => {
    expect(specOf("srresnet_m_ep.mio").prompt.extractor?.inChannels).toBe(1);
    expect(specOf("srresnet_m_ap.mio").prompt.extractor?.inChannels).toBe(3);
  });
});

describe("validateSpec", () => {
  const spec = () => structuredClone(specOf("srresnet_m.mio"));

  it("accepts every pipeline's spec, with and without the quick profile", () => {
    for (const file of pipelines)
      for (const p of [undefined, "quick"]) expect(validateSpec(specOf(file, p))).toEqual([]);
  });
  it("rejects an unknown key and names its JSON path", () => {
    const s = spec() as unknown as { train: Record<string, unknown> };
    s.train.warmup = 100;
    expect(validateSpec(s)).toEqual([{ path: "/train", message: "unknown key 'warmup'" }]);
  });
  it("rejects an unknown top-level key at /", () =>
    expect(validateSpec({ ...spec(), extra: 1 })).toEqual([{ path: "/", message: "unknown key 'extra'" }]));
  it("rejects a value out of range at its path", () => {
    const s = spec();
    s.train.optimizer.lr = 0;
    s.data.crop = 4;
    expect(validateSpec(s).map((p) => p.path)).toEqual(["/data/crop", "/train/optimizer/lr"]);
  });
  it("rejects a missing key", () => {
    const { seed, ...rest } = spec();
    expect(validateSpec(rest)).toEqual([{ path: "/", message: "must have required property 'seed'" }]);
  });
});

describe("specHash (the run id)", () => {
  const source = readFileSync(join(repoRoot, "pipelines", "seq_prompt.mio"), "utf8");
  const hash = (text: string, profile?: string) => specHash(specOf("seq_prompt.mio", profile, text));

  it("is 12 hex digits and stable across runs", () => {
    expect(hash(source)).toMatch(/^[0-9a-f]{12}$/);
    expect(hash(source)).toBe(hash(source));
    expect(specHash(specOf("seq_prompt.mio"))).toBe(hash(source));
  });
  it("does not change with comments, blank lines or indentation", () => {
    const reformatted = `// a new first line\n\n${source}`
      .replace(/^ {2}/gm, "    ")
      .replace(/seed 0/, "seed   0   // the seed")
      .replace(/\{\n/g, "{ /* opened */\n\n");
    expect(reformatted).not.toBe(source);
    expect(hash(reformatted)).toBe(hash(source));
  });
  it("changes when a value changes", () => {
    const changed = source.replace("seed 0", "seed 1");
    expect(changed).not.toBe(source);
    expect(hash(changed)).not.toBe(hash(source));
    expect(hash(source.replace("crop 128", "crop 96"))).not.toBe(hash(source));
  });
  it("differs between the full and the quick profile", () => expect(hash(source, "quick")).not.toBe(hash(source)));
});
