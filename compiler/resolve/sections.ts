// The recipe sections of an experiment — data, curriculum, train, eval — each read from its settings with the
// defaults of the paper's SRResNet recipe (docs/training.md, "The reference's recipes") where a setting is absent.
import type { Setting, Span } from "../../grammar/ast.js";
import { codes, didYouMean } from "../../grammar/diagnostics.js";
import type { ExperimentSpec, StageSpec } from "../schema/experiment.js";
import { checkDataPath, type DataRoots } from "./paths.js";
import type { Data, Reader } from "./values.js";

type Section<K extends keyof ExperimentSpec> = ExperimentSpec[K];

export const DATA_DEFAULTS: Section<"data"> = {
  train: [{ path: "data/train", weight: 1 }],
  val: "data/val",
  test: "data/test",
  crop: 128,
  batch: 16,
  flip: true,
  rotate: true,
  workers: 2,
};

/**
 * Sizes past which a setting is a mistake rather than a recipe (docs/language.md, "Settings"): a crop side, a batch,
 * the float32 bytes of one batch of crops (crop x crop x 3 x 4 x batch), loader threads, an eval tile side.
 */
export const DATA_LIMITS = {
  crop: 4096,
  batch: 4096,
  batchBytes: 4 * 2 ** 30,
  workers: 256,
  tile: 4096,
  cropCandidates: 64,
} as const;

/** Bytes in GiB for messages: `4 GiB`, `0.75 GiB`. */
export function gib(bytes: number): string {
  const g = bytes / 2 ** 30;
  return `${g >= 1e6 ? g.toExponential(2).replace("e+", "e") : Number(g.toPrecision(3))} GiB`;
}

/** `paths`: where the folders may be (see paths.ts); without it they are not checked. */
export function resolveData(r: Reader, block: Setting[], paths?: DataRoots): Section<"data"> {
  const k = r.keyed(
    block,
    "data",
    ["train", "val", "test", "crop", "batch", "augment", "workers", "crop_candidates"],
    ["train"],
  );
  const out: Section<"data"> = { ...DATA_DEFAULTS, train: [...DATA_DEFAULTS.train] };
  const trains = k.get("train");
  if (trains) {
    out.train = [];
    for (const s of trains) {
      r.attempt(() => {
        const d = r.data(first(r, s));
        const path = r.str(d, "train");
        checkDataPath(r, d, "data.train", paths);
        const weight = namedOr(r, s, "weight", 1, (d) => r.num(d, "weight", { min: 0 }));
        out.train.push({ path, weight });
      });
    }
  }
  for (const key of ["val", "test"] as const) {
    const s = k.get(key)?.[0];
    if (s)
      r.attempt(() => {
        const d = r.single(s);
        out[key] = r.str(d, key);
        checkDataPath(r, d, `data.${key}`, paths);
      });
  }
  const crop = k.get("crop")?.[0];
  const cropOk =
    !crop ||
    r.attempt(() => (out.crop = r.num(r.single(crop), "crop", { int: true, min: 8, max: DATA_LIMITS.crop }))) !==
      undefined;
  const batch = k.get("batch")?.[0];
  const batchOk =
    !batch ||
    r.attempt(() => (out.batch = r.num(r.single(batch), "batch", { int: true, min: 1, max: DATA_LIMITS.batch }))) !==
      undefined;
  const inputBytes = out.crop * out.crop * 3 * 4 * out.batch;
  const at = batch ?? crop;
  if (cropOk && batchOk && at && inputBytes > DATA_LIMITS.batchBytes) {
    r.attempt(() =>
      r.fail(
        codes.badValue,
        at.values[0]?.span ?? at.key.span,
        `a batch of ${out.batch} crops of ${out.crop}x${out.crop} is ${gib(inputBytes)} of float32 input, over the ` +
          `${gib(DATA_LIMITS.batchBytes)} a batch may take`,
        "lower batch or crop",
      ),
    );
  }
  const workers = k.get("workers")?.[0];
  if (workers)
    r.attempt(
      () => (out.workers = r.num(r.single(workers), "workers", { int: true, min: 0, max: DATA_LIMITS.workers })),
    );
  const candidates = k.get("crop_candidates")?.[0];
  if (candidates)
    r.attempt(() => {
      const n = r.num(r.single(candidates), "crop_candidates", { int: true, min: 1, max: DATA_LIMITS.cropCandidates });
      // 1 is the default, a uniform position: left out of the spec, so the run id is that of a spec without it.
      if (n > 1) out.crop_candidates = n;
      else delete out.crop_candidates;
    });
  const augment = k.get("augment")?.[0];
  if (augment) {
    r.attempt(() => {
      const names = r.positional(augment).map((d) => r.choice(d, "augmentation", ["flip", "rotate", "none"] as const));
      out.flip = names.includes("flip");
      out.rotate = names.includes("rotate");
    });
  }
  return out;
}

