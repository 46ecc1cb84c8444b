// Shared test helpers: seeded data, a relative-error metric, central finite differences on the CPU reference.
import { grad } from "../../compiler/autodiff/grad.js";
import { interpret } from "../../compiler/ir/interp.js";
import type { Node } from "../../compiler/ir/node.js";
import { SequentialRng } from "../../compiler/ir/rng.js";
import type { GraphOps } from "../../compiler/ir/tensor-ops.js";

/** Seeded uniform values in [lo, hi). */
export function uniform(seed: number, n: number, lo = -1, hi = 1): Float64Array {
  const r = new SequentialRng(seed);
  return Float64Array.from({ length: n }, () => r.uniform(lo, hi));
}

/** Seeded values in [-hi, -lo] ∪ [lo, hi]: away from the kinks of abs/relu/sign at 0. */
export function awayFromZero(seed: number, n: number, lo = 0.2, hi = 1): Float64Array {
  const r = new SequentialRng(seed);
  return Float64Array.from({ length: n }, () => (r.next() < 0.5 ? -1 : 1) * r.uniform(lo, hi));
}

/** max |a - b| / max(max |b|, tiny): error relative to the tensor's scale. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  let den = 1e-30;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? Number.NaN;
    const y = b[i] ?? Number.NaN;
    const d = Math.abs(x - y);
    if (!(d <= num)) num = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    den = Math.max(den, Math.abs(y));
  }
  return num / den;
}

/** `sum(c * y)` for a data input `c` named `name`: its gradient with respect to `y` is `c`, a random cotangent. */
export function cotangentLoss(o: GraphOps, y: Node, name: string): Node {
  const c = o.input(name, y.shape, "data");
  return o.reshape(
    o.sum(
      o.mul(c, y),
      y.shape.map((_, i) => i),
    ),
    [1],
  );
}

/**
 * Builds L = sum(c * y) for a fixed random cotangent c and returns the autodiff gradients (evaluated by the CPU
 * reference) and the central finite-difference gradients of L with respect to each input.
 */
export function gradcheck(
  o: GraphOps,
  y: Node,
  inputs: readonly Node[],
  values: Record<string, Float64Array>,
  eps = 1e-6,
): { analytic: Float64Array[]; numeric: Float64Array[]; loss: Node; grads: Node[] } {
  const n = y.shape.reduce((a, b) => a * b, 1);
  const cname = `__cot${y.id}`;
  const loss = cotangentLoss(o, y, cname);
  const grads = grad(o, loss, inputs);
  const all = { ...values, [cname]: uniform(99, n) };
  const analytic = interpret(grads, all);
  const numeric = inputs.map((x) => {
    const name = String(x.attrs.name);
    const base = all[name] as Float64Array;
    const out = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const keep = base[i] ?? 0;
      base[i] = keep + eps;
      const [lp] = interpret([loss], all);
      base[i] = keep - eps;
      const [lm] = interpret([loss], all);
      base[i] = keep;
      out[i] = ((lp?.[0] ?? 0) - (lm?.[0] ?? 0)) / (2 * eps);
    }
    return out;
  });
  return { analytic, numeric, loss, grads };
}
