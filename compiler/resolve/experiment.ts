// `experiment` → ExperimentSpec: applies the chosen profile, elaborates the model and the prompt extractor, matches
// prompt sites, resolves tasks and the recipe sections, and fills defaults.
import type { Expr, Name, Setting, SettingsDecl, Span } from "../../grammar/ast.js";
import { codes, type Diagnostic, didYouMean, error } from "../../grammar/diagnostics.js";
import type { Scalar, TShape } from "../check/builtins.js";
import { Elaborator, imageShape, type SiteInfo, showSize, siteLayers, type Value } from "../check/elaborate.js";
import type { Module } from "../program.js";
import {
  type CallSpec,
  DEFAULT_EXTRACTOR_LABEL,
  type ExperimentSpec,
  evalTile,
  extractorParams,
  isClassifier,
  type PromptSpec,
  type SiteSpec,
  SPEC_VERSION,
} from "../schema/experiment.js";
import type { TaskSpec, TestsetSpec } from "../schema/task.js";
import type { DataRoots } from "./paths.js";
import {
  DATA_DEFAULTS,
  EVAL_DEFAULTS,
  gib,
  resolveCurriculum,
  resolveData,
  resolveEval,
  resolveTrain,
  TRAIN_DEFAULTS,
} from "./sections.js";
import { resolveTask } from "./tasks.js";
import { resolveTestset } from "./testsets.js";
import { Invalid, Reader } from "./values.js";

const EXPERIMENT_KEYS = [
  "extends",
  "seed",
  "model",
  "prompt",
  "data",
  "curriculum",
  "train",
  "eval",
  "profile",
] as const;

export interface ResolveOptions {
  profile?: string;
  sources: Record<string, string>;
  /** Where data paths may point (see paths.ts); without it they are not checked. */
  dataRoots?: DataRoots;
}

const profileName = (s: Setting): string | undefined =>
  s.key.text === "profile" && s.values[0]?.value.kind === "ref" ? s.values[0].value.path.join(".") : undefined;

/** Lists the profiles an experiment declares or inherits (for `--profile` errors and the spec). */
export function profileNames(settings: Setting[]): string[] {
  return [...new Set(settings.flatMap((s) => profileName(s) ?? []))];
}

/**
 * `extends a, b` starts from a's settings, overlays b's, then the experiment's own (each merged like a profile),
 * so variants of an experiment are small diffs. Profiles with the same name merge too.
 */
export function flattenExtends(decl: SettingsDecl, mod: Module, r: Reader, visiting: string[] = []): Setting[] {
  const own = decl.settings.filter((s) => s.key.text !== "extends");
  let acc: Setting[] = [];
  for (const ext of decl.settings.filter((s) => s.key.text === "extends")) {
    for (const d of r.attempt(() => r.positional(ext)) ?? []) {
      r.attempt(() => {
        const name = d.kind === "ident" ? d.name : r.fail(codes.badValue, d.span, "extends takes experiment names");
        const base = mod.scope.get(name);
        if (base?.kind !== "experiment") {
          const known = [...mod.scope.values()]
            .filter((x) => x.kind === "experiment" && x !== decl)
            .map((x) => x.name.text);
          r.fail(
            codes.unknownName,
            d.span,
            `unknown experiment '${name}'`,
            didYouMean(name, known) ?? 'import its file with use "./file.mio"',
          );
        }
        if (base === decl || visiting.includes(name))
          r.fail(codes.importCycle, d.span, `experiment '${decl.name.text}' extends itself through '${name}'`);
        acc = overlay(acc, flattenExtends(base, mod, r, [...visiting, decl.name.text]));
      });
    }
  }
  return overlay(acc, own);
}

function overlay(base: Setting[], over: Setting[]): Setting[] {
  const profiles = new Map<string, Setting>();
  const unnamed: Setting[] = []; // `profile "quick" { ... }`: kept, so resolveExperiment reports it
  for (const s of [...base, ...over]) {
    if (s.key.text !== "profile") continue;
    const name = profileName(s);
    if (name === undefined) {
      unnamed.push(s);
      continue;
    }
    const prev = profiles.get(name);
    profiles.set(name, prev ? { ...s, block: applyProfile(prev.block ?? [], s.block ?? []) } : s);
  }
  const plain = applyProfile(
    base.filter((s) => s.key.text !== "profile"),
    over.filter((s) => s.key.text !== "profile"),
  );
  return [...plain, ...profiles.values(), ...unnamed];
}

