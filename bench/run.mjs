// npm run bench: SRResNet (BasicSR MSRResNet, upscale 1; L1 + Adam) training steps and whole-image inference
// through mio, next to PyTorch CPU (2 threads) and TensorFlow.js's WebGPU backend on the same Dawn adapter, and a
// SwinIR and a Restormer training step through mio next to PyTorch CPU, all measured in this run. Each peer runs in its own process (its own Dawn instance), one after another.
// Progress goes to stderr, one JSON line per result to stdout, everything to bench/results.json.
// See docs/bench.md for what the numbers mean.
//
// usage: npm run bench -- [--configs 16/4/4/48,32/8/4/64 | none] [--swinir 60/2/2/6/8/2/48 | none]
//                         [--restormer 16/1/1/1/1/1/2/64 | none]
//                         [--steps N] [--warmup N] [--only mio,torch,tfjs]
//                         [--infer | --no-infer] [--infer-config 64/16/256] [--profile auto|on|off]
//                         [--timeout SECONDS] [--out FILE] [--torch-device cpu|cuda] [--python PATH]
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { arg, fwdFlops, progress, restormerFwdFlops, swinirFwdFlops } from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const PEERS = ["mio", "torch", "tfjs"];
const DEFAULT_CONFIGS = "16/4/4/48,32/8/4/64,64/16/8/128";
/** SwinIR: embed/groups/depth/heads/window/batch/patch (issue 11: embed 60, 2 groups of depth 2, 6 heads, window 8). */
const DEFAULT_SWINIR = "60/2/2/6/8/2/48";
/**
 * Restormer: dim/l1/l2/l3/l4/refinement/batch/patch (the stdlib's heads 1/2/4/8, GDFN 2.66, WithBias LayerNorm): a
 * small one, one block per level at dim 16, batch 2 of 64×64, a few seconds a step on lavapipe.
 */
const DEFAULT_RESTORMER = "16/1/1/1/1/1/2/64";

const VALUED = [
  "configs",
  "swinir",
  "restormer",
  "steps",
  "warmup",
  "only",
  "infer-config",
  "profile",
  "timeout",
  "out",
  "torch-device",
  "python",
];
for (let i = 0; i < argv.length; i++) {
  const name = argv[i]?.replace(/^--/, "") ?? "";
  if (VALUED.includes(name)) i++;
  else if (name !== "infer" && name !== "no-infer") throw new Error(`unknown option '${argv[i]}' (see bench/run.mjs)`);
}
const only = arg(argv, "only", PEERS.join(",")).split(",");
for (const p of only) if (!PEERS.includes(p)) throw new Error(`--only takes ${PEERS.join(",")}, got '${p}'`);
/** A comma-separated list of N-number configs, or none for `none`. */
function configList(name, fallback, count, form) {
  const text = arg(argv, name, fallback);
  if (text === "none") return [];
  const list = text.split(",").map((c) => c.split("/").map(Number));
  for (const c of list) {
    if (c.length !== count || !c.every((v) => Number.isInteger(v) && v > 0))
      throw new Error(`--${name} takes ${form} (or none), got '${c.join("/")}'`);
  }
  return list;
}
const configs = configList("configs", DEFAULT_CONFIGS, 4, "FEAT/BLOCKS/BATCH/PATCH");
const swinirConfigs = configList("swinir", DEFAULT_SWINIR, 7, "EMBED/GROUPS/DEPTH/HEADS/WINDOW/BATCH/PATCH");
const restormerConfigs = configList("restormer", DEFAULT_RESTORMER, 8, "DIM/L1/L2/L3/L4/REFINE/BATCH/PATCH");
// Three 2x downsamplings need crops of multiples of 8 (the worker's pad_to(8) is then the identity, and the PyTorch
// peer has no padding), and the first one's conv to dim / 2 needs an even dim.
for (const [dim, , , , , , , patch] of restormerConfigs) {
  if (patch % 8 !== 0 || dim % 2 !== 0)
    throw new Error(
      `--restormer needs an even DIM and a PATCH that is a multiple of 8, got dim ${dim}, patch ${patch}`,
    );
}
const doInfer = !argv.includes("--no-infer");
const inferConfig = arg(argv, "infer-config", "64/16/256").split("/").map(Number);
const profileMode = arg(argv, "profile", "auto");
const stepsArg = arg(argv, "steps", undefined);
const warmupArg = arg(argv, "warmup", undefined);
const timeoutArg = arg(argv, "timeout", undefined);
const outFile = path.resolve(arg(argv, "out", path.join(here, "results.json")));
// The PyTorch peer runs on the CPU unless told otherwise (scripts/gpu-bench.sh asks for CUDA); its interpreter is
// the system one unless a GPU machine keeps its CUDA build of PyTorch elsewhere.
const torchDevice = arg(argv, "torch-device", "cpu");
if (torchDevice !== "cpu" && torchDevice !== "cuda")
  throw new Error(`--torch-device takes cpu or cuda, got '${torchDevice}'`);
