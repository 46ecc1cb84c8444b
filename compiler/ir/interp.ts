// The CPU reference interpreter: float64, written for clarity, not speed. It is the definition of every op that
// the WGSL kernels, the backward rules (finite differences) and the PyTorch fixtures are tested against.

import { erf } from "./erf.js";
import { bilinearTaps, broadcastStrides, reflectIndex } from "./indexing.js";
import { type Attrs, assert, at, CompilerBug, type Node, numel, type Shape, stridesOf } from "./node.js";
import { num, nums, type OpName, str } from "./ops.js";
import { counterUniform } from "./rng.js";

export type CpuRule = (src: readonly Float64Array[], n: Node) => Float64Array;

const shapeOf = (n: Node, i: number): Shape => at(n.src, i).shape;

function addAt(a: Float64Array, i: number, v: number): void {
  a[i] = (a[i] ?? 0) + v;
}

/** Calls `f(flat, coords)` for every element of `shape` in row-major order. */
function forEachIndex(shape: Shape, f: (flat: number, c: readonly number[]) => void): void {
  const n = numel(shape);
  const c = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    f(i, c);
    for (let a = shape.length - 1; a >= 0; a--) {
      c[a] = (c[a] ?? 0) + 1;
      if ((c[a] ?? 0) < (shape[a] ?? 0)) break;
      c[a] = 0;
    }
  }
}

function unary(f: (x: number, a: Attrs) => number): CpuRule {
  return ([x], n) => {
    const xs = x ?? new Float64Array();
    const out = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = f(xs[i] ?? 0, n.attrs);
    return out;
  };
}

function binary(f: (a: number, b: number) => number): CpuRule {
  return ([a, b], n) => {
    const [sa, sb] = [n.src[0]?.shape ?? [], n.src[1]?.shape ?? []];
    const ta = broadcastStrides(sa, n.shape);
    const tb = broadcastStrides(sb, n.shape);
    const out = new Float64Array(numel(n.shape));
    const av = a ?? new Float64Array();
    const bv = b ?? new Float64Array();
    forEachIndex(n.shape, (i, c) => {
      let ia = 0;
      let ib = 0;
      for (let k = 0; k < c.length; k++) {
        ia += (c[k] ?? 0) * (ta[k] ?? 0);
        ib += (c[k] ?? 0) * (tb[k] ?? 0);
      }
      out[i] = f(av[ia] ?? 0, bv[ib] ?? 0);
    });
    return out;
  };
}

/** Gather-style op: `f(coords)` returns the output value at those coordinates. */
function gather(make: (src: readonly Float64Array[], n: Node) => (c: readonly number[]) => number): CpuRule {
  return (src, n) => {
    const f = make(src, n);
    const out = new Float64Array(numel(n.shape));
    forEachIndex(n.shape, (i, c) => {
      out[i] = f(c);
    });
    return out;
  };
}

/** Position `index[p]` of an index tensor: an integer in [0, size), else the graph is broken. */
function indexAt(index: ArrayLike<number>, p: number, size: number, n: Node): number {
  const r = at(index, p);
  assert(Number.isInteger(r) && r >= 0 && r < size, () => `index ${r} at position ${p} is not in [0, ${size})`, n);
  return r;
}

/** Weight with which input index `i` contributes to output `o` under bilinear resize (0 if it does not). */
function bilinearWeight(o: number, i: number, inSize: number, outSize: number): number {
  const [i0, i1, w0, w1] = bilinearTaps(o, inSize, outSize);
  return (i0 === i ? w0 : 0) + (i1 === i ? w1 : 0);
}

/**
 * Visits each (output gradient g, input index, weight index) of a convolution with x of shape `xs`, w of `ws` and
 * dy of `ys`, skipping taps in the zero padding: both gradients are sums over these triples.
 */