/** The first value of a setting, which must be positional. */
function first(r: Reader, s: Setting) {
  const v = s.values[0];
  if (!v || v.name) return r.fail(codes.badValue, s.key.span, `'${s.key.text}' needs a value`);
  return v.value;
}

/** A named value of a setting (`train "data/a", weight: 2`), or its default. */
function namedOr<T>(r: Reader, s: Setting, name: string, def: T, read: (d: Data) => T): T {
  for (const v of s.values.slice(1)) {
    if (!v.name)
      r.fail(codes.badValue, v.span, `'${s.key.text}' takes one value`, `name the others, e.g. ${name}: ...`);
    else if (v.name.text !== name)
      r.fail(
        codes.badValue,
        v.name.span,
        `'${s.key.text}' has no option '${v.name.text}'`,
        didYouMean(v.name.text, [name]),
      );
  }
  const v = s.values.find((x) => x.name?.text === name);
  return v ? read(r.data(v.value)) : def;
}

export interface CurriculumResult {
  curriculum: Section<"curriculum">;
  /** Where each task name was written, to report unknown tasks at the name. */
  taskSpans: Map<string, Span[]>;
}

export function resolveCurriculum(r: Reader, s: Setting, knownTasks: string[]): CurriculumResult | undefined {
  const kind = r.attempt(() => r.choice(r.single(s), "curriculum", ["mixed", "sequential", "stages"] as const));
  if (!kind) return undefined;
  const block = s.block ?? [];
  const taskSpans = new Map<string, Span[]>();
  const taskName = (d: Data): string => {
    const name = d.kind === "ident" ? d.name : r.fail(codes.badValue, d.span, "expected a task name");
    if (!knownTasks.includes(name)) {
      r.fail(
        codes.unknownTask,
        d.span,
        `unknown task '${name}'`,
        didYouMean(name, knownTasks) ??
          (knownTasks.length ? `declared tasks: ${knownTasks.join(", ")}` : "no tasks are declared: use stdlib/tasks"),
      );
    }
    const spans = taskSpans.get(name);
    if (spans) spans.push(d.span);
    else taskSpans.set(name, [d.span]);
    return name;
  };
  const iters = (d: Data, what: string) => r.num(d, what, { int: true, min: 1 });
  const restarts = (d: Data, what: string) => r.num(d, what, { int: true, min: 1 });
  const noDuplicates = (names: string[], spans: Span[], what: string) => {
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (seen.has(n)) r.fail(codes.badCurriculum, spans[i] as Span, `task '${n}' appears twice in ${what}`);
      seen.add(n);
    });
  };
  const stage = (tasks: string[], n: number, rs: number, span: Span): StageSpec => {
    if (n % rs !== 0) r.fail(codes.badCurriculum, span, `${n} iterations do not split into ${rs} equal cosine periods`);
    return { tasks, iters: n, restarts: rs };
  };

  return r.attempt(() => {
    if (kind === "mixed") {
      const k = r.keyed(block, "curriculum mixed", ["tasks", "iters", "restarts"]);
      const tasksS = need(r, k, "tasks", s);
      const list = r.positional(tasksS);
      if (!list.length) r.fail(codes.badValue, tasksS.key.span, "'tasks' needs at least one task", "tasks sr, blur");
      const tasks = list.map(taskName);
      noDuplicates(
        tasks,
        list.map((d) => d.span),
        "tasks",
      );
      const n = iters(r.single(need(r, k, "iters", s)), "iters");
      const rsS = k.get("restarts")?.[0];
      const rs = rsS ? restarts(r.single(rsS), "restarts") : 1;
      return { curriculum: { kind, order: tasks, stages: [stage(tasks, n, rs, s.key.span)] }, taskSpans };
    }
    if (kind === "sequential") {
      const k = r.keyed(block, "curriculum sequential", ["order", "stage_iters", "final_iters", "final_restarts"]);
      const orderS = need(r, k, "order", s);
      const d = r.single(orderS);
      const items = d.kind === "chain" ? d.items : [d];
      const order = items.map(taskName);
      noDuplicates(
        order,
        items.map((x) => x.span),
        "the order",
      );
      const per = iters(r.single(need(r, k, "stage_iters", s)), "stage_iters");
      const finalS = k.get("final_iters")?.[0];
      const fin = finalS ? iters(r.single(finalS), "final_iters") : per;
      const frS = k.get("final_restarts")?.[0];
      const fr = frS ? restarts(r.single(frS), "final_restarts") : 1;
      // Stage k trains on the first k tasks together; the last stage sees all of them (docs/training.md, "The
      // reference's recipes").
      const stages = order.map((_, i) =>
        i < order.length - 1
          ? stage(order.slice(0, i + 1), per, 1, orderS.key.span)
          : stage(order, fin, fr, (finalS ?? orderS).key.span),
      );
      return { curriculum: { kind, order, stages }, taskSpans };
    }
    const k = r.keyed(block, "curriculum stages", ["stage"], ["stage"]);
    need(r, k, "stage", s);
    const stages = (k.get("stage") ?? []).map((st) => {
      const [tasksV, ...rest] = st.values;
      if (!tasksV || tasksV.name)
        return r.fail(codes.badValue, st.key.span, "a stage starts with its tasks", "stage [sr, blur], iters: 100k");
      const t = r.data(tasksV.value);
      const list = t.kind === "list" ? t.items : [t];
      if (!list.length)
        r.fail(codes.badValue, t.span, "a stage needs at least one task", "stage [sr, blur], iters: 100k");
      const tasks = list.map(taskName);
      noDuplicates(
        tasks,
        list.map((x) => x.span),
        "a stage",
      );
      let n: number | undefined;
      let rs = 1;
      for (const v of rest) {
        if (v.name?.text === "iters") n = iters(r.data(v.value), "iters");
        else if (v.name?.text === "restarts") rs = restarts(r.data(v.value), "restarts");
        else
          r.fail(
            codes.badValue,
            v.span,
            "a stage takes iters: N and restarts: R",
            didYouMean(v.name?.text ?? "", ["iters", "restarts"]),
          );
      }
      if (n === undefined) return r.fail(codes.missingSetting, st.key.span, "a stage needs iters: N");
      return stage(tasks, n, rs, st.key.span);
    });
    const order = [...new Set(stages.flatMap((x) => x.tasks))];
    return { curriculum: { kind, order, stages }, taskSpans };
  });
}