const python = arg(argv, "python", "/usr/bin/python3");

/**
 * Steps per config when --steps is not given: enough for a median where a step is cheap, 2 timed steps (after 1
 * warm-up) for the 64/16/8/128 class, where PyTorch takes ~5 s a step and mio and TF.js minutes.
 */
function defaultSteps(gflop) {
  if (gflop < 5) return 5;
  if (gflop < 100) return 3;
  return 2;
}

/**
 * The per-peer limit, in seconds: a guard against a stuck peer (recorded as null instead of hanging the run), not
 * a budget. It assumes 0.25 GFLOP/s, below what TF.js reached on lavapipe with another job competing (~0.5), plus
 * three minutes for start-up and cold shader compilation.
 */
function defaultTimeout(gflop, calls) {
  return Math.round(180 + (calls * gflop) / 0.25);
}

const loadavg = () => os.loadavg().map((x) => +x.toFixed(2));

const WORKERS = {
  srresnet: { mio: "mio-srresnet.mjs", torch: "torch_srresnet.py", tfjs: "tfjs-srresnet.mjs" },
  swinir: { mio: "mio-swinir.mjs", torch: "torch_swinir.py" },
  restormer: { mio: "mio-restormer.mjs", torch: "torch_restormer.py" },
};

/** Runs one worker; resolves with its JSON result, or null and a reason. */
function runWorker(model, peer, mode, nums, extra, timeoutS) {
  const script = WORKERS[model][peer];
  const cmd = peer === "torch" ? python : process.execPath;
  const device = peer === "torch" ? ["--device", torchDevice] : [];
  const args = [path.join(here, script), mode, ...nums.map(String), ...device, ...extra];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let errTail = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutS * 1000);
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      for (const line of String(d).split("\n")) {
        // Dawn's two start-up warnings about dynamic-offset limits say nothing about the measurement.
        if (!line.trim() || line.includes("artificially reduced")) continue;
        progress(`  [${peer}] ${line}`);
        errTail = `${errTail}\n${line}`.slice(-400);
      }
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ result: null, reason: `could not start: ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const wallS = +((performance.now() - started) / 1000).toFixed(1);
      if (timedOut) return resolve({ result: null, reason: `timed out after ${timeoutS} s`, wallS });
      const last = stdout.trim().split("\n").pop() ?? "";
      try {
        if (code === 0) return resolve({ result: JSON.parse(last), wallS });
      } catch {
        // fall through: a worker that exits 0 without a JSON line failed too
      }
      const why = errTail.trim().split("\n").slice(-2).join(" / ") || "no output";
      resolve({ result: null, reason: `exited with ${signal ?? `code ${code}`}: ${why}`, wallS });
    });
  });
}

/**
 * Measures every requested peer on one piece of work, one after another. `cold` is what a row adds to the defaults
 * for cold shader compilation: `warmup` (the warm-up steps without --warmup, 1 unless given) and `compileS` (seconds
 * added to the default limit).
 */
async function measureAll(label, model, mode, nums, gflop, extraFor, cold = {}) {
  const steps = stepsArg === undefined ? defaultSteps(gflop) : Number(stepsArg);
  const warmup = warmupArg === undefined ? (cold.warmup ?? 1) : Number(warmupArg);
  const timeoutS =
    timeoutArg === undefined ? defaultTimeout(gflop, steps + warmup) + (cold.compileS ?? 0) : Number(timeoutArg);
  const entry = { steps, warmup, timeoutS, peers: {}, reasons: {} };
  for (const peer of PEERS) {
    if (!only.includes(peer) || !WORKERS[model][peer]) {
      entry.peers[peer] = null;
      entry.reasons[peer] = only.includes(peer) ? `no ${peer} peer for ${model}` : "not requested (--only)";
      continue;
    }
    const before = loadavg();
    progress(`${label} ${peer}: ${warmup} warm-up + ${steps} timed, load ${before[0]} (limit ${timeoutS} s)`);
    const { result, reason, wallS } = await runWorker(
      model,
      peer,
      mode,
      [...nums, steps, warmup],
      extraFor(peer),
      timeoutS,
    );
    const after = loadavg();
    entry.peers[peer] = result && { ...result, wallS, loadBefore: before, loadAfter: after };
    if (result) {
      const other = result.cpu?.otherCores;
      progress(
        `${label} ${peer}: median ${result.medianMs} ms, first ${result.firstStepMs} ms` +
          `, other processes used ${other ?? "?"} cores meanwhile${other > 0.25 ? " (DISTORTED)" : ""}`,
      );
    } else {
      entry.reasons[peer] = reason;
      progress(`${label} ${peer}: no result (${reason})`);
    }
  }
  if (Object.keys(entry.reasons).length === 0) delete entry.reasons;
  const ms = (p) => entry.peers[p]?.medianMs ?? null;
  const ratio = (a, b) => (ms(a) === null || ms(b) === null ? null : +(ms(a) / ms(b)).toFixed(2));
  entry.ratios = { mioOverTorch: ratio("mio", "torch"), mioOverTfjs: ratio("mio", "tfjs") };
  return entry;
}

const results = [];
const emit = (r) => {
  process.stdout.write(`${JSON.stringify(r)}\n`);
  results.push(r);
};
for (const [feat, blocks, batch, patch] of configs) {
  const gflop = (3 * fwdFlops(feat, blocks, patch, patch, batch)) / 1e9;
  const profile = profileMode === "on" || (profileMode === "auto" && gflop < 100);
  const label = `train ${feat}/${blocks}/${batch}/${patch}`;
  const entry = await measureAll(label, "srresnet", "train", [feat, blocks, batch, patch], gflop, (peer) =>
    peer === "mio" && profile ? ["--profile"] : [],
  );
  emit({
    kind: "train",
    model: "srresnet",
    config: { feat, blocks, batch, patch },
    stepGflop: +gflop.toFixed(2),
    ...entry,
  });
}
for (const [embed, groups, depth, heads, window, batch, patch] of swinirConfigs) {
  const config = { embed, groups, depth, heads, window, batch, patch };
  const gflop = (3 * swinirFwdFlops(config)) / 1e9;
  const profile = profileMode === "on" || (profileMode === "auto" && gflop < 100);
  const label = `train SwinIR ${embed}/${groups}/${depth}/${heads}/${window}/${batch}/${patch}`;
  const entry = await measureAll(label, "swinir", "train", Object.values(config), gflop, (peer) =>
    peer === "mio" && profile ? ["--profile"] : [],
  );
  emit({ kind: "train", model: "swinir", config, stepGflop: +gflop.toFixed(2), ...entry });
}
for (const [dim, l1, l2, l3, l4, refinement, batch, patch] of restormerConfigs) {
  const config = { dim, l1, l2, l3, l4, refinement, batch, patch };
  const gflop = (3 * restormerFwdFlops(config)) / 1e9;
  const profile = profileMode === "on" || (profileMode === "auto" && gflop < 100);
  const label = `train Restormer ${Object.values(config).join("/")}`;
  // Restormer's plan has ~330 distinct kernels (SwinIR's ~120), and with Mesa's shader cache cold its first *two*
  // steps on lavapipe are shader compilation (200–400 s each on a loaded 2-core machine; the third runs at speed): two
  // warm-up steps, and fifteen more minutes in the limit (docs/bench.md, "Restormer: a train step").
  const entry = await measureAll(
    label,
    "restormer",
    "train",
    Object.values(config),
    gflop,
    (peer) => (peer === "mio" && profile ? ["--profile"] : []),
    { warmup: 2, compileS: 900 },
  );
  emit({ kind: "train", model: "restormer", config, stepGflop: +gflop.toFixed(2), ...entry });
}
if (doInfer) {
  const [feat, blocks, size] = inferConfig;
  const gflop = fwdFlops(feat, blocks, size, size, 1) / 1e9;
  const entry = await measureAll(
    `infer ${feat}/${blocks} ${size}x${size}`,
    "srresnet",
    "infer",
    inferConfig,
    gflop,
    () => [],
  );
  emit({ kind: "infer", model: "srresnet", config: { feat, blocks, size }, gflop: +gflop.toFixed(2), ...entry });
}

/** The commit measured (with a `+` when the tree has changes), so results can be compared over time. */
function commit() {
  try {
    const git = (...a) => execFileSync("git", a, { cwd: here, encoding: "utf8" }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? "+" : ""}`;
  } catch {
    return null;
  }
}

/** lscpu's model name, family and model number and whether the CPU has AVX-512 (lavapipe's speed depends on it). */
function lscpu() {
  try {
    const text = execFileSync("lscpu", [], { encoding: "utf8" });
    const field = (name) => text.match(new RegExp(`^${name}:\\s*(.*)$`, "m"))?.[1]?.trim() ?? null;
    return {
      model: field("Model name"),
      family: field("CPU family"),
      modelNumber: field("Model"),
      avx512: /\bavx512f\b/.test(field("Flags") ?? ""),
    };
  } catch {
    return null;
  }
}

const out = {
  date: new Date().toISOString(),
  commit: commit(),
  args: argv,
  host: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? null, lscpu: lscpu(), node: process.version },
  results,
};
writeFileSync(outFile, `${JSON.stringify(out, null, 2)}\n`);
// Keep the file in the repository's formatting (biome checks every JSON file, ignored or not).
execFileSync(path.join(here, "..", "node_modules", ".bin", "biome"), ["format", "--write", outFile], {
  stdio: "ignore",
});
progress(`wrote ${path.relative(process.cwd(), outFile)}`);
