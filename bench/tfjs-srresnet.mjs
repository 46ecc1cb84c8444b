// The bench's TF.js worker: the same SRResNet as stdlib/backbones/srresnet.mio (BasicSR MSRResNet, upscale 1) on
// TensorFlow.js's WebGPU backend, on the Dawn adapter mio uses (npm `webgpu`, lavapipe here). Adapted from the anchor
// benchmark of docs/bench.md, "What lavapipe allows". bench/run.mjs starts it in its own process; the last stdout line
// is the result as JSON, progress goes to stderr.
// usage: node bench/tfjs-srresnet.mjs train FEAT BLOCKS BATCH PATCH STEPS WARMUP
//        node bench/tfjs-srresnet.mjs infer FEAT BLOCKS SIZE STEPS WARMUP
import { createRequire } from "node:module";
import os from "node:os";
import { create, globals } from "webgpu";
import { fwdFlops, measure } from "./lib.mjs";

const require = createRequire(import.meta.url);
const [mode, ...rest] = process.argv.slice(2);
const nums = rest.map(Number);

process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
Object.assign(globalThis, globals);
// NOTE: the object create() returns must stay reachable for the life of the process (docs/architecture.md, "The GPU
// device").
const dawn = create([]);
globalThis.__benchDawn = dawn;
Object.defineProperty(globalThis, "navigator", { value: { gpu: dawn }, configurable: true, writable: true });
// The union bundle registers the gradients (tfjs-core alone has none); the WebGPU backend registers itself.
const tf = require("@tensorflow/tfjs");
require("@tensorflow/tfjs-backend-webgpu");
if (!(await tf.setBackend("webgpu"))) throw new Error("TF.js could not start its WebGPU backend");
await tf.ready();
// Dawn busy-waits the JS thread while TF.js awaits the GPU: lower this thread's priority, as mio does
// (docs/architecture.md, "The GPU device").
os.setPriority(19);
// TF.js keeps only vendor and architecture; ask the same instance for the adapter's description (what mio reports).
const adapter = await dawn.requestAdapter({ powerPreference: "high-performance" });

tf.setSeed?.(0);
const vars = [];
/** BasicSR's default_init_weights: Kaiming normal (fan in) times 0.1, zero bias, on every conv of MSRResNet. */
function conv(cin, cout) {
  const w = tf.variable(tf.randomNormal([3, 3, cin, cout], 0, 0.1 * Math.sqrt(2 / (9 * cin)), "float32", vars.length));
  const b = tf.variable(tf.zeros([cout]));
  vars.push(w, b);
  return { w, b };
}
const applyConv = (x, c) => tf.add(tf.conv2d(x, c.w, 1, "same"), c.b);

function model(feat, blocks) {
  const first = conv(3, feat);
  const body = Array.from({ length: blocks }, () => [conv(feat, feat), conv(feat, feat)]);
  const hr = conv(feat, feat);
  const last = conv(feat, 3);
  return (x) => {
    let h = tf.leakyRelu(applyConv(x, first), 0.1);
    for (const [c1, c2] of body) h = tf.add(h, applyConv(tf.relu(applyConv(h, c1)), c2));
    return tf.add(applyConv(tf.leakyRelu(applyConv(h, hr), 0.1), last), x);
  };
}

let result;
if (mode === "train") {
  const [feat, blocks, batch, patch, steps, warmup] = nums;
  const forward = model(feat, blocks);
  // NHWC, TF.js's layout; the data are random, as for the other peers.
  const lq = tf.randomUniform([batch, patch, patch, 3], 0, 1, "float32", 101);
  const gt = tf.randomUniform([batch, patch, patch, 3], 0, 1, "float32", 102);
  const opt = tf.train.adam(2e-4, 0.9, 0.99, 1e-8);
  // One step: L1 loss, gradients, Adam, and the loss read back (as mio and PyTorch do each step).
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.abs(tf.sub(forward(lq), gt))), vars);
    opt.applyGradients(grads);
    const l = (await value.data())[0];
    value.dispose();
    for (const k in grads) grads[k].dispose();
    return l;
  };
  const { last, ...timing } = await measure("step", steps, warmup, step);
  result = {
    ...timing,
    gflops: +((3 * fwdFlops(feat, blocks, patch, patch, batch)) / (timing.medianMs * 1e6)).toFixed(2),
    loss: last,
    tensors: tf.memory().numTensors,
  };
} else if (mode === "infer") {
  const [feat, blocks, size, steps, warmup] = nums;
  const forward = model(feat, blocks);
  const x = tf.randomUniform([1, size, size, 3], 0, 1, "float32", 101);
  // The time includes reading the output back, as mio's and PyTorch's do.
  const run = async () => {
    const y = tf.tidy(() => forward(x));
    const v = await y.data();
    y.dispose();
    return v[0];
  };
  const { last: _, ...timing } = await measure("infer", steps, warmup, run);
  result = { ...timing, gflops: +(fwdFlops(feat, blocks, size, size, 1) / (timing.medianMs * 1e6)).toFixed(2) };
} else {
  throw new Error(`unknown mode '${mode}': train or infer`);
}
result.adapter = adapter?.info.description ?? null;
result.tfjs = tf.version_core;
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
