// npm run fuzz: a long fuzz campaign over the front end and the compiler, outside `npm test` (docs/language.md,
// "Testing the front end"). Each mutant (scripts/fuzz/mutate.mjs) is checked in a worker process
// (scripts/fuzz/worker.mjs); one that checks clean is lowered and compiled too. A mutant that runs past the time
// limit is a hang: its worker is killed and a fresh one started. Prints the counts by outcome and, for each
// `internal`, `hang` or `crash`, the seed, index, mutations and first line of the error; writes those mutants to
// fuzz-out/ (the mutated .mio, and a .replay: JSON with the mutant and its outcome; not .json, which Biome would
// lint), and groups the errors by message at the end.
//
// usage: npm run fuzz -- [--n 10000] [--seed 1] [--from 0] [--timeout 10] [--jobs 1] [--out fuzz-out]
//        npm run fuzz -- --replay fuzz-out/internal-s1-i42.replay    (in this process, printing the whole stack)
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCorpus, mutant } from "./mutate.mjs";

const here = join(fileURLToPath(import.meta.url), "..");
const BAD = ["internal", "hang", "crash"];

/** The first line of an error with its numbers and quoted names blanked: failures of one kind share it. */
export function signature(f) {
  const first = (f.message ?? "").split("\n")[0] ?? "";
  const general = first
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/(?<![A-Za-z])-?\d+(\.\d+)?(e[+-]?\d+)?/gi, "N");
  return `${f.outcome} [${f.stage}] ${general}`;
}

/** One worker process: runs one mutant at a time, with a time limit after which it is killed. */
class Worker {
  constructor(scratch) {
    this.proc = spawn(process.execPath, ["--max-old-space-size=4096", join(here, "worker.mjs")], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, MIO_FUZZ_SCRATCH: scratch },
    });
    this.buffer = "";
    this.stderr = "";
    this.current = undefined;
    this.ready = new Promise((resolve) => {
      this.onReady = resolve;
    });
    this.proc.stdout.on("data", (chunk) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim()) this.message(JSON.parse(line));
      }
    });
    this.proc.stderr.on("data", (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.proc.on("exit", (code, signal) => {
      this.dead = true;
      const c = this.current;
      if (c)
        this.finish({
          outcome: "crash",
          stage: c.stage,
          message: `worker exited (${signal ?? code}): ${this.stderr.trim().split("\n").slice(-3).join(" | ")}`,
          ms: Math.round(performance.now() - c.t0),
        });
    });
  }

  message(o) {
    if (o.ready) return this.onReady();
    const c = this.current;
    if (!c || o.id !== c.id) return;
    if (!o.done) {
      c.stage = o.stage;
      return;
    }
    const { id: _, done: __, ...result } = o;
    this.finish(result);
  }

  finish(result) {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    clearTimeout(c.timer);
    c.resolve(result);
  }

  async run(id, m, timeoutMs) {
    await Promise.race([this.ready, new Promise((resolve) => this.proc.on("exit", resolve))]);
    if (this.dead)
      return { outcome: "crash", stage: "check", message: `worker did not start: ${this.stderr.trim()}`, ms: 0 };
    return new Promise((resolve) => {
      const t0 = performance.now();
      this.current = { id, resolve, t0, stage: "check" };
      this.current.timer = setTimeout(() => {
        const c = this.current;
        this.finish({
          outcome: "hang",
          stage: c?.stage,
          message: `no answer after ${timeoutMs / 1000} s`,
          ms: Math.round(performance.now() - t0),
        });
        this.proc.kill("SIGKILL");
        this.dead = true;
      }, timeoutMs);
      this.proc.stdin.write(`${JSON.stringify({ id, ...m })}\n`);
    });
  }

  /** Ends the worker; resolves once it has exited, so that its scratch folder can go. */
  close() {
    if (this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.on("exit", resolve);
      this.proc.stdin.end();
    });
  }
}

/**
 * Runs mutants `from .. from + n - 1` of campaign `seed`. Returns the counts by outcome, the failures (internal, hang,
 * crash: `{ seed, index, outcome, stage, message, mutations, file }`), the failures grouped by signature, and the
 * slowest mutants.
 */
