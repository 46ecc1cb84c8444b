// Dumps the training stream of an experiment (its loader, per stage) as uint8 LQ/GT + task labels, for fast
// recipe exploration in PyTorch. Usage: node scripts/recipe/dump-train.mjs FILE.mio PROFILE OUTDIR [crop batch cand itersScale]
import { mkdirSync, writeFileSync } from "node:fs";
import { checkFile } from "../../dist/compiler/compile.js";
import { openLoader } from "../../dist/runtime/data/loader.js";
import { dataHash } from "../../dist/runtime/data/rng.js";

const [file, profile, out, cropA, batchA, candA, itersA] = process.argv.slice(2);
const { specs, diagnostics } = checkFile(file, { profile });
if (specs.size === 0) throw new Error(JSON.stringify(diagnostics));
const spec = [...specs.values()][0];
const crop = cropA ? Number(cropA) : spec.data.crop;
const batch = batchA ? Number(batchA) : spec.data.batch;
const cand = candA ? Number(candA) : (spec.data.crop_candidates ?? 1);
const scale = itersA ? Number(itersA) : 1;
mkdirSync(out, { recursive: true });
const meta = { tasks: spec.tasks.map((t) => t.name), crop, batch, cand, stages: [] };
for (const [s, stage] of spec.curriculum.stages.entries()) {
  const iters = Math.round(stage.iters * scale);
  const loader = await openLoader({
    sources: spec.data.train.map((t) => ({ root: t.path, weight: t.weight })),
    tasks: spec.tasks,
    stageTasks: stage.tasks,
    crop,
    batch,
    seed: dataHash(`${spec.seed}:stage:${s}`),
    flip: spec.data.flip,
    rot: spec.data.rotate,
    cropCandidates: cand,
    workers: 1,
  });
  const n = iters * batch,
    per = 3 * crop * crop;
  const lq = new Uint8Array(n * per),
    gt = new Uint8Array(n * per),
    task = new Int8Array(n);
  for (let i = 0; i < iters; i++) {
    const b = await loader.next();
    for (let j = 0; j < b.lq.length; j++) {
      lq[i * batch * per + j] = Math.round(Math.min(1, Math.max(0, b.lq[j])) * 255);
      gt[i * batch * per + j] = Math.round(Math.min(1, Math.max(0, b.gt[j])) * 255);
    }
    task.set(b.task, i * batch);
  }
  await loader.close();
  writeFileSync(`${out}/s${s}-lq.u8`, lq);
  writeFileSync(`${out}/s${s}-gt.u8`, gt);
  writeFileSync(`${out}/s${s}-task.i8`, task);
  meta.stages.push({ iters, tasks: stage.tasks, restarts: stage.restarts });
  console.error(`stage ${s}: ${n} samples`);
}
writeFileSync(`${out}/meta.json`, JSON.stringify(meta));