/**
 * Applies a profile: each of its settings replaces the experiment's setting with the same key, except that two
 * blocks merge key by key (`profile quick { data { crop 48 } }` changes only the crop).
 */
export function applyProfile(base: Setting[], profile: Setting[]): Setting[] {
  const out = base.filter((s) => s.key.text !== "profile");
  const keys = [...new Set(profile.map((s) => s.key.text))];
  for (const key of keys) {
    const group = profile.filter((s) => s.key.text === key);
    const at = out.findIndex((s) => s.key.text === key);
    const old = out.filter((s) => s.key.text === key);
    const o = group[0] as Setting;
    // Repeatable keys (`train` inside data, `stage`) are replaced as a group; a lone block merges key by key.
    const merged =
      group.length === 1 &&
      old.length === 1 &&
      old[0]?.block &&
      o.block &&
      (o.values.length === 0 || sameValues(old[0], o))
        ? [{ ...old[0], block: applyProfile(old[0].block, o.block) }]
        : group;
    if (at < 0) out.push(...merged);
    else out.splice(0, out.length, ...out.slice(0, at), ...merged, ...out.slice(at).filter((s) => s.key.text !== key));
  }
  return out;
}

function sameValues(a: Setting, b: Setting): boolean {
  const strip = (s: Setting) => JSON.stringify(s.values, (k, v) => (k === "span" ? undefined : v));
  return strip(a) === strip(b);
}

