// Helpers the bench's Node workers share (bench/mio-srresnet.mjs, bench/mio-swinir.mjs, bench/mio-restormer.mjs,
// bench/tfjs-srresnet.mjs) and the driver
// (bench/run.mjs). bench/torch_srresnet.py has the same few lines in Python.
import { readFileSync } from "node:fs";

/** 2 * MACs of SRResNet's forward convs (the anchors' formula); a training step is counted as 3x that. */
export const fwdFlops = (feat, blocks, h, w, batch) =>
  2 * 9 * (3 * feat + 2 * blocks * feat * feat + feat * feat + feat * 3) * h * w * batch;

/** The median (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Busy CPU seconds of the whole machine so far, from /proc/stat (null where there is none). */
function machineBusySeconds() {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
      .split("\n")[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // NOTE: /proc/stat counts in USER_HZ, which is 100 on every Linux kernel Node and Python run on.
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return null;
  }
}

/**
 * Starts a CPU-use sample over a timed region. `stop()` gives the cores this process kept busy on average
 * (`ownCores`: Dawn's and lavapipe's threads are in-process, so they count) and the cores the *rest* of the
 * machine kept busy meanwhile (`otherCores`): near 0 means nobody else competed with the measurement.
 */
export function cpuSample() {
  const t0 = performance.now();
  const own0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const own = process.cpuUsage(own0);
    const ownS = (own.user + own.system) / 1e6;
    const busy1 = machineBusySeconds();
    const round = (x) => +x.toFixed(2);
    return {
      ownCores: round(ownS / wall),
      otherCores: busy0 === null || busy1 === null ? null : round(Math.max(0, busy1 - busy0 - ownS) / wall),
    };
  };
}

/** `--name value` from argv, or `fallback`. */
export function arg(argv, name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

/** Summary fields of a list of timings in ms. */
export function summary(times) {
  const r = (x) => +x.toFixed(x < 100 ? 2 : 1);
  return {
    medianMs: r(median(times)),
    minMs: r(Math.min(...times)),
    maxMs: r(Math.max(...times)),
    timesMs: times.map(r),
  };
}

/** Progress on stderr (the driver prefixes it with the peer's name). */
export const progress = (line) => process.stderr.write(`${line}\n`);

/**
 * Runs `once` `warmup` times untimed (keeping the first one's time: lavapipe JIT-compiles the pipelines there),
 * then `steps` timed times, sampling the CPU use over the timed ones. `last` is what the last call returned.
 */
export async function measure(what, steps, warmup, once) {
  let firstStepMs = null;
  for (let i = 0; i < warmup; i++) {
    const t = performance.now();
    await once();
    const ms = performance.now() - t;
    firstStepMs ??= ms;
    progress(`${what} warm-up ${i + 1}/${warmup}: ${ms.toFixed(0)} ms`);
  }
  const times = [];
  const stop = cpuSample();
  let last;
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    last = await once();
    times.push(performance.now() - t);
    progress(`${what} ${i + 1}/${steps}: ${times[i].toFixed(1)} ms`);
  }
  return { firstStepMs: firstStepMs === null ? null : +firstStepMs.toFixed(1), ...summary(times), cpu: stop(), last };
}

/**
 * 2 * MACs of SwinIR's forward (stdlib/backbones/swinir.mio at upscale 1, feat 64, mlp ratio 2): its 3×3 convs,
 * the token linears (qkv, proj, fc1, fc2) and attention's two products (q·kᵀ and attn·v, each window² × embed per
 * token). A training step is counted as 3x that, as for SRResNet.
 */
export function swinirFwdFlops({ embed: e, groups, depth, window, batch, patch, feat = 64, mlpRatio = 2 }) {
  const px = batch * patch * patch;
  const conv = 2 * 9 * px * (3 * e + groups * e * e + e * e + e * feat + feat * 3);
  const hidden = Math.floor(e * mlpRatio);
  const perLayer = 2 * px * (3 * e * e + e * e + 2 * e * hidden) + 2 * 2 * px * window * window * e;
  return conv + groups * depth * perLayer;
}

/**
 * 2 * MACs of Restormer's forward (stdlib/backbones/restormer.mio, plain: heads 1/2/4/8 at the four levels, GDFN
 * expansion `ffn`, hidden = int(C · ffn); the crop a multiple of 8, so its pad_to adds nothing). At `px` = batch ×
 * patch² pixels, level k (1..4) has 2^(k-1)·dim channels on px / 4^(k-1) pixels; decoder level 1 and the refinement
 * run at 2·dim on px. Counted:
 * - the plain convs: patch_embed 3×3 3→C; the downsamplings 3×3 C→C/2, 2C→C, 4C→2C (before each PixelUnshuffle);
 *   the upsamplings 3×3 8C→16C, 4C→8C, 2C→4C (before each PixelShuffle); reduce_chan_level3/2 1×1 8C→4C, 4C→2C;
 *   output 3×3 2C→3;
 * - per transformer block of c channels, h heads, on n pixels: MDTA's qkv 1×1 (c→3c), its depthwise 3×3 on 3c
 *   (9 MACs per channel and pixel), the two channel-attention products per head, q·kᵀ ((c/h)×HW · HW×(c/h)) and
 *   attn·v ((c/h)×(c/h) · (c/h)×HW), c·c/h MACs per pixel each, and project_out 1×1 (c→c); GDFN's project_in 1×1
 *   (c→2·hidden), its depthwise 3×3 on 2·hidden and project_out 1×1 (hidden→c).
 * Not counted (as for SwinIR): LayerNorm, the L2 normalisation, softmax, GELU and gating, the residual adds. A
 * training step is counted as 3x that, as for SRResNet.
 */
