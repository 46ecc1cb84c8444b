// Index arithmetic shared by the CPU reference, the WGSL code generator and the runtime's image code: how
// broadcasting, reflect padding and bilinear resizing map output coordinates to input ones (PyTorch's rules).
import { type Shape, stridesOf } from "./node.js";

/** Strides of `src` read at the coordinates of `out` under broadcasting (0 on stretched axes). */
export function broadcastStrides(src: Shape, out: Shape): number[] {
  const s = stridesOf(src);
  const lead = out.length - src.length;
  return out.map((d, i) => {
    const sd = src[i - lead];
    return i < lead || sd === undefined || (sd === 1 && d !== 1) ? 0 : (s[i - lead] ?? 0);
  });
}

/**
 * Index of `i` reflected into [0, n): PyTorch's 'reflect' padding (the edge sample is not repeated: -1 → 1),
 * folded again when the pad is wider than the image (where PyTorch would refuse), and 0 when n = 1. The project's one
 * reflect: the pad op's reference, the degradations' borders, evaluation tiles larger than the image.
 *
 * @example reflectIndex(-1, 5) // 1; reflectIndex(5, 5) // 3; reflectIndex(-9, 5) // 1
 */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period; // (not `if (m < 0) m += period`: that returns -0 for i = -period)
  return m < n ? m : period - m;
}

/**
 * Bilinear taps of output position `o` (PyTorch `align_corners=False`): the two input indices and their weights.
 */
export function bilinearTaps(o: number, inSize: number, outSize: number): [number, number, number, number] {
  const scale = inSize / outSize;
  const src = Math.max((o + 0.5) * scale - 0.5, 0);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  const i1 = Math.min(i0 + 1, inSize - 1);
  const l1 = src - i0;
  return [i0, i1, 1 - l1, l1];
}
