// The project's one string hash, and the sequential generator of parameter init. The data pipeline's generator is
// the counter-based Philox in runtime/data/rng.ts; why there are two generators is on `SequentialRng`.

const FNV_OFFSET = 0x811c9dc5;

/** murmur3's 32-bit finaliser: a bijective mix of one word (the data pipeline's hash and stream mixing use it). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The `rand` op's draw for element `index` at step `counter` under `seed`: uniform in [0, 1) on a 2^-24 grid, so the
 * f32 kernels compute exactly the same values (compiler/wgsl/rules.ts mirrors it). Three rounds of `fmix32`, each a
 * bijection, so distinct (counter, index) pairs of one seed give unrelated words.
 *
 * @example counterUniform(7, 1, 0) // the first draw of step 1 under seed 7
 */
export function counterUniform(seed: number, counter: number, index: number): number {
  const step = fmix32(seed ^ fmix32((counter ^ 0x9e3779b9) >>> 0));
  const h = fmix32((step + Math.imul(index, 0x9e3779b9)) >>> 0);
  return (h >>> 8) / 16777216;
}

/**
 * The project's one string hash: 32-bit FNV-1a of the UTF-16 code units, started from `seed`. It seeds each
 * parameter's init from (model seed, name); the data pipeline's `dataHash` (runtime/data/rng.ts) is this hash with
 * `fmix32` on top. Plain FNV-1a here because the committed PyTorch goldens (tests/fixtures/compiler) were made from
 * the init values these seeds give.
 *
 * @example hashString("rain") // 0x89a3b5d3; hashString("conv.weight", seed) seeds that parameter's init
 */
export function hashString(s: string, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A small sequential generator (mulberry32) with uniform and normal draws, for parameter init (one stream per
 * parameter, seeded by `hashString(name, seed)`) and for the compiler tests' inputs. Why not the data pipeline's
 * Philox `Rng`: nothing here needs a draw addressed by a counter, and its sequence is what every compiler test's
 * inputs are, so switching would move them all for no gain.
 *
 * @example const r = new SequentialRng(0); r.uniform(-1, 1);
 */
export class SequentialRng {
  private state: number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal by Box-Muller. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