function need(r: Reader, k: Map<string, Setting[]>, key: string, parent: Setting): Setting {
  const kind = parent.values[0]?.value.kind === "ref" ? ` ${parent.values[0].value.path.join(".")}` : "";
  return k.get(key)?.[0] ?? r.fail(codes.missingSetting, parent.key.span, `curriculum${kind} needs '${key}'`);
}

export const TRAIN_DEFAULTS: Section<"train"> = {
  // eps only matters for charbonnier; 0 for l1, as an explicit `loss l1` gives, so both spell the same spec.
  loss: { name: "l1", eps: 0 },
  optimizer: { name: "adam", lr: 2e-4, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0 },
  schedule: { name: "cosine_restarts", eta_min: 1e-7 },
  ema: 0.999,
  checkpoint_every: 25_000,
  log_every: 100,
};

/** The train section; `tasks` (the curriculum's, when it resolved) are the names `task_weights` may use. */
export function resolveTrain(r: Reader, block: Setting[], tasks?: readonly string[]): Section<"train"> {
  const k = r.keyed(block, "train", [
    "loss",
    "optimizer",
    "schedule",
    "ema",
    "checkpoint_every",
    "log_every",
    "task_weights",
  ]);
  const out: Section<"train"> = structuredClone(TRAIN_DEFAULTS);
  const get = (key: string) => k.get(key)?.[0];
  const loss = get("loss");
  if (loss) {
    r.attempt(() => {
      const d = r.single(loss);
      const name = r.choice(d.kind === "call" ? { ...d, kind: "ident", name: d.name } : d, "loss", [
        "l1",
        "mse",
        "charbonnier",
        "cross_entropy",
      ] as const);
      if (name === "cross_entropy") {
        // A classifier's loss. The reference applies nn.CrossEntropyLoss to the network's softmax output, a
        // double softmax (docs/training.md); `double_softmax: false` takes the output as probabilities instead.
        const a =
          d.kind === "call"
            ? r.args(d, { double_softmax: (v, w) => r.bool(v, w) }, { double_softmax: true })
            : { double_softmax: true };
        out.loss = { name, eps: 0, double_softmax: a.double_softmax };
        return;
      }
      const eps =
        d.kind === "call"
          ? r.args(d, { eps: (v, w) => r.num(v, w, { min: 0 }) }, { eps: name === "charbonnier" ? 1e-12 : 0 }).eps
          : name === "charbonnier"
            ? 1e-12
            : 0;
      out.loss = { name, eps };
    });
  }
  const opt = get("optimizer");
  if (opt) {
    r.attempt(() => {
      const d = r.single(opt);
      const name = r.choice(d.kind === "call" ? { kind: "ident", name: d.name, span: d.span } : d, "optimizer", [
        "adam",
        "adamw",
      ] as const);
      const defaults = { ...TRAIN_DEFAULTS.optimizer, name };
      if (d.kind !== "call") {
        out.optimizer = defaults;
        return;
      }
      const a = r.args(
        d,
        {
          lr: (v, w) => {
            const lr = r.num(v, w, { min: 0 });
            return lr > 0 ? lr : r.fail(codes.badValue, v.span, `${w} must be > 0, found ${lr}`);
          },
          betas: (v, w) => betas(r, v, w),
          eps: (v, w) => r.num(v, w, { min: 0 }),
          weight_decay: (v, w) => r.num(v, w, { min: 0 }),
        },
        { lr: defaults.lr, betas: defaults.betas, eps: defaults.eps, weight_decay: defaults.weight_decay },
      );
      out.optimizer = { name, ...a };
    });
  }
  const sched = get("schedule");
  if (sched) {
    r.attempt(() => {
      const d = r.single(sched);
      const name = r.choice(d.kind === "call" ? { kind: "ident", name: d.name, span: d.span } : d, "schedule", [
        "cosine_restarts",
        "constant",
      ] as const);
      const eta =
        d.kind === "call"
          ? r.args(d, { eta_min: (v, w) => r.num(v, w, { min: 0 }) }, { eta_min: TRAIN_DEFAULTS.schedule.eta_min })
              .eta_min
          : TRAIN_DEFAULTS.schedule.eta_min;
      out.schedule = { name, eta_min: eta };
    });
  }
  const ema = get("ema");
  if (ema) r.attempt(() => (out.ema = r.num(r.single(ema), "ema", { min: 0, max: 1 })));
  for (const key of ["checkpoint_every", "log_every"] as const) {
    const s = get(key);
    if (s) r.attempt(() => (out[key] = r.num(r.single(s), key, { int: true, min: 1 })));
  }
  const weights = get("task_weights");
  if (weights) r.attempt(() => (out.task_weights = taskWeights(r, weights, tasks)));
  return out;
}

