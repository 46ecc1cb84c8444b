// A counter-based PRNG (Philox4x32-10, Salmon et al. 2011, as in Random123, cuRAND and numpy) for the data pipeline.
//
// Why counter-based: every random draw of the data pipeline is addressed by (seed, stream words, counter), so a sample,
// an image or a degradation can be regenerated on its own, in any worker and in any order, and a loader resumes from
// a plain counter instead of a serialised generator history.

import { fmix32, hashString as fnv1a } from "../../compiler/ir/rng.js";

/**
 * The data pipeline's hash of a string: the project's one string hash (FNV-1a, compiler/ir/rng.ts), then murmur3's
 * finaliser. It names streams (`rng.fork(dataHash("rain"))`), seeds training stages and keys the sample and
 * evaluation caches. The finaliser stays (rather than plain `hashString`) because every data stream, test set and
 * training run so far was drawn from these values, and tests pin some of them.
 *
 * @example dataHash("rain") // 0x8444964d
 */
export function dataHash(s: string): number {
  return fmix32(fnv1a(s));
}

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32s, exactly, with doubles (every partial product is < 2^32). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Philox4x32-10 on scalar words, writing the four outputs to `out` (no allocation: the generator's hot path). */
function philoxInto(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/**
 * One Philox4x32-10 block: four uint32 outputs for a 128-bit counter and a 64-bit key.
 *
 * @example philox4x32([0, 0, 0, 0], [0, 0]) // [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] (Random123 KAT)
 */
export function philox4x32(ctr: readonly number[], key: readonly number[], out: Uint32Array = new Uint32Array(4)) {
  const w = (a: readonly number[], i: number) => (a[i] ?? 0) >>> 0;
  philoxInto(w(ctr, 0), w(ctr, 1), w(ctr, 2), w(ctr, 3), w(key, 0), w(key, 1), out);
  return out;
}

/** Folds a word into a running 32-bit hash (order-sensitive). */
function foldWord(h: number, w: number): number {
  return fmix32((Math.imul(h ^ (w >>> 0), 0x01000193) + 0x7f4a7c15) >>> 0);
}

/** Everything an `Rng` needs to continue exactly where it was; plain JSON. */
export interface RngState {
  key: [number, number];
  stream: [number, number];
  /** Index of the next uint32 in the stream (block = pos >> 2). */
  pos: number;
  /** Box–Muller's second value, when one is pending. */
  spare: number | null;
}

/**
 * A stream of random numbers: Philox4x32-10 keyed by the seed, its counter = (block index, two stream words).
 *
 * @example
 * const rng = Rng.create(42, dataHash("noise"), 7);
 * rng.uniform(1, 3); rng.int(7, 21); rng.normal();
 */
export class Rng {
  private readonly block = new Uint32Array(4);
  private blockIndex = -1;

  private constructor(
    private readonly key: [number, number],
    private readonly stream: [number, number],
    private pos: number,
    private spare: number | null,
  ) {}

  /** A generator for `seed` (any safe integer) and optional stream words (uint32s, e.g. `dataHash(name)`). */
  static create(seed: number, ...words: number[]): Rng {
    if (!Number.isSafeInteger(seed))
      throw new Error(`Argument 'seed' of 'Rng.create' must be a safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    return new Rng([lo, hi], Rng.mixStream([0, 0], words), 0, null);
  }

  static fromState(s: RngState): Rng {
    return new Rng([s.key[0], s.key[1]], [s.stream[0], s.stream[1]], s.pos, s.spare);
  }

  private static mixStream(base: readonly [number, number], words: readonly number[]): [number, number] {
    let a = base[0];
    let b = base[1] ^ 0x5bd1e995;
    for (const w of words) {
      a = foldWord(a, w);
      b = foldWord(b ^ a, w ^ 0x27d4eb2f);
    }
    return [a >>> 0, b >>> 0];
  }

  /** An independent child stream named by `words`; the parent is not advanced. */
  fork(...words: number[]): Rng {
    return new Rng([this.key[0], this.key[1]], Rng.mixStream(this.stream, words), 0, null);
  }

  state(): RngState {
    return {
      key: [this.key[0], this.key[1]],
      stream: [this.stream[0], this.stream[1]],
      pos: this.pos,
      spare: this.spare,
    };
  }

  /** A uniform uint32. */
  u32(): number {
    const b = Math.floor(this.pos / 4);
    if (b !== this.blockIndex) {
      // The 64-bit block index goes in counter words 0-1, the stream in words 2-3.
      philoxInto(
        b >>> 0,
        Math.floor(b / 2 ** 32) >>> 0,
        this.stream[0],
        this.stream[1],
        this.key[0],
        this.key[1],
        this.block,
      );
      this.blockIndex = b;
    }
    const v = this.block[this.pos & 3] ?? 0;
    this.pos++;
    return v;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const a = this.u32() >>> 5;
    const b = this.u32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** U(min, max): `min + (max - min) * float()`, as Python's `random.uniform`. */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  /** A uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /**
   * Fills `out` with standard normal draws, fast: Box–Muller on 32-bit uniforms (two uint32 per pair of normals, so
   * |z| ≤ 6.66). A different sequence from repeated `normal()` calls; a pending `normal()` spare is left alone.
   */
  fillNormal(out: Float32Array | Float64Array): void {
    const n = out.length;
    for (let i = 0; i < n; i += 2) {
      const u1 = (this.u32() + 1) / 4294967296; // (0, 1]
      const u2 = this.u32() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u1));
      const t = 2 * Math.PI * u2;
      out[i] = r * Math.cos(t);
      if (i + 1 < n) out[i + 1] = r * Math.sin(t);
    }
  }

  /**
   * A Poisson draw of mean `lambda`, as numpy's `random_poisson`: below 10, the product of uniforms until it falls
   * under e^−λ (Knuth); from 10 on, Hörmann's transformed rejection (PTRS, 1993), whose cost does not grow with λ.
   */
  poisson(lambda: number): number {
    if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new Error(`poisson(${lambda}): λ must be finite and >= 0`);
    if (lambda === 0) return 0;
    if (lambda < 10) {
      const limit = Math.exp(-lambda);
      let k = 0;
      for (let prod = this.float(); prod > limit; prod *= this.float()) k++;
      return k;
    }
    const slam = Math.sqrt(lambda);
    const loglam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.float() - 0.5;
      const v = this.float();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logGamma(k + 1))
        return k;
    }
  }

  /** A standard normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    // 1 - float() is in (0, 1], so the log is finite.
    const u1 = 1 - this.float();
    const u2 = this.float();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

/** Stirling-series coefficients of log Γ (numpy's `random_loggam`). */
const LOGGAM_A = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4,
  -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059,
];

/**
 * log Γ(x) for x > 0 (numpy's `random_loggam`): the Stirling series at x + n ≥ 7, brought back down with
 * log Γ(x) = log Γ(x + 1) − log x.
 *
 * @example logGamma(5) // log 24
 */
export function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0;
  const n = x < 7 ? Math.floor(7 - x) : 0;
  let x0 = x + n;
  const x2 = 1 / (x0 * x0);
  let gl0 = LOGGAM_A[9] ?? 0;
  for (let k = 8; k >= 0; k--) gl0 = gl0 * x2 + (LOGGAM_A[k] ?? 0);
  let gl = gl0 / x0 + 0.5 * Math.log(2 * Math.PI) + (x0 - 0.5) * Math.log(x0) - x0;
  for (let k = 1; k <= n; k++) {
    gl -= Math.log(x0 - 1);
    x0 -= 1;
  }
  return gl;
}