export function resolveExperiment(
  decl: SettingsDecl,
  mod: Module,
  diagnostics: Diagnostic[],
  options: ResolveOptions,
): ExperimentSpec | undefined {
  const before = diagnostics.length;
  const r = new Reader(diagnostics);
  const flat = flattenExtends(decl, mod, r);
  const profiles = profileNames(flat);
  let settings = flat;
  const profileSettings = flat.filter((s) => s.key.text === "profile");
  for (const p of profileSettings) {
    r.attempt(() => {
      const d = r.single(p);
      if (d.kind !== "ident") return r.fail(codes.badValue, d.span, "a profile needs a name", "profile quick { ... }");
      if (!p.block) r.fail(codes.badValue, p.key.span, `profile '${d.name}' needs a block of settings`);
    });
  }
  if (options.profile !== undefined) {
    const chosen = profileSettings.find(
      (s) => s.values[0]?.value.kind === "ref" && s.values[0].value.path.join(".") === options.profile,
    );
    if (!chosen) throw new UnknownProfile(options.profile, decl.name.text, profiles);
    settings = applyProfile(flat, chosen.block ?? []);
  }

  const k = r.keyed(settings, `experiment '${decl.name.text}'`, EXPERIMENT_KEYS, ["profile"]);
  const get = (key: string) => k.get(key)?.[0];
  const seedS = get("seed");
  const seed = (seedS && r.attempt(() => r.num(r.single(seedS), "seed", { int: true, min: 0 }))) || 0;

  const knownTasks = [...mod.scope.values()].filter((d) => d.kind === "task").map((d) => d.name.text);
  const required = (key: string, example: string) => {
    const s = get(key);
    if (!s)
      diagnostics.push(
        error(codes.missingSetting, decl.name.span, `experiment '${decl.name.text}' needs a ${key}`, example),
      );
    return s;
  };
  const curriculumS = required("curriculum", "curriculum sequential { order sr -> blur ... }");
  const curriculum = curriculumS ? resolveCurriculum(r, curriculumS, knownTasks) : undefined;
  // The loss decides what the model must return: an image, or (cross_entropy) one score per task.
  const trainS = get("train");
  const train = trainS ? resolveTrain(r, trainS.block ?? [], curriculum?.curriculum.order) : TRAIN_DEFAULTS;
  const classes = isClassifier({ train }) ? (curriculum?.curriculum.order.length ?? 0) : undefined;
  // Data and eval come before the model: it is checked at the sizes they give (the crop, the eval tile).
  // A mistake in them leaves the sizes unchecked rather than checked at a size the user did not mean.
  const beforeSizes = diagnostics.length;
  const dataS = get("data");
  const data = dataS ? resolveData(r, dataS.block ?? [], options.dataRoots) : DATA_DEFAULTS;
  const evalS = get("eval");
  const evaluation = evalS ? resolveEval(r, evalS.block ?? [], options.dataRoots) : EVAL_DEFAULTS;
  const sizes = diagnostics.length === beforeSizes ? { data, eval: evaluation } : undefined;
  const modelS = required("model", "model SRResNet(feat: 64, blocks: 16)");
  const model = modelS ? resolveModel(r, modelS, mod, sizes, classes) : undefined;
  const promptS = get("prompt");
  const prompt = promptS
    ? resolvePrompt(r, promptS, mod, model, sizes?.data)
    : { kind: "none" as const, sites: [], modulationParams: 0 };
  // Training updates weights: a model without any (`return lq`), and no prompt that has some, has nothing to learn.
  if (modelS && model && model.params + extractorParams(prompt) + prompt.modulationParams === 0)
    diagnostics.push(
      error(
        codes.badOutput,
        modelS.values[0]?.span ?? modelS.key.span,
        `'${model.name}' has no parameters: there is nothing to train`,
        "a model needs at least one layer with weights, e.g. a conv",
      ),
    );
  if (classes !== undefined && promptS && prompt.kind !== "none")
    diagnostics.push(
      error(
        codes.badPrompt,
        promptS.key.span,
        "a task classifier (loss cross_entropy) takes no prompt",
        "remove the prompt, or train a restoration loss (l1, mse, charbonnier)",
      ),
    );

  for (const [key, s] of [
    ["data", dataS],
    ["train", trainS],
    ["eval", evalS],
  ] as const) {
    if (s?.values.length)
      diagnostics.push(
        error(codes.badValue, s.values[0]?.span ?? s.span, `'${key}' takes a block, not values`, `${key} { ... }`),
      );
  }

  const tasks: TaskSpec[] = [];
  for (const name of curriculum?.curriculum.order ?? []) {
    const decl = mod.scope.get(name);
    if (decl?.kind !== "task") continue;
    const t = resolveTask(decl, diagnostics);
    if (t) tasks.push(t);
  }

  const testsets: TestsetSpec[] = [];
  for (const decl of mod.scope.values()) {
    if (decl.kind !== "testset") continue;
    const t = resolveTestset(decl, diagnostics);
    if (t) testsets.push(t);
  }
  // `sets ..., unknown` with nothing to evaluate in it, reported at the word `unknown`.
  const unknownValue = evalS?.block
    ?.filter((s) => s.key.text === "sets")
    .flatMap((s) => s.values)
    .find((v) => v.value.kind === "ref" && v.value.path.join(".") === "unknown");
  if (unknownValue && testsets.length === 0)
    diagnostics.push(
      error(
        codes.badValue,
        unknownValue.span,
        "eval sets 'unknown' needs testset declarations, and none is in scope",
        "use stdlib/tasks (it brings stdlib/unknown's five sets), or declare a testset",
      ),
    );

  if (diagnostics.length !== before || !model || !curriculum) return undefined;
  return {
    version: SPEC_VERSION,
    name: decl.name.text,
    profile: options.profile ?? null,
    profiles,
    seed,
    sources: options.sources,
    model: { name: model.name, args: model.args, params: model.params, sites: model.sites.map(siteSpec) },
    prompt,
    tasks,
    testsets,
    data,
    curriculum: curriculum.curriculum,
    train,
    eval: evaluation,
  };
}

/** `--profile` names a profile the experiment does not declare: a usage error. */
export class UnknownProfile extends Error {
  constructor(
    readonly profile: string,
    readonly experiment: string,
    readonly known: string[],
  ) {
    const hint =
      didYouMean(profile, known) ?? (known.length ? `its profiles: ${known.join(", ")}` : "it declares no profiles");
    super(`experiment '${experiment}' has no profile '${profile}' (${hint})`);
  }
}

const siteSpec = (s: SiteInfo): SiteSpec => ({ name: s.name, channels: s.channels });

interface ModelResult {
  name: string;
  args: Record<string, Scalar>;
  params: number;
  sites: SiteInfo[];
  /** Its parameter names, for the prompt's to be told apart from. */
  paramNames: string[];
}

/**
 * The one call of a setting. Only a prompt extractor takes a label (`extractor F_ext_net: SwinFExt`, the prefix of
 * its parameter names); on a model or classifier it would name nothing, so it is refused rather than ignored.
 */
