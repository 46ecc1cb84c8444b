// Backward rules: for node n = op(src...) and the gradient g of the loss with respect to n, each rule returns the
// gradient with respect to every source (a vector-Jacobian product), written with other primitive ops, or null
// where the op is constant in that source. Linear ops come in adjoint pairs (pad/pad_bwd, slice/embed,
// resize/resize_bwd, index_select/index_select_bwd, conv2d/conv2d_bwd_x/conv2d_bwd_w and their grouped forms; roll with negated shifts), so
// the set is closed: every rule's output has rules too.
import { at, type Node } from "../ir/node.js";
import { num, nums, type OpName, str } from "../ir/ops.js";
import type { GraphOps } from "../ir/tensor-ops.js";

export type GradRule = (o: GraphOps, g: Node, n: Node) => (Node | null)[];

const src = (n: Node, i: number): Node => at(n.src, i);

/** Backward rules, one per op. */
export const gradRules = {
  input: () => [],
  const: () => [],
  iota: () => [],
  affine: (o, g, n) => [o.scale(g, num(n.attrs, "a"))],
  leaky_relu: (o, g, n) => [o.mul(g, o.leakyStep(src(n, 0), num(n.attrs, "alpha")))],
  // NOTE: the derivative of a step is zero almost everywhere; finite differences agree away from x = 0.
  leaky_step: () => [null],
  abs: (o, g, n) => [o.mul(g, o.sign(src(n, 0)))],
  sign: () => [null],
  exp: (o, g, n) => [o.mul(g, n)],
  log: (o, g, n) => [o.div(g, src(n, 0))],
  sqrt: (o, g, n) => [o.div(o.scale(g, 0.5), n)],
  // d erf(x)/dx = 2/sqrt(pi) * exp(-x^2).
  erf: (o, g, n) => {
    const x = src(n, 0);
    return [o.mul(g, o.scale(o.exp(o.neg(o.mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  },
  add: (o, g, n) => [o.sumTo(g, src(n, 0).shape), o.sumTo(g, src(n, 1).shape)],
  sub: (o, g, n) => [o.sumTo(g, src(n, 0).shape), o.sumTo(o.neg(g), src(n, 1).shape)],
  mul: (o, g, n) => [o.sumTo(o.mul(g, src(n, 1)), src(n, 0).shape), o.sumTo(o.mul(g, src(n, 0)), src(n, 1).shape)],
  // d(a/b)/db = -a/b^2 = -(a/b)/b, reusing the forward value n = a/b.
  div: (o, g, n) => [
    o.sumTo(o.div(g, src(n, 1)), src(n, 0).shape),
    o.sumTo(o.neg(o.div(o.mul(g, n), src(n, 1))), src(n, 1).shape),
  ],
  reshape: (o, g, n) => [o.reshape(g, src(n, 0).shape)],
  permute: (o, g, n) => {
    const perm = nums(n.attrs, "perm");
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [o.permute(g, inv)];
  },
  expand: (o, g, n) => [o.sumTo(g, src(n, 0).shape)],
  pad: (o, g, n) => [o.padBwd(g, nums(n.attrs, "pads"), str(n.attrs, "mode"))],
  pad_bwd: (o, g, n) => [o.pad(g, nums(n.attrs, "pads"), str(n.attrs, "mode") as "zeros" | "reflect")],
  slice: (o, g, n) => [o.embed(g, nums(n.attrs, "begin"), src(n, 0).shape)],
  embed: (o, g, n) => [o.slice(g, nums(n.attrs, "begin"), src(n, 0).shape)],
  concat: (o, g, n) => {
    const axis = num(n.attrs, "axis");
    let offset = 0;
    return n.src.map((s) => {
      const begin = s.shape.map((_, i) => (i === axis ? offset : 0));
      offset += s.shape[axis] ?? 0;
      return o.slice(g, begin, s.shape);
    });
  },
  resize: (o, g, n) => [o.resizeBwd(g, [src(n, 0).shape[2] ?? 0, src(n, 0).shape[3] ?? 0])],
  resize_bwd: (o, g, n) => [o.resize(g, [src(n, 0).shape[2] ?? 0, src(n, 0).shape[3] ?? 0])],
  roll: (o, g, n) => [
    o.roll(
      g,
      nums(n.attrs, "shifts").map((s) => -s),
      nums(n.attrs, "axes"),
    ),
  ],
  // The index is piecewise constant: no gradient flows into it.
  index_select: (o, g, n) => {
    const axis = num(n.attrs, "axis");
    return [o.indexSelectBwd(g, src(n, 1), axis, src(n, 0).shape[axis] ?? 0), null];
  },
  index_select_bwd: (o, g, n) => [o.indexSelect(g, src(n, 1), num(n.attrs, "axis")), null],
  sum: (o, g, n) => [o.expand(g, src(n, 0).shape)],
  // dx = y * (g - sum(g * y)) along the softmax axis.
  softmax: (o, g, n) => {
    const axis = num(n.attrs, "axis");
    return [o.mul(n, o.sub(g, o.sum(o.mul(g, n), [axis], true)))];
  },
  rand: () => [null],
  matmul: (o, g, n) => [o.matmul(g, o.t(src(n, 1))), o.matmul(o.t(src(n, 0)), g)],
  conv2d: (o, g, n) => {
    const [x, w] = [src(n, 0), src(n, 1)];
    const [stride, pad] = [num(n.attrs, "stride"), num(n.attrs, "pad")];
    return [o.conv2dBwdX(g, w, stride, pad, x.shape), o.conv2dBwdW(x, g, stride, pad, w.shape[2] ?? 0)];
  },
  // conv2d_bwd_x(dy, w) = conv2d's adjoint in x, so <G, bwd_x(dy, w)> = <conv2d(G, w), dy>.
  conv2d_bwd_x: (o, g, n) => {
    const [dy, w] = [src(n, 0), src(n, 1)];
    const [stride, pad] = [num(n.attrs, "stride"), num(n.attrs, "pad")];
    return [o.convolve(g, w, stride, pad), o.conv2dBwdW(g, dy, stride, pad, w.shape[2] ?? 0)];
  },
  // conv2d_bwd_w(x, dy): <G, bwd_w(x, dy)> = <conv2d(x, G), dy>.
  conv2d_bwd_w: (o, g, n) => {
    const [x, dy] = [src(n, 0), src(n, 1)];
    const [stride, pad] = [num(n.attrs, "stride"), num(n.attrs, "pad")];
    return [o.conv2dBwdX(dy, g, stride, pad, x.shape), o.convolve(x, g, stride, pad)];
  },
  // The grouped ops' rules are the dense ones with the group count passed through.
  conv2d_grouped: (o, g, n) => {
    const [x, w] = [src(n, 0), src(n, 1)];
    const [stride, pad, groups] = [num(n.attrs, "stride"), num(n.attrs, "pad"), num(n.attrs, "groups")];
    return [o.conv2dBwdX(g, w, stride, pad, x.shape, groups), o.conv2dBwdW(x, g, stride, pad, w.shape[2] ?? 0, groups)];
  },
  conv2d_grouped_bwd_x: (o, g, n) => {
    const [dy, w] = [src(n, 0), src(n, 1)];
    const [stride, pad, groups] = [num(n.attrs, "stride"), num(n.attrs, "pad"), num(n.attrs, "groups")];
    return [o.convolve(g, w, stride, pad, groups), o.conv2dBwdW(g, dy, stride, pad, w.shape[2] ?? 0, groups)];
  },
  conv2d_grouped_bwd_w: (o, g, n) => {
    const [x, dy] = [src(n, 0), src(n, 1)];
    const [stride, pad, groups] = [num(n.attrs, "stride"), num(n.attrs, "pad"), num(n.attrs, "groups")];
    return [o.conv2dBwdX(dy, g, stride, pad, x.shape, groups), o.convolve(x, g, stride, pad, groups)];
  },
} satisfies Record<OpName, GradRule>;