export function restormerFwdFlops({ dim: C, l1, l2, l3, l4, refinement, batch, patch, ffn = 2.66 }) {
  const px = batch * patch * patch;
  const half = Math.floor(C / 2);
  const conv3 = (cin, cout, n) => 2 * 9 * cin * cout * n;
  const conv1 = (cin, cout, n) => 2 * cin * cout * n;
  const convs =
    conv3(3, C, px) +
    conv3(C, half, px) +
    conv3(2 * C, C, px / 4) +
    conv3(4 * C, 2 * C, px / 16) +
    conv3(8 * C, 16 * C, px / 64) +
    conv1(8 * C, 4 * C, px / 16) +
    conv3(4 * C, 8 * C, px / 16) +
    conv1(4 * C, 2 * C, px / 4) +
    conv3(2 * C, 4 * C, px / 4) +
    conv3(2 * C, 3, px);
  const block = (c, heads, n) => {
    const hidden = Math.floor(c * ffn);
    const mdta = conv1(c, 3 * c, n) + 2 * 9 * 3 * c * n + 2 * 2 * n * c * (c / heads) + conv1(c, c, n);
    const gdfn = conv1(c, 2 * hidden, n) + 2 * 9 * 2 * hidden * n + conv1(hidden, c, n);
    return mdta + gdfn;
  };
  const blocks =
    l1 * block(C, 1, px) +
    l2 * block(2 * C, 2, px / 4) +
    l3 * block(4 * C, 4, px / 16) +
    l4 * block(8 * C, 8, px / 64) +
    l3 * block(4 * C, 4, px / 16) +
    l2 * block(2 * C, 2, px / 4) +
    l1 * block(2 * C, 1, px) +
    refinement * block(2 * C, 1, px);
  return convs + blocks;
}

/**
 * Sums a per-kernel profile (Executor.profile) by kind of kernel: the op that roots it and, for a GEMM, its shape,
 * read off the kernel's WGSL (M, N, K; whether it is batched). `tokens` (batch × pixels) tells a token linear's
 * forward or input gradient (M = tokens) from its weight gradient (K = tokens). For GEMM kinds `gflops` is
 * 2·MACs over the time; for the others `flops` counts one per output element, so it is Gelem/s.
 */
export function kernelKinds(plan, prof, tokens) {
  const kinds = new Map();
  prof.forEach((p, i) => {
    const k = plan.kernels[i];
    const op = p.name.replace(/_\d+(_partial|_reduce)?$/, "");
    let kind = op;
    const mk = k.wgsl.match(/let kEnd = min\(kBegin \+ \d+, (\d+)\);/);
    const mm = k.wgsl.match(/if \(m0 \+ tm \* \d+ \+ 0 < (\d+) && n0 \+ tn \* \d+ \+ 0 < (\d+)\)/);
    const lr = k.wgsl.match(/^\/\/ lane-row gemm (\d+)x(\d+) · \d+x(\d+), batch (\d+)/);
    if (op === "matmul" && ((mk && mm) || lr)) {
      const [K, M, N] = lr
        ? [Number(lr[2]), Number(lr[1]), Number(lr[3])]
        : [Number(mk[1]), Number(mm[1]), Number(mm[2])];
      const batched = lr ? lr[4] !== "1" : k.wgsl.includes("var<private> bz");
      if (batched) kind = `attention matmul ${M}x${K} · ${K}x${N}`;
      else if (K === tokens) kind = `linear weight grad ${M}x${N}`;
      else if (M === tokens) kind = `linear ${K}->${N}`;
      else kind = `matmul ${M}x${K} · ${K}x${N}`;
    } else if (/_partial$|_reduce$/.test(p.name)) kind = `${op} ${p.name.match(/(partial|reduce)$/)[1]}`;
    const s = kinds.get(kind) ?? { count: 0, ms: 0, flops: 0 };
    s.count++;
    s.ms += p.ms;
    s.flops += p.flops;
    kinds.set(kind, s);
  });
  return [...kinds]
    .map(([kind, s]) => ({ kind, count: s.count, ms: +s.ms.toFixed(2), gflops: +(s.flops / (s.ms * 1e6)).toFixed(2) }))
    .sort((a, b) => b.ms - a.ms);
}