function callExpr(
  r: Reader,
  s: Setting,
  labelled = false,
): { e: Extract<Expr, { kind: "call" | "ref" }>; label?: Name } {
  const v = s.values[0];
  if (!v || s.values.length !== 1)
    return r.fail(codes.badValue, s.key.span, `'${s.key.text}' takes one call`, `${s.key.text} Name(arg: value)`);
  if (v.value.kind !== "call" && v.value.kind !== "ref")
    return r.fail(codes.badValue, v.span, `'${s.key.text}' takes a call`, `${s.key.text} Name(arg: value)`);
  // `extractor F_ext_net: SwinFExt(...)` reads as a named setting value: the name is the label.
  if (v.name && !labelled)
    r.fail(
      codes.badArguments,
      v.name.span,
      `'${s.key.text}' takes no label: its parameters are named by its own layers`,
      "only a prompt extractor takes one (extractor F_ext_net: SwinFExt)",
    );
  return { e: v.value, ...(v.name ? { label: v.name } : {}) };
}

/** The most trainable parameters a model (or prompt extractor, or classifier) may have: 4 GiB of float32 weights. */
export const MAX_PARAMS = 2 ** 30;

/** The input size a call is checked at, what it stands for (for messages), and the batch it runs at. */
interface Sizing {
  size: number;
  context: string;
  batch: number;
}

/** The input size of training: the crop, at the batch. */
const trainingSizing = (data: ExperimentSpec["data"]): Sizing => ({
  size: data.crop,
  context: `the ${data.crop}×${data.crop} training crop`,
  batch: data.batch,
});

/**
 * Elaborates a backbone or block call from a setting on an input of `channels` (at `sizing`'s size when given);
 * reports its diagnostics; returns what it built.
 */
function elaborate(
  r: Reader,
  s: Setting,
  mod: Module,
  kind: "backbone" | "block",
  channels: number,
  sizing?: Sizing,
  labelled = false,
) {
  const { e, label } = callExpr(r, s, labelled);
  const name = e.kind === "call" ? e.callee.join(".") : e.path.join(".");
  const decl = mod.scope.get(name);
  if (decl?.kind !== kind) {
    const candidates = [...mod.scope.values()].filter((d) => d.kind === kind).map((d) => d.name.text);
    const what = kind === "backbone" ? "backbone" : "block";
    const found = decl ? ` ('${name}' is a ${decl.kind})` : "";
    r.fail(
      codes.unknownName,
      e.span,
      `unknown ${what} '${name}'${found}`,
      didYouMean(name, candidates) ??
        (candidates.length ? `known: ${candidates.join(", ")}` : `declare one, or use the stdlib module that has it`),
    );
  }
  // What an experiment names is what it trains, so it must compile, not only check.
  const el = new Elaborator(mod.scope, {
    compiled: true,
    ...(sizing ? { sizeContext: sizing.context, batch: sizing.batch } : {}),
  });
  const before = el.diagnostics.length;
  const bound = el.tryBind(decl, e.kind === "call" ? e.args : [], e.span);
  const input: Value = {
    t: "tensor",
    shape: imageShape(channels, sizing ? [sizing.size, sizing.size] : undefined),
  };
  const out = bound ? el.run(decl, bound, [input], "", e.span) : undefined;
  // The call that cannot compile may sit in a library module; the note leads back to the experiment that uses it.
  for (const d of el.diagnostics)
    if (d.code === codes.uncompilable) d.notes = [{ span: e.span, message: `the experiment compiles '${name}' here` }];
  r.diagnostics.push(...el.diagnostics);
  if (el.diagnostics.length !== before || !bound) throw new Invalid();
  const args: Record<string, Scalar> = {};
  for (const [k, v] of bound) {
    if (v.t === "num" && !Number.isFinite(v.v)) {
      const arg = e.kind === "call" ? e.args.find((a) => a.name?.text === k)?.value : undefined;
      r.fail(
        codes.badValue,
        arg?.span ?? e.span,
        `${name}.${k} must be a finite number, found ${arg?.kind === "number" ? arg.text : v.v}`,
        "beyond a 64-bit float's range (about 1.8e308) a number reads as infinity",
      );
    }
    if (v.t === "num" || v.t === "bool" || v.t === "str") args[k] = v.v;
  }
  const params = el.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  // Weights are float32 and every tensor of them must fit a device buffer: refused here, before anything runs.
  if (!(params <= MAX_PARAMS)) {
    const count = Number.isFinite(params) ? `${params.toPrecision(3)} parameters` : "more than 1.8e308 parameters";
    const bytes = Number.isFinite(params) ? ` (${gib(4 * params)} of float32 weights)` : "";
    r.fail(
      codes.badValue,
      e.span,
      `'${name}' has ${count}${bytes}, over the limit of 2^30 (${gib(4 * MAX_PARAMS)})`,
      "make it narrower or shallower",
    );
  }
  const paramNames = el.params.map((p) => p.name);
  return { name, args, params, sites: el.sites, out, span: e.span, label, paramNames };
}