function convTaps(
  dy: Float64Array,
  xs: Shape,
  ws: Shape,
  ys: Shape,
  n: Node,
  visit: (g: number, xIndex: number, wIndex: number) => void,
): void {
  const [nb, ci, h, wd] = xs as [number, number, number, number];
  const [co, cpg, kh, kw] = ws as [number, number, number, number];
  const [, , ho, wo] = ys as [number, number, number, number];
  const stride = num(n.attrs, "stride");
  const pad = num(n.attrs, "pad");
  // Output channel o reads the cpg input channels of its group (all of them when dense: groups = 1).
  const opg = co / (ci / cpg);
  for (let b = 0; b < nb; b++)
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          const g = at(dy, ((b * co + o) * ho + i) * wo + j);
          if (g === 0) continue;
          for (let cl = 0; cl < cpg; cl++) {
            const c = Math.floor(o / opg) * cpg + cl;
            for (let a = 0; a < kh; a++) {
              const yy = i * stride + a - pad;
              if (yy < 0 || yy >= h) continue;
              for (let e = 0; e < kw; e++) {
                const xx = j * stride + e - pad;
                if (xx < 0 || xx >= wd) continue;
                visit(g, ((b * ci + c) * h + yy) * wd + xx, ((o * cpg + cl) * kh + a) * kw + e);
              }
            }
          }
        }
}

/** Every input index that padding maps onto output position `o` (1 for zeros mode, reflection for reflect). */
function padSource(o: number, before: number, size: number, mode: string): number {
  const i = o - before;
  if (mode === "reflect") return reflectIndex(i, size);
  return i >= 0 && i < size ? i : -1;
}

/** A (grouped) convolution: output channel o reads the w.shape[1] input channels of its group. */
function conv2d(x: Float64Array, w: Float64Array, xs: Shape, ws: Shape, ys: Shape, stride: number, pad: number) {
  const [nb, ci, h, wd] = xs as [number, number, number, number];
  const [co, cpg, kh, kw] = ws as [number, number, number, number];
  const [, , ho, wo] = ys as [number, number, number, number];
  const opg = co / (ci / cpg);
  const y = new Float64Array(numel(ys));
  for (let n = 0; n < nb; n++)
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let acc = 0;
          for (let cl = 0; cl < cpg; cl++) {
            const c = Math.floor(o / opg) * cpg + cl;
            for (let a = 0; a < kh; a++) {
              const yy = i * stride + a - pad;
              if (yy < 0 || yy >= h) continue;
              for (let b = 0; b < kw; b++) {
                const xx = j * stride + b - pad;
                if (xx < 0 || xx >= wd) continue;
                acc +=
                  (x[((n * ci + c) * h + yy) * wd + xx] as number) * (w[((o * cpg + cl) * kh + a) * kw + b] as number);
              }
            }
          }
          y[((n * co + o) * ho + i) * wo + j] = acc;
        }
  return y;
}

const convForward: CpuRule = ([x, w], n) =>
  conv2d(
    x ?? new Float64Array(),
    w ?? new Float64Array(),
    shapeOf(n, 0),
    shapeOf(n, 1),
    n.shape,
    num(n.attrs, "stride"),
    num(n.attrs, "pad"),
  );
const convBwdX: CpuRule = ([dy, w], n) => {
  const dx = new Float64Array(numel(n.shape));
  const wv = w ?? new Float64Array();
  convTaps(dy ?? new Float64Array(), n.shape, shapeOf(n, 1), shapeOf(n, 0), n, (g, xi, wi) =>
    addAt(dx, xi, g * (wv[wi] as number)),
  );
  return dx;
};
const convBwdW: CpuRule = ([x, dy], n) => {
  const dw = new Float64Array(numel(n.shape));
  const xv = x ?? new Float64Array();
  convTaps(dy ?? new Float64Array(), shapeOf(n, 0), n.shape, shapeOf(n, 1), n, (g, xi, wi) =>
    addAt(dw, wi, g * (xv[xi] as number)),
  );
  return dw;
};

