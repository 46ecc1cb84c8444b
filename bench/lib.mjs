// Helpers the bench's Node workers share (bench/mio-srresnet.mjs, bench/tfjs-srresnet.mjs) and the driver
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