/**
 * The experiment's model: a restoration backbone, or with `classes` a classifier returning that many scores. It is
 * checked at the training crop and, when evaluation restores tiles of another size, at the eval tile.
 */
function resolveModel(
  r: Reader,
  s: Setting,
  mod: Module,
  /** Undefined: data or eval have a mistake, and the model is checked without sizes. */
  at: Pick<ExperimentSpec, "data" | "eval"> | undefined,
  classes?: number,
): ModelResult | undefined {
  return r.attempt(() => {
    const m = checkModel(r, s, mod, at && trainingSizing(at.data), classes);
    const tile = at && evalTile(at);
    if (at && tile !== at.data.crop)
      checkModel(r, s, mod, { size: tile as number, context: `the ${tile}×${tile} eval tile`, batch: 1 }, classes);
    return m;
  });
}

/** Elaborates the model at one input size and checks what it returns. */
function checkModel(r: Reader, s: Setting, mod: Module, sizing: Sizing | undefined, classes?: number): ModelResult {
  const m = elaborate(r, s, mod, "backbone", 3, sizing);
  const o = m.out;
  const result = { name: m.name, args: m.args, params: m.params, sites: m.sites, paramNames: m.paramNames };
  if (classes !== undefined) {
    if (o?.t !== "tensor" || o.shape.kind !== "vector" || o.shape.c !== classes) {
      const got = o?.t === "tensor" ? `a ${o.shape.kind} with ${o.shape.c} channels` : "no tensor";
      r.fail(
        codes.badOutput,
        m.span,
        `a task classifier (loss cross_entropy) must return a vector of ${classes} class scores, one per task of ` +
          `the curriculum; '${m.name}' returns ${got}`,
        "end it with |> mean |> fc: linear(classes) |> softmax, and list the tasks in label order",
      );
    }
  } else {
    if (o?.t !== "tensor" || o.shape.kind !== "map" || o.shape.c !== 3 || o.shape.down !== 1) {
      const got =
        o?.t === "tensor"
          ? `a ${o.shape.kind} with ${o.shape.c} channels at 1/${o.shape.down} resolution`
          : "no tensor";
      r.fail(
        codes.badOutput,
        m.span,
        `a restoration backbone must return a 3-channel image at full resolution; '${m.name}' returns ${got}`,
      );
    }
    checkOutputSize(r, m.name, m.span, o.shape, sizing);
  }
  return result;
}

/** A restoration model returns an image of its input's size: an even kernel or a stride may have changed it. */
function checkOutputSize(r: Reader, name: string, span: Span, out: TShape, sizing: Sizing | undefined): void {
  if (!sizing || !out.size || (out.size[0] === sizing.size && out.size[1] === sizing.size)) return;
  r.diagnostics.push({
    ...error(
      codes.sizeMismatch,
      span,
      `'${name}' returns ${showSize(out.size)} for ${sizing.context}: a restoration model must keep its input's size`,
      "at stride 1 a conv keeps the size with an odd k and pad (k - 1) / 2; a stride s needs sides divisible by s",
    ),
    ...(out.resized ? { notes: [out.resized] } : {}),
  });
  throw new Invalid();
}

const PROMPT_KEYS = ["extractor", "sites", "maps", "classifier", "classifier_weights"] as const;

