// The tensor IR: one small node type, built only through `Graph.node`, which checks shapes and hash-conses.
//
// Layout: every 4-D activation is NCHW (batch, channel, height, width), row-major, the last axis contiguous;
// conv weights are OIHW ([out, in, kh, kw]) and linear weights [out, in], exactly as PyTorch stores them, so a
// safetensors file from PyTorch maps onto our buffers without any transpose. Shapes are static: a graph is built
// for one batch size and one crop. The only dtype is f32 (f64 in the CPU reference interpreter).
import type { OpName } from "./ops.js";

export type Shape = readonly number[];
export type DType = "f32";
export type AttrValue = number | string | boolean | readonly number[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** One value in the graph. Structural equality is identity: the same (op, src, attrs) is the same node. */
export interface Node {
  readonly id: number;
  readonly op: OpName;
  readonly src: readonly Node[];
  readonly attrs: Attrs;
  readonly shape: Shape;
  readonly dtype: DType;
  /** Structural key `op(src ids;attrs)`, unique within its graph. */
  readonly key: string;
}

/** A broken compiler invariant (not a user mistake): the message prints the node and asks for a report. */
export class CompilerBug extends Error {
  constructor(message: string, n?: Node) {
    super(`mio compiler bug: ${message}${n ? `\n  at ${printNode(n)}` : ""}\n  Please report it with the .mio file.`);
    this.name = "CompilerBug";
  }
}

/** Lazy-message assertion for inner layers (docs/architecture.md, "Errors and exit codes"). */
export function assert(cond: unknown, msg: () => string, n?: Node): asserts cond {
  if (!cond) throw new CompilerBug(msg(), n);
}

/**
 * The most elements one tensor may have: kernels index with i32 (compiler/wgsl), so 2^31 - 1 (8 GiB of float32).
 * The checker refuses a model whose tensors would pass it at the batch and size it checks (MIO7002).
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/** Number of elements of a shape. */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] ?? 1) * (shape[i + 1] ?? 1);
  return s;
}

/** `shape[i]`, with negative `i` counting from the end; throws a CompilerBug when out of range. */
export function dim(shape: Shape, i: number): number {
  const d = shape[i < 0 ? shape.length + i : i];
  assert(d !== undefined, () => `axis ${i} out of range for shape [${shape}]`);
  return d;
}

/** Appends `value` to the list under `key` in place (copying the list each time made the passes quadratic). */
export function append<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list) list.push(value);
  else lists.set(key, [value]);
}

/** `a[i]` for arrays that are known to be long enough (noUncheckedIndexedAccess without `!`). */
export function at<T>(a: ArrayLike<T>, i: number): T {
  const v = a[i];
  if (v === undefined) throw new CompilerBug(`index ${i} out of range (length ${a.length})`);
  return v;
}

function attrText(attrs: Attrs): string {
  return Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${JSON.stringify(attrs[k])}`)
    .join(",");
}

/** One-line print of a node: `%7 = conv2d(%3, %5; pad=1,stride=1) : f32[2,16,24,24]`. */
export function printNode(n: Node): string {
  const src = n.src.map((s) => `%${s.id}`).join(", ");
  const attrs = attrText(n.attrs);
  return `%${n.id} = ${n.op}(${src}${attrs ? `; ${attrs}` : ""}) : ${n.dtype}[${n.shape.join(",")}]`;
}

/** The shape rule signature every op implements: it validates inputs and returns the output shape. */
export type ShapeRule = (src: readonly Shape[], attrs: Attrs) => Shape;

/** Structural key of a would-be node (see `Graph.node`). */
export function nodeKey(op: string, src: readonly Node[], attrs: Attrs): string {
  return `${op}(${src.map((s) => s.id).join(",")};${attrText(attrs)})`;
}