/** The CPU reference of every op (float64). */
export const cpuRules = {
  input: (_s, n) => {
    throw new CompilerBug(`input '${String(n.attrs.name)}' has no value`, n);
  },
  const: (_s, n) => new Float64Array(numel(n.shape)).fill(num(n.attrs, "value")),
  iota: gather((_s, n) => {
    const axis = num(n.attrs, "axis");
    return (c) => c[axis] ?? 0;
  }),
  affine: unary((x, a) => num(a, "a") * x + num(a, "b")),
  leaky_relu: unary((x, a) => (x > 0 ? x : num(a, "alpha") * x)),
  leaky_step: unary((x, a) => (x > 0 ? 1 : num(a, "alpha"))),
  abs: unary((x) => Math.abs(x)),
  sign: unary((x) => Math.sign(x)),
  exp: unary((x) => Math.exp(x)),
  log: unary((x) => Math.log(x)),
  sqrt: unary((x) => Math.sqrt(x)),
  erf: unary((x) => erf(x)),
  add: binary((a, b) => a + b),
  sub: binary((a, b) => a - b),
  mul: binary((a, b) => a * b),
  div: binary((a, b) => a / b),
  reshape: ([x]) => Float64Array.from(x ?? []),
  permute: gather(([x], n) => {
    const perm = nums(n.attrs, "perm");
    const xs = stridesOf(n.src[0]?.shape ?? []);
    return (c) =>
      at(
        x ?? [],
        c.reduce((s, v, i) => s + v * (xs[at(perm, i)] ?? 0), 0),
      );
  }),
  expand: gather(([x], n) => {
    const t = broadcastStrides(n.src[0]?.shape ?? [], n.shape);
    return (c) =>
      at(
        x ?? [],
        c.reduce((s, v, i) => s + v * (t[i] ?? 0), 0),
      );
  }),
  pad: gather(([x], n) => {
    const [, , h, w] = n.src[0]?.shape ?? [];
    const [t, , l] = nums(n.attrs, "pads");
    const mode = str(n.attrs, "mode");
    return ([b, ch, i, j]) => {
      const si = padSource(i ?? 0, t ?? 0, h ?? 0, mode);
      const sj = padSource(j ?? 0, l ?? 0, w ?? 0, mode);
      if (si < 0 || sj < 0) return 0;
      return at(x ?? [], (((b ?? 0) * (n.shape[1] ?? 0) + (ch ?? 0)) * (h ?? 0) + si) * (w ?? 0) + sj);
    };
  }),
  pad_bwd: ([g], n) => {
    // The adjoint of pad: every padded position adds its gradient to the input position it was read from.
    const [nb, ch, hp, wp] = n.src[0]?.shape ?? [];
    const [, , h, w] = n.shape as [number, number, number, number];
    const [t, , l] = nums(n.attrs, "pads");
    const mode = str(n.attrs, "mode");
    const out = new Float64Array(numel(n.shape));
    for (let p = 0; p < (nb ?? 0) * (ch ?? 0); p++)
      for (let i = 0; i < (hp ?? 0); i++)
        for (let j = 0; j < (wp ?? 0); j++) {
          const si = padSource(i, t ?? 0, h, mode);
          const sj = padSource(j, l ?? 0, w, mode);
          if (si >= 0 && sj >= 0) addAt(out, (p * h + si) * w + sj, at(g ?? [], (p * (hp ?? 0) + i) * (wp ?? 0) + j));
        }
    return out;
  },
  slice: gather(([x], n) => {
    const begin = nums(n.attrs, "begin");
    const xs = stridesOf(n.src[0]?.shape ?? []);
    return (c) =>
      at(
        x ?? [],
        c.reduce((s, v, i) => s + (v + (begin[i] ?? 0)) * (xs[i] ?? 0), 0),
      );
  }),
  embed: gather(([x], n) => {
    const begin = nums(n.attrs, "begin");
    const ss = n.src[0]?.shape ?? [];
    const xs = stridesOf(ss);
    return (c) => {
      let off = 0;
      for (let i = 0; i < c.length; i++) {
        const v = (c[i] ?? 0) - (begin[i] ?? 0);
        if (v < 0 || v >= (ss[i] ?? 0)) return 0;
        off += v * (xs[i] ?? 0);
      }
      return at(x ?? [], off);
    };
  }),
  concat: gather((src, n) => {
    const axis = num(n.attrs, "axis");
    return (c) => {
      let v = c[axis] ?? 0;
      for (let k = 0; k < n.src.length; k++) {
        const s = n.src[k]?.shape ?? [];
        if (v < (s[axis] ?? 0)) {
          const st = stridesOf(s);
          return at(
            src[k] ?? [],
            c.reduce((o, ci, i) => o + (i === axis ? v : ci) * (st[i] ?? 0), 0),
          );
        }
        v -= s[axis] ?? 0;
      }
      throw new CompilerBug("concat index out of range", n);
    };
  }),
  resize: gather(([x], n) => {
    const [, ch, h, w] = shapeOf(n, 0) as [number, number, number, number];
    const [, , ho, wo] = n.shape as [number, number, number, number];
    return ([b, c, i, j]) => {
      const [y0, y1, wy0, wy1] = bilinearTaps(i ?? 0, h, ho);
      const [x0, x1, wx0, wx1] = bilinearTaps(j ?? 0, w, wo);
      const base = ((b ?? 0) * ch + (c ?? 0)) * h;
      const v = (yy: number, xx: number) => at(x ?? [], (base + yy) * w + xx);
      return wy0 * (wx0 * v(y0, x0) + wx1 * v(y0, x1)) + wy1 * (wx0 * v(y1, x0) + wx1 * v(y1, x1));
    };
  }),
  resize_bwd: gather(([g], n) => {
    const [, ch, ho, wo] = shapeOf(n, 0) as [number, number, number, number];
    const [, , h, w] = n.shape as [number, number, number, number];
    return ([b, c, i, j]) => {
      let acc = 0;
      for (let oi = 0; oi < ho; oi++) {
        const wy = bilinearWeight(oi, i ?? 0, h, ho);
        if (wy === 0) continue;
        for (let oj = 0; oj < wo; oj++) {
          const wx = bilinearWeight(oj, j ?? 0, w, wo);
          if (wx !== 0) acc += wy * wx * at(g ?? [], (((b ?? 0) * ch + (c ?? 0)) * ho + oi) * wo + oj);
        }
      }
      return acc;
    };
  }),
  roll: gather(([x], n) => {
    const shifts = nums(n.attrs, "shifts");
    const axes = nums(n.attrs, "axes");
    const s = n.shape;
    const xs = stridesOf(s);
    return (c) => {
      let off = 0;
      for (let i = 0; i < c.length; i++) {
        const k = axes.indexOf(i);
        const d = s[i] ?? 1;
        const from = k < 0 ? (c[i] ?? 0) : ((((c[i] ?? 0) - (shifts[k] ?? 0)) % d) + d) % d;
        off += from * (xs[i] ?? 0);
      }
      return at(x ?? [], off);
    };
  }),
  index_select: gather(([x, index], n) => {
    const axis = num(n.attrs, "axis");
    const ss = shapeOf(n, 0);
    const xs = stridesOf(ss);
    return (c) =>
      at(
        x ?? [],
        c.reduce((o, v, i) => o + (i === axis ? indexAt(index ?? [], v, ss[axis] ?? 0, n) : v) * (xs[i] ?? 0), 0),
      );
  }),
  index_select_bwd: ([g, index], n) => {
    // The adjoint: every position p of g adds to the output position index[p] along the axis.
    const axis = num(n.attrs, "axis");
    const size = num(n.attrs, "size");
    const st = stridesOf(n.shape);
    const out = new Float64Array(numel(n.shape));
    forEachIndex(shapeOf(n, 0), (i, c) => {
      const o = c.reduce((a, v, k) => a + (k === axis ? indexAt(index ?? [], v, size, n) : v) * (st[k] ?? 0), 0);
      addAt(out, o, at(g ?? [], i));
    });
    return out;
  },
  sum: ([x], n) => {
    const ss = n.src[0]?.shape ?? [];
    const t = stridesOf(n.shape);
    const out = new Float64Array(numel(n.shape));
    forEachIndex(ss, (i, c) => {
      let o = 0;
      for (let k = 0; k < c.length; k++) o += (n.shape[k] === 1 ? 0 : (c[k] ?? 0)) * (t[k] ?? 0);
      out[o] = (out[o] ?? 0) + at(x ?? [], i);
    });
    return out;
  },
  softmax: ([x], n) => {
    const axis = num(n.attrs, "axis");
    const s = n.shape;
    const stride = stridesOf(s)[axis] ?? 1;
    const len = s[axis] ?? 1;
    const out = new Float64Array(numel(s));
    forEachIndex(s, (i, c) => {
      if ((c[axis] ?? 0) !== 0) return;
      let m = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < len; k++) m = Math.max(m, at(x ?? [], i + k * stride));
      let z = 0;
      for (let k = 0; k < len; k++) z += Math.exp(at(x ?? [], i + k * stride) - m);
      for (let k = 0; k < len; k++) out[i + k * stride] = Math.exp(at(x ?? [], i + k * stride) - m) / z;
    });
    return out;
  },
  rand: ([counter], n) => {
    const step = at(counter ?? [], 0);
    assert(Number.isInteger(step) && step >= 0 && step < 2 ** 24, () => `rand counter ${step} is not in [0, 2^24)`, n);
    const seed = num(n.attrs, "seed");
    return Float64Array.from({ length: numel(n.shape) }, (_, i) => counterUniform(seed, step, i));
  },
  matmul: ([a, b], n) => {
    const sa = shapeOf(n, 0);
    const [m, k] = sa.slice(-2) as [number, number];
    const nn = n.shape[n.shape.length - 1] ?? 0;
    const batch = numel(sa.slice(0, -2));
    const out = new Float64Array(batch * m * nn);
    for (let z = 0; z < batch; z++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < nn; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += at(a ?? [], (z * m + i) * k + p) * at(b ?? [], (z * k + p) * nn + j);
          out[(z * m + i) * nn + j] = acc;
        }
    return out;
  },
  conv2d: convForward,
  conv2d_bwd_x: convBwdX,
  conv2d_bwd_w: convBwdW,
  // The same loops: the weight's shape says how many input channels each output channel reads.
  conv2d_grouped: convForward,
  conv2d_grouped_bwd_x: convBwdX,
  conv2d_grouped_bwd_w: convBwdW,
} satisfies Record<OpName, CpuRule>;