function resolvePrompt(
  r: Reader,
  s: Setting,
  mod: Module,
  /** Undefined when the model failed to check: its error explains any site, so none is matched. */
  model: ModelResult | undefined,
  /** The training data (its crop and batch), when the extractor's sizes are to be checked. */
  data: ExperimentSpec["data"] | undefined,
): PromptSpec {
  const none: PromptSpec = { kind: "none", sites: [], modulationParams: 0 };
  const kind = r.attempt(() => r.choice(r.single(s), "prompt kind", ["none", "explicit", "adaptive"] as const));
  if (!kind || kind === "none") {
    // An unknown kind is already reported; only a real `prompt none { ... }` is told it takes no settings.
    if (kind && s.block?.length)
      r.diagnostics.push(error(codes.badPrompt, s.key.span, "prompt none takes no settings"));
    return none;
  }
  // `extractor` repeats in the long form: labelled extractors, each with its own `{ sites ... }`.
  const k = r.keyed(s.block ?? [], `prompt ${kind}`, PROMPT_KEYS, ["extractor"]);
  const need = (key: string) =>
    k.get(key)?.[0] ?? r.fail(codes.missingSetting, s.key.span, `prompt ${kind} needs '${key}'`);
  return (
    r.attempt((): PromptSpec => {
      // Adaptive prompts read the degraded image (the crop, in training); explicit ones a 1-channel fixed map per
      // task, of the maps' size (unknown for maps read from a file).
      const inChannels = kind === "adaptive" ? 3 : 1;
      const mapsS = k.get("maps")?.[0];
      const maps = kind === "explicit" ? explicitMaps(r, mapsS) : undefined;
      const sizing: Sizing | undefined = !data
        ? undefined
        : kind === "adaptive"
          ? trainingSizing(data)
          : maps?.kind === "random"
            ? { size: maps.size, context: `the ${maps.size}×${maps.size} prompt map`, batch: data.batch }
            : undefined;
      const extS = k.get("extractor") ?? [need("extractor")];
      const long = extS.length > 1 || extS.some((e) => e.block);
      const feeds = long
        ? longFormFeeds(r, k, extS, mod, model, inChannels, sizing)
        : [shortFormFeed(r, need("sites"), extS[0] as Setting, mod, model, inChannels, sizing)];
      if (model) distinctNames(r, model, feeds);
      const sites = feeds.flatMap((f) => f.sites);
      const spec: PromptSpec = {
        kind,
        ...(long
          ? { extractors: feeds.map((f) => ({ ...f.call, dim: f.dim, sites: f.sites.map((x) => x.name) })) }
          : {
              extractor: f0Call(feeds),
              dim: feeds[0]?.dim,
            }),
        sites: sites.map(siteSpec),
        // Two Linear(dim, C) per site, from its extractor's vector: one for the scale, one for the shift.
        modulationParams: feeds.reduce(
          (n, f) => n + f.sites.reduce((m, x) => m + 2 * (f.dim * x.channels + x.channels), 0),
          0,
        ),
      };
      if (maps) {
        spec.maps = maps;
        const cls = k.get("classifier")?.[0];
        if (cls) {
          r.attempt(() => {
            const c = elaborate(r, cls, mod, "backbone", 3);
            if (c.out?.t !== "tensor" || c.out.shape.kind !== "vector") {
              const got = c.out?.t === "tensor" ? `a ${c.out.shape.kind}` : "nothing";
              r.fail(
                codes.badPrompt,
                c.span,
                `a task classifier must return a vector of class scores; '${c.name}' returns ${got}`,
                "end it with |> mean |> fc: linear(7) |> softmax",
              );
            }
            const w = k.get("classifier_weights")?.[0];
            spec.classifier = {
              name: c.name,
              args: c.args,
              weights: w ? r.str(r.single(w), "classifier_weights") : null,
            };
          });
        }
      } else {
        for (const key of ["maps", "classifier", "classifier_weights"]) {
          const bad = k.get(key)?.[0];
          if (bad)
            r.diagnostics.push(
              error(
                codes.badPrompt,
                bad.key.span,
                `'${key}' is for explicit prompts; an adaptive prompt is the input image itself`,
              ),
            );
        }
      }
      return spec;
    }) ?? none
  );
}

/** One checked extractor, the sites it feeds, and where the experiment chose them (for messages). */
interface Feed {
  /** The spec's call, with the label only when one was chosen. */
  call: CallSpec & { inChannels: number; label: string };
  dim: number;
  sites: SiteInfo[];
  sitesSpan: Span;
  ext: { name: string; paramNames: string[]; span: Span };
}

/** The short form's single extractor as the spec's `extractor`: the label only when one was chosen. */
function f0Call(feeds: Feed[]): NonNullable<PromptSpec["extractor"]> {
  const f = feeds[0] as Feed;
  const { label, ...call } = f.call;
  // Only a chosen label is written, so the spec (and run id) of an experiment without one is as before.
  return { ...call, ...(label !== DEFAULT_EXTRACTOR_LABEL ? { label } : {}) };
}