/** `task_weights jpeg: 3, sr: 2`: a positive weight per named task of the curriculum, each named once. */
function taskWeights(r: Reader, s: Setting, tasks: readonly string[] | undefined): Record<string, number> {
  if (s.values.length === 0)
    r.fail(codes.badValue, s.key.span, "'task_weights' needs a weight per task", "task_weights jpeg: 3, sr: 2");
  const out: Record<string, number> = {};
  for (const v of s.values) {
    if (!v.name) r.fail(codes.badValue, v.span, "'task_weights' takes named weights", "task_weights jpeg: 3, sr: 2");
    const name = v.name.text;
    if (tasks && !tasks.includes(name))
      r.fail(
        codes.unknownTask,
        v.name.span,
        `task_weights: '${name}' is not a task of the curriculum`,
        didYouMean(name, [...tasks]) ?? `its tasks: ${tasks.join(", ")}`,
      );
    if (name in out) r.fail(codes.duplicate, v.name.span, `task_weights: '${name}' is weighted twice`);
    const w = r.num(r.data(v.value), `task_weights.${name}`, { min: 0 });
    if (!(w > 0) || !Number.isFinite(w))
      r.fail(codes.badValue, v.span, `task_weights.${name} must be a finite number > 0, found ${w}`);
    out[name] = w;
  }
  // Sorted by name, so the spec (and the run id) does not depend on the order they were written in.
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function betas(r: Reader, d: Data, what: string): [number, number] {
  if (d.kind !== "list" || d.items.length !== 2)
    return r.fail(codes.badValue, d.span, `${what} must be a pair [b1, b2]`);
  const [b1, b2] = d.items.map((x) => r.num(x, what, { min: 0, max: 1 }));
  return [b1 as number, b2 as number];
}

export const EVAL_DEFAULTS: Section<"eval"> = {
  sets: [
    { name: "in_dist", path: null },
    { name: "out_dist", path: null },
  ],
  metrics: [{ name: "psnr", crop: 4, y_channel: false }],
  weights: "raw",
  tile: 0,
  overlap: 32,
  center_crop: 0,
  max_images: 0,
};

export function resolveEval(r: Reader, block: Setting[], paths?: DataRoots): Section<"eval"> {
  const k = r.keyed(
    block,
    "eval",
    ["sets", "set", "metrics", "weights", "tile", "overlap", "center_crop", "max_images"],
    ["set"],
  );
  const out: Section<"eval"> = structuredClone(EVAL_DEFAULTS);
  const sets = k.get("sets")?.[0];
  if (sets) {
    r.attempt(
      () =>
        (out.sets = r.positional(sets).map((d) => ({
          name: r.choice(d, "test set group", ["in_dist", "out_dist", "unknown"] as const),
          path: null,
        }))),
    );
  }
  for (const s of k.get("set") ?? []) {
    r.attempt(() => {
      const [nameV, pathV] = r.positional(s);
      if (nameV?.kind !== "ident" || !pathV) r.fail(codes.badValue, s.key.span, 'a named set is: set NAME "folder"');
      const path = r.str(pathV, "set folder");
      checkDataPath(r, pathV, `eval.set ${nameV.name}`, paths);
      out.sets.push({ name: nameV.name, path });
    });
  }
  const metrics = k.get("metrics")?.[0];
  if (metrics) {
    r.attempt(() => {
      const list = r.positional(metrics);
      if (!list.length) r.fail(codes.badValue, metrics.key.span, "metrics needs at least one metric", "metrics psnr");
      out.metrics = list.map((d) => {
        const name = r.choice(d.kind === "call" ? { kind: "ident", name: d.name, span: d.span } : d, "metric", [
          "psnr",
          "ssim",
        ] as const);
        const a =
          d.kind === "call"
            ? r.args(
                d,
                { crop: (v, w) => r.num(v, w, { int: true, min: 0 }), y: (v, w) => r.bool(v, w) },
                { crop: 4, y: false },
              )
            : { crop: 4, y: false };
        return { name, crop: a.crop, y_channel: a.y };
      });
    });
  }
  const weights = k.get("weights")?.[0];
  if (weights) r.attempt(() => (out.weights = r.choice(r.single(weights), "weights", ["raw", "ema"] as const)));
  for (const key of ["tile", "overlap", "center_crop", "max_images"] as const) {
    const s = k.get(key)?.[0];
    const max = key === "tile" ? DATA_LIMITS.tile : undefined;
    if (s) r.attempt(() => (out[key] = r.num(r.single(s), key, { int: true, min: 0, max })));
  }
  // Tiles must advance: an overlap as wide as the tile would never move on. Without an `overlap` setting the default
  // is halved to fit small tiles when evaluation runs.
  const overlapS = k.get("overlap")?.[0];
  if (out.tile > 0 && overlapS && out.overlap >= out.tile) {
    r.attempt(() =>
      r.fail(
        codes.badValue,
        overlapS.values[0]?.span ?? overlapS.key.span,
        `overlap must be smaller than tile ${out.tile}, found ${out.overlap}`,
        `tiles of ${out.tile} pixels that share ${out.overlap} would not advance; e.g. overlap ${Math.floor(out.tile / 4)}`,
      ),
    );
  }
  return out;
}
