// Swin attention's data movement and constants, composed from primitives (reshape, permute, roll, iota and
// elementwise arithmetic): tokens <-> maps (tokens are channels-last (B, H, W, C)), window partition/reverse, the relative position index and the
// shifted-window mask. The constants are small graphs of `iota` rather than uploaded tables, so a model has no
// buffers besides its parameters and hash-consing shares them between all layers of one window size.
// Layouts and semantics are MiOIR's basicsr/archs/swinir_arch.py (docs/compiler.md, "Windows and attention").
import { assert, type Node } from "./node.js";
import type { GraphOps } from "./tensor-ops.js";

const dims4 = (x: Node): [number, number, number, number] => {
  assert(x.shape.length === 4, () => `expected a rank-4 tensor, got [${x.shape}]`, x);
  return x.shape as unknown as [number, number, number, number];
};

/**
 * Tokens of an NCHW map, channels last: (B, H, W, C), which is PatchEmbed's `x.flatten(2).transpose(1, 2)`
 * (B, H·W, C) in the same memory with the map's height and width kept, so window attention needs no side input.
 * @example toTokens(o, x) // [2, 16, 8, 8] -> [2, 8, 8, 16]
 */
export function toTokens(o: GraphOps, x: Node): Node {
  dims4(x);
  return o.permute(x, [0, 2, 3, 1]);
}

/**
 * The NCHW map of channels-last tokens (B, H, W, C), PatchUnEmbed's `x.transpose(1, 2).view(B, C, H, W)`.
 * @example toMap(o, t) // [2, 8, 8, 16] -> [2, 16, 8, 8]
 */
export function toMap(o: GraphOps, t: Node): Node {
  dims4(t);
  return o.permute(t, [0, 3, 1, 2]);
}

/**
 * `window_partition`: (B, H, W, C) into (B·nW, ws·ws, C), windows in row-major order per image, tokens row-major in
 * each window.
 * @example windowPartition(o, x, 4) // [2, 8, 8, 16] -> [8, 16, 16]
 */
export function windowPartition(o: GraphOps, x: Node, ws: number): Node {
  const [b, h, w, c] = dims4(x);
  assert(h % ws === 0 && w % ws === 0, () => `a ${h}x${w} map does not split into ${ws}x${ws} windows`, x);
  const split = o.reshape(x, [b, h / ws, ws, w / ws, ws, c]);
  return o.reshape(o.permute(split, [0, 1, 3, 2, 4, 5]), [(b * h * w) / (ws * ws), ws * ws, c]);
}

/**
 * `window_reverse`: (B·nW, ws·ws, C) windows back into (B, H, W, C); the inverse of `windowPartition`.
 * @example windowReverse(o, win, 4, 8, 8) // [8, 16, 16] -> [2, 8, 8, 16]
 */
export function windowReverse(o: GraphOps, windows: Node, ws: number, h: number, w: number): Node {
  const [n, , c] = windows.shape as [number, number, number];
  const b = (n * ws * ws) / (h * w);
  assert(Number.isInteger(b), () => `[${windows.shape}] windows do not tile a ${h}x${w} map`, windows);
  const split = o.reshape(windows, [b, h / ws, w / ws, ws, ws, c]);
  return o.reshape(o.permute(split, [0, 1, 3, 2, 4, 5]), [b, h, w, c]);
}

/**
 * `relative_position_index` of a ws×ws window, flattened to [(ws·ws)²]: for tokens i = (yi, xi) and j = (yj, xj),
 * (yi − yj + ws − 1)·(2ws − 1) + (xi − xj + ws − 1), the row of the (2ws−1)² bias table that pair reads.
 * @example relativePositionIndex(o, 2) // [4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4]
 */
export function relativePositionIndex(o: GraphOps, ws: number): Node {
  const axis = (a: number) =>
    o.iota(
      [0, 1, 2, 3].map((i) => (i === a ? ws : 1)),
      a,
    );
  const dy = o.affine(o.sub(axis(0), axis(2)), 2 * ws - 1, (ws - 1) * (2 * ws - 1));
  const dx = o.affine(o.sub(axis(1), axis(3)), 1, ws - 1);
  return o.reshape(o.add(dy, dx), [ws ** 4]);
}

/**
 * `calculate_mask` of SwinIR's shifted windows for an h×w map: [nW, ws·ws, ws·ws], 0 between tokens of the same
 * region of the rolled map and −100 between tokens of different regions (which the roll brought together).
 * Regions: rows [0, h−ws), [h−ws, h−shift), [h−shift, h) times the same three column ranges.
 * @example shiftedWindowMask(o, 8, 8, 4, 2) // [4, 16, 16]
 */
export function shiftedWindowMask(o: GraphOps, h: number, w: number, ws: number, shift: number): Node {
  assert(shift > 0 && shift < ws && h % ws === 0 && w % ws === 0, () => `no shifted ${ws}-windows of ${h}x${w}`);
  // Region of a coordinate: how many of the two range starts it has passed (leaky_step(x, 0) is x > 0 ? 1 : 0).
  const region = (size: number, axis: number) => {
    const c = o.iota(axis === 0 ? [size, 1] : [1, size], axis);
    const past = (start: number) => o.leakyStep(o.affine(c, 1, 0.5 - start), 0);
    return o.add(past(size - ws), past(size - shift));
  };
  const label = o.add(o.scale(region(h, 0), 3), region(w, 1));
  const windows = windowPartition(o, o.reshape(label, [1, h, w, 1]), ws);
  const n = ws * ws;
  const nw = windows.shape[0] ?? 0;
  // [w, i, j] = label[w, j] - label[w, i], as the reference's mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2).
  const diff = o.sub(o.reshape(windows, [nw, 1, n]), o.reshape(windows, [nw, n, 1]));
  return o.scale(o.sign(o.abs(diff)), -100);
}