/** An extractor setting, checked: it must return a vector, whose width is the prompt dimension. */
function checkExtractor(r: Reader, s: Setting, mod: Module, inChannels: number, sizing: Sizing | undefined) {
  const ext = elaborate(r, s, mod, "block", inChannels, sizing, true);
  const o = ext.out;
  if (o?.t !== "tensor" || o.shape.kind !== "vector") {
    r.fail(
      codes.badPrompt,
      ext.span,
      `a prompt extractor must return a vector; '${ext.name}' returns ${o?.t === "tensor" ? `a ${o.shape.kind}` : "nothing"}`,
      "end it with |> mean",
    );
  }
  const call = { name: ext.name, args: ext.args, params: ext.params, inChannels };
  return { ext, dim: o.shape.c, call };
}

/** `extractor X` and `sites ...`: one extractor feeding every chosen site. */
function shortFormFeed(
  r: Reader,
  sitesS: Setting,
  s: Setting,
  mod: Module,
  model: ModelResult | undefined,
  inChannels: number,
  sizing: Sizing | undefined,
): Feed {
  const { ext, dim, call } = checkExtractor(r, s, mod, inChannels, sizing);
  const sites = model ? matchSites(r, sitesS, model.sites) : [];
  return {
    call: { ...call, label: ext.label?.text ?? DEFAULT_EXTRACTOR_LABEL },
    dim,
    sites,
    sitesSpan: sitesS.values[0]?.span ?? sitesS.key.span,
    ext,
  };
}

/**
 * `extractor L1: X { sites a, b }  extractor L2: Y { sites c }`: each labelled extractor feeds its own sites. A label
 * is required (it prefixes the parameters, and two default prefixes would clash), used once; each extractor feeds at
 * least one site and each site is fed by one extractor.
 */
function longFormFeeds(
  r: Reader,
  k: Map<string, Setting[]>,
  extS: Setting[],
  mod: Module,
  model: ModelResult | undefined,
  inChannels: number,
  sizing: Sizing | undefined,
): Feed[] {
  const outer = k.get("sites")?.[0];
  if (outer)
    r.diagnostics.push(
      error(
        codes.badPrompt,
        outer.key.span,
        "with several extractors, each names its sites in its own block",
        "extractor F_ext1: FExt { sites latent }",
      ),
    );
  const labels = new Map<string, Span>();
  const fedBy = new Map<string, string>();
  const feeds: Feed[] = [];
  for (const s of extS) {
    const feed = r.attempt((): Feed => {
      const v = s.values[0];
      const label = v?.name;
      if (!label)
        r.fail(
          codes.badArguments,
          v?.span ?? s.key.span,
          "with several extractors, each needs a label: the prefix of its parameters",
          `extractor F_ext1: ${v?.value.kind === "call" ? v.value.callee.join(".") : "FExt"} { sites ... }`,
        );
      if (labels.has(label.text))
        r.fail(codes.duplicate, label.span, `extractor '${label.text}' is declared twice`, "label each apart");
      labels.set(label.text, label.span);
      const { ext, dim, call } = checkExtractor(r, s, mod, inChannels, sizing);
      const inner = r.keyed(s.block ?? [], `extractor ${label.text}`, ["sites"]);
      const sitesS = inner.get("sites")?.[0];
      if (!sitesS) {
        // A block with settings but no `sites` has a misspelt one, already reported (with its did-you-mean).
        if (s.block?.length) throw new Invalid();
        r.fail(
          codes.badPrompt,
          label.span,
          `extractor '${label.text}' feeds no sites`,
          `name them in its block: extractor ${label.text}: ${ext.name} { sites ... }`,
        );
      }
      const spans = new Map<SiteInfo, Span>();
      const sites = model ? matchSites(r, sitesS, model.sites, spans) : [];
      const sitesSpan = sitesS.values[0]?.span ?? sitesS.key.span;
      for (const x of sites) {
        const other = fedBy.get(x.name);
        if (other)
          r.fail(
            codes.duplicate,
            spans.get(x) ?? sitesSpan,
            `site '${x.name}' is fed by two extractors: '${other}' and '${label.text}'`,
            "a site takes one prompt vector; name it under one extractor",
          );
        fedBy.set(x.name, label.text);
      }
      return { call: { ...call, label: label.text }, dim, sites, sitesSpan, ext };
    });
    if (feed) feeds.push(feed);
  }
  if (feeds.length !== extS.length || outer) throw new Invalid();
  return feeds;
}

