// Splits storage bindings larger than the device binds (WebGPU guarantees 128 MiB per binding; buffers may be
// larger). A large tensor is bound as consecutive ranges of its buffer, `name_0`, `name_1`, ..., and every access
// `name[i]` in the kernel becomes `name_get(i)` / `name_set(i, v)`, which pick the range. Kernels whose tensors fit
// are returned unchanged, so their source and cache key do not move.
import { assert } from "../ir/node.js";
import type { BindingRange } from "../plan/plan.js";
import type { KernelDraft } from "../wgsl/codegen.js";

/** WebGPU's guaranteed maxStorageBufferBindingSize. */
export const DEFAULT_MAX_BINDING_BYTES = 134217728;
/** Ranges start at multiples of this (minStorageBufferOffsetAlignment is at most 256). */
const OFFSET_ALIGN = 256;

const DECL = /^@group\(0\) @binding\((\d+)\) var<storage, (read|read_write)> (\w+): array<(f32|vec4<f32>)>;$/gm;

/** Index of the `]` closing the `[` at `open`. */
function closingBracket(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === "[") depth++;
    else if (s[i] === "]" && --depth === 0) return i;
  }
  throw new Error(`unbalanced '[' in kernel source at ${open}`);
}

/** Rewrites `name[e]` loads and `name[e] = v;` stores of the split arrays into accessor calls. */
function rewriteAccesses(src: string, split: ReadonlySet<string>): string {
  const access = /\b(\w+)\[/g;
  let out = "";
  let from = 0;
  for (let m = access.exec(src); m; m = access.exec(src)) {
    const name = m[1] as string;
    if (!split.has(name)) continue;
    const open = m.index + name.length;
    const close = closingBracket(src, open);
    const index = rewriteAccesses(src.slice(open + 1, close), split);
    const store = /^\s*=(?!=)/.exec(src.slice(close + 1));
    out += src.slice(from, m.index);
    if (store) {
      const valueStart = close + 1 + store[0].length;
      const end = src.indexOf(";", valueStart);
      assert(end > 0, () => `store to ${name} without ';'`);
      out += `${name}_set(${index}, ${rewriteAccesses(src.slice(valueStart, end).trim(), split)})`;
      from = end;
    } else {
      out += `${name}_get(${index})`;
      from = close + 1;
    }
    access.lastIndex = from;
  }
  return out + src.slice(from);
}

/** The accessors of one split array: `count` ranges of `per` elements each. */
function accessors(name: string, type: string, count: number, per: number, writable: boolean): string[] {
  const pick = (i: number) => (i === count - 1 ? "" : `if (i < ${(i + 1) * per}) `);
  const get = Array.from(
    { length: count },
    (_, j) => `  ${pick(j)}{ return ${name}_${j}[i${j === 0 ? "" : ` - ${j * per}`}]; }`,
  );
  const lines = [`fn ${name}_get(i: i32) -> ${type} {`, ...get, "}"];
  if (writable) {
    const set = Array.from(
      { length: count },
      (_, j) => `  ${pick(j)}{ ${name}_${j}[i${j === 0 ? "" : ` - ${j * per}`}] = v; return; }`,
    );
    lines.push(`fn ${name}_set(i: i32, v: ${type}) {`, ...set, "}");
  }
  return lines;
}

/**
 * Splits the bindings of `k` whose tensors exceed `maxBytes` into ranges.
 * @example splitLargeBindings(kernel, (t) => tensors.get(t).elements, device.limits.maxStorageBufferBindingSize)
 */
/** How many bindings a tensor of `bytes` takes once split into ranges (1 when it fits). */
export function bindingsFor(bytes: number, maxBytes: number = DEFAULT_MAX_BINDING_BYTES): number {
  if (bytes <= maxBytes) return 1;
  return Math.ceil(bytes / (Math.floor(maxBytes / OFFSET_ALIGN) * OFFSET_ALIGN));
}

export function splitLargeBindings(
  k: KernelDraft,
  elementsOf: (tensor: string) => number,
  maxBytes: number = DEFAULT_MAX_BINDING_BYTES,
): KernelDraft {
  const chunk = Math.floor(maxBytes / OFFSET_ALIGN) * OFFSET_ALIGN;
  assert(chunk >= OFFSET_ALIGN, () => `a binding limit of ${maxBytes} bytes is below the offset alignment`);
  const bindings = [...k.bindings];
  const writes = [...k.writes];
  const ranges: (BindingRange | undefined)[] = k.bindings.map(() => undefined);
  const split = new Set<string>();
  const helpers: string[] = [];
  const wgsl = k.wgsl.replace(DECL, (decl, slot: string, mode: string, name: string, type: string) => {
    const b = Number(slot);
    const tensor = k.bindings[b] as string;
    const bytes = 4 * elementsOf(tensor);
    if (bytes <= maxBytes) return decl;
    const count = bindingsFor(bytes, maxBytes);
    const per = chunk / (type === "f32" ? 4 : 16);
    split.add(name);
    helpers.push(...accessors(name, type, count, per, mode === "read_write"));
    const decls: string[] = [];
    for (let j = 0; j < count; j++) {
      const at = j === 0 ? b : bindings.length;
      const range = { offset: j * chunk, size: Math.min(chunk, bytes - j * chunk) };
      if (j === 0) ranges[b] = range;
      else {
        bindings.push(tensor);
        writes.push(mode === "read_write");
        ranges.push(range);
      }
      decls.push(`@group(0) @binding(${at}) var<storage, ${mode}> ${name}_${j}: array<${type}>;`);
    }
    return decls.join("\n");
  });
  if (split.size === 0) return k;
  // Accessors go after the declarations, before the first function that may call them.
  const firstFn = wgsl.search(/^(fn |@compute)/m);
  const body = rewriteAccesses(wgsl.slice(firstFn), split);
  return {
    ...k,
    wgsl: `${wgsl.slice(0, firstFn)}${helpers.join("\n")}\n\n${body}`,
    bindings,
    writes,
    ranges,
  };
}