/**
 * Evaluates `outputs` on the CPU in float64, given every input's value by name.
 * @example const [y] = interpret([y], { x: new Float64Array(16) });
 */
export function interpret(
  outputs: readonly Node[],
  inputs: Readonly<Record<string, ArrayLike<number>>>,
  cache = new Map<Node, Float64Array>(),
): Float64Array[] {
  // Node ids are a topological order, so evaluating the needed nodes by id never meets a missing source.
  const needed = new Map<number, Node>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (needed.has(n.id) || cache.has(n)) continue;
    needed.set(n.id, n);
    stack.push(...n.src);
  }
  for (const n of [...needed.values()].sort((a, b) => a.id - b.id)) {
    let v: Float64Array;
    if (n.op === "input") {
      const given = inputs[String(n.attrs.name)];
      assert(given !== undefined, () => `no value for input '${String(n.attrs.name)}'`, n);
      assert(given.length === numel(n.shape), () => `input '${String(n.attrs.name)}' has ${given.length} values`, n);
      v = Float64Array.from(given);
    } else {
      const rule: CpuRule = cpuRules[n.op];
      v = rule(
        n.src.map((s) => cache.get(s) as Float64Array),
        n,
      );
    }
    cache.set(n, v);
  }
  return outputs.map((n) => cache.get(n) as Float64Array);
}