export async function runCampaign({
  n = 10000,
  seed = 1,
  from = 0,
  timeoutMs = 10_000,
  jobs = 1,
  out,
  log = () => {},
} = {}) {
  const corpus = loadCorpus();
  const counts = { compiled: 0, checked: 0, diagnostics: 0, refused: 0, internal: 0, hang: 0, crash: 0 };
  const failures = [];
  const slowest = [];
  const t0 = performance.now();
  let next = from;
  let done = 0;
  if (out) mkdirSync(out, { recursive: true });

  const record = (index, m, result) => {
    counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
    slowest.push({ index, ms: result.ms, outcome: result.outcome, file: m.file });
    slowest.sort((a, b) => b.ms - a.ms);
    slowest.length = Math.min(slowest.length, 5);
    if (BAD.includes(result.outcome)) {
      const f = { seed, index, file: m.file, mutations: m.mutations, ...result };
      failures.push(f);
      const first = (result.message ?? "").split("\n")[0];
      log(
        `${result.outcome} seed ${seed} index ${index} [${result.stage}] ${m.file}: ${m.mutations.join("; ")}\n  ${first}`,
      );
      if (out) {
        const name = `${result.outcome}-s${seed}-i${index}`;
        writeFileSync(
          join(out, `${name}.replay`),
          `${JSON.stringify({ ...f, text: m.text, stdlib: m.stdlib }, null, 2)}\n`,
        );
        writeFileSync(join(out, `${name}.mio`), m.stdlib ? m.stdlib.text : m.text);
      }
    }
    done++;
    if (done % 500 === 0) {
      const s = (performance.now() - t0) / 1000;
      log(`… ${done}/${n} in ${s.toFixed(0)} s (${(done / s).toFixed(1)}/s): ${JSON.stringify(counts)}`);
    }
  };

  const scratch = mkdtempSync(join(tmpdir(), "mio-fuzz-"));
  const lane = async () => {
    let w = new Worker(scratch);
    while (next < from + n) {
      const index = next++;
      const m = mutant(corpus, seed, index);
      if (w.dead) w = new Worker(scratch);
      record(index, m, await w.run(index, m, timeoutMs));
    }
    await w.close();
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, jobs) }, lane));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const groups = new Map();
  for (const f of failures) {
    const s = signature(f);
    const g = groups.get(s) ?? { signature: s, count: 0, example: f };
    g.count++;
    groups.set(s, g);
  }
  const signatures = [...groups.values()].sort((a, b) => b.count - a.count);
  return { counts, failures, signatures, slowest, seconds: (performance.now() - t0) / 1000 };
}

function option(argv, name, fallback) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  if (v === undefined) throw new Error(`--${name} takes a value`);
  return v;
}

async function main(argv) {
  const known = ["n", "seed", "from", "timeout", "jobs", "out", "replay"];
  for (let i = 0; i < argv.length; i += 2)
    if (!known.includes(argv[i]?.replace(/^--/, "") ?? ""))
      throw new Error(`unknown option '${argv[i]}' (see scripts/fuzz/campaign.mjs)`);
  const replay = option(argv, "replay", undefined);
  if (replay) {
    const { runMutant } = await import("./worker.mjs");
    const f = JSON.parse(readFileSync(replay, "utf8"));
    console.log(`${f.file}: ${f.mutations.join("; ")}`);
    const t0 = performance.now();
    const r = runMutant(f);
    console.log(`${r.outcome} [${r.stage}] after ${Math.round(performance.now() - t0)} ms\n${r.message ?? ""}`);
    return;
  }
  const n = Number(option(argv, "n", "10000"));
  const seed = Number(option(argv, "seed", "1"));
  const from = Number(option(argv, "from", "0"));
  const timeoutMs = Number(option(argv, "timeout", "10")) * 1000;
  const jobs = Number(option(argv, "jobs", "1"));
  const out = option(argv, "out", "fuzz-out");
  for (const [k, v] of Object.entries({ n, seed, from, timeout: timeoutMs, jobs }))
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${k} takes a whole number, got ${v}`);
  const log = (s) => process.stderr.write(`${s}\n`);
  log(
    `fuzz: ${n} mutants of seed ${seed} from ${from}, ${timeoutMs / 1000} s each at most, ${jobs} worker(s); failures to ${out}/`,
  );
  const r = await runCampaign({ n, seed, from, timeoutMs, jobs, out, log });
  console.log(`\n${n} mutants in ${r.seconds.toFixed(0)} s (${(n / r.seconds).toFixed(1)}/s)`);
  for (const [k, v] of Object.entries(r.counts)) console.log(`  ${k.padEnd(12)} ${v}`);
  console.log(`slowest: ${r.slowest.map((s) => `#${s.index} ${s.ms} ms (${s.outcome}, ${s.file})`).join(", ")}`);
  if (r.signatures.length) {
    console.log(`\n${r.signatures.length} distinct failures:`);
    for (const g of r.signatures)
      console.log(
        `  ${String(g.count).padStart(5)}  ${g.signature}\n         e.g. ${out}/${g.example.outcome}-s${seed}-i${g.example.index}.replay`,
      );
  }
  process.exitCode = BAD.some((k) => r.counts[k] > 0) ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