/**
 * The model's, the wired sites' and the extractors' parameters share one state dict, so no name may be two of
 * theirs: a site's layers or an extractor under a name of the model's (or of each other's) is MIO2004, at the
 * experiment's line that chose it (`sites`, or the extractor's label).
 */
function distinctNames(r: Reader, model: ModelResult, feeds: Feed[]): void {
  const owner = new Map(model.paramNames.map((n) => [n, `the model '${model.name}'`]));
  const claim = (names: string[], what: string, span: Span, hint: string) => {
    for (const n of names) {
      const other = owner.get(n);
      if (other) r.fail(codes.duplicate, span, `parameter '${n}' of ${what} is also a parameter of ${other}`, hint);
      owner.set(n, what);
    }
  };
  let wired = 0; // default layer names number the sites across all extractors, in the spec's order
  for (const f of feeds)
    for (const site of f.sites) {
      const { scale, shift } = siteLayers(site, wired++);
      const names = [scale, shift].flatMap((l) => [`${l}.weight`, `${l}.bias`]);
      claim(names, `site '${site.name}'`, f.sitesSpan, "name the site's layers apart");
    }
  for (const f of feeds) {
    const names = f.ext.paramNames.map((n) => `${f.call.label}.${n}`);
    const what = `the prompt extractor '${f.ext.name}'`;
    claim(names, what, f.ext.span, `label it apart: extractor other_name: ${f.ext.name}`);
  }
}

/** An explicit prompt's maps: `maps ...` if given (and valid), else the default random 128×128 ones. */
function explicitMaps(r: Reader, s: Setting | undefined): NonNullable<PromptSpec["maps"]> {
  const fallback: NonNullable<PromptSpec["maps"]> = { kind: "random", size: 128, seed: 0 };
  return (s && r.attempt(() => resolveMaps(r, r.single(s)))) || fallback;
}

function resolveMaps(r: Reader, d: ReturnType<Reader["data"]>): NonNullable<PromptSpec["maps"]> {
  if (d.kind === "str") return { kind: "file", path: d.v };
  if (d.kind === "call" && d.name === "random") {
    return {
      kind: "random",
      ...r.args(
        d,
        {
          size: (v, w) => r.num(v, w, { int: true, min: 8, max: 4096 }),
          seed: (v, w) => r.num(v, w, { int: true, min: 0 }),
        },
        { size: 128, seed: 0 },
      ),
    };
  }
  return r.fail(codes.badValue, d.span, 'maps is random(size: 128, seed: 0) or a file "maps.npy"');
}

/** `sites body.*, conv_hr`: every pattern must match a site of the model; `*` matches one name segment. */
/** `spans`, if given, gets the pattern that first chose each site (for a message about one site). */
function matchSites(r: Reader, s: Setting, modelSites: SiteInfo[], spans?: Map<SiteInfo, Span>): SiteInfo[] {
  const chosen = new Set<SiteInfo>(); // in the order the patterns first match them
  for (const d of r.positional(s)) {
    const pattern =
      d.kind === "ident" ? d.name : r.fail(codes.badValue, d.span, "a site is a name or a pattern like body.*");
    const re = new RegExp(
      `^${pattern
        .split(".")
        .map((p) => (p === "*" ? "[^.]+" : p.replace(/[^\w]/g, "\\$&")))
        .join("\\.")}$`,
    );
    const hits = modelSites.filter((x) => re.test(x.name));
    if (!hits.length) {
      const names = modelSites.map((x) => x.name);
      const hint =
        didYouMean(pattern, names) ??
        (names.length ? `the model's sites: ${summarise(names)}` : "the model declares no sites");
      r.fail(codes.unmatchedSite, d.span, `prompt site '${pattern}' matches no site of the model`, hint);
    }
    for (const h of hits) {
      if (!chosen.has(h)) spans?.set(h, d.span);
      chosen.add(h);
    }
  }
  return [...chosen];
}

function summarise(names: string[]): string {
  return names.length > 6 ? `${names.slice(0, 3).join(", ")}, ..., ${names.slice(-2).join(", ")}` : names.join(", ");
}

export type { Span };
