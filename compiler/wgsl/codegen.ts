// Renders a fused group into WGSL kernels. The source is a pure function of the group's ops, attrs, shapes and
// schedule: names are per-kernel counters (in0, out0, v0), bindings come in a fixed order (reads, then writes),
// so the same group always gives the same text and the same key.

import { broadcastStrides } from "../ir/indexing.js";
import { assert, at, type Node, numel, stridesOf } from "../ir/node.js";
import type { Group } from "../passes/fuse.js";
import type { PlanKernel } from "../plan/plan.js";
import { renderRowConv, renderWeightGrad, rowConvGrid, weightGradGrid } from "./conv-rows.js";
import { directGrid, renderDirect } from "./direct.js";
import { chooseTiles, gemmGrid, renderGemm } from "./gemm.js";
import { chooseSplitK, type GatherCtx, type WgslRule, wgslRules } from "./rules.js";
import { laneRowGrid, renderLaneRowGemm } from "./small-gemm.js";

/** A tensor the kernels bind: a node's value, or a scratch buffer private to one group (split-K partials). */
export interface TensorInfo {
  readonly id: string;
  readonly elements: number;
}
export const tensorId = (n: Node): string => `n${n.id}`;

/** A kernel before buffer planning: a plan kernel whose bindings are still tensor ids, and whose key is not yet set. */
export type KernelDraft = Omit<PlanKernel, "key" | "bindings"> & { readonly bindings: readonly string[] };

/** Which kernel form convolutions take; any legal schedule must give the same numbers (a test checks). */
export interface Schedule {
  /**
   * `rows` (default): vec4-row kernels for stride-1 same-size convs and their gradients (conv-rows.ts), the tiled
   * GEMM for the others; `tiled`: workgroup-tiled implicit GEMM for all; `direct`: lanes over output pixels.
   * Measured on lavapipe (32 ch, 4x64x64, 3x3): rows 8-11 GFLOP/s, tiled 1.9, direct ~1.
   */
  readonly conv: "rows" | "direct" | "tiled";
}
export const DEFAULT_SCHEDULE: Schedule = { conv: "rows" };

export interface RenderedGroup {
  readonly kernels: KernelDraft[];
  readonly scratch: TensorInfo[];
}

const POINTWISE_WG = 256;

/** 64-bit FNV-1a of a string as 16 hex digits: the kernel key. */
export function hashKey(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}

/** Row-major flat index of i32 coordinate expressions. */
function flatten(coords: readonly string[], shape: readonly number[]): string {
  const st = stridesOf(shape);
  const terms = coords.flatMap((c, i) =>
    (shape[i] ?? 1) === 1 ? [] : [(st[i] ?? 1) === 1 ? `(${c})` : `(${c}) * ${st[i]}`],
  );
  return terms.length === 0 ? "0" : terms.join(" + ");
}

class Names {
  private readonly counts = new Map<string, number>();
  fresh(prefix: string): string {
    const k = this.counts.get(prefix) ?? 0;
    this.counts.set(prefix, k + 1);
    return `${prefix}${k}`;
  }
}

/** Renders one group: its bindings, the root's value at coordinates `c`, the members, and the stores. */
export function renderGroup(
  gr: Group,
  inlined: ReadonlySet<number>,
  index: number,
  tid: (n: Node) => string = tensorId,
  schedule: Schedule = DEFAULT_SCHEDULE,
  transposed: ReadonlySet<number> = new Set(),
): RenderedGroup {
  const root = gr.root;
  const rule: WgslRule = wgslRules[root.op];
  assert(rule.kind !== "leaf", () => "an input cannot be a kernel", root);
  const names = new Names();
  const inName = new Map<number, string>();
  gr.reads.forEach((r, i) => {
    inName.set(r.id, `in${i}`);
  });
  const outName = new Map<number, string>();
  gr.outs.forEach((o, i) => {
    outName.set(o.id, `out${i}`);
  });
  // The row-form conv kernels read their feature maps as vec4s: those bindings are declared as vec4 arrays.
  const gemmSpec =
    rule.kind === "gemm"
      ? rule.spec(
          root,
          (i) => inName.get(at(root.src, i).id) ?? "?",
          (i) => transposed.has(at(root.src, i).id),
        )
      : undefined;
  const rows = schedule.conv === "rows" ? gemmSpec?.rows : undefined;
  const wgrad = schedule.conv === "rows" ? gemmSpec?.wgrad : undefined;
  const form = rule.kind === "gather" && schedule.conv === "rows" ? rule.form?.(root) : undefined;
  const srcBuf = (i: number) => inName.get(at(root.src, i).id) ?? "?";
  const vec4Reads = new Set<string>(
    rows ? [rows.inBuf] : wgrad ? [wgrad.xBuf, wgrad.dyBuf] : (form?.vec4Sources ?? []).map(srcBuf),
  );
  // Functions the members' expressions call (erf) are module-scope declarations of every kernel form.
  const memberHelpers = gr.members.slice(1).flatMap((m) => {
    const r = wgslRules[m.op];
    return r.kind === "elementwise" ? (r.helpers ?? []) : [];
  });
  const decls = [
    ...gr.reads.map(
      (_, i) =>
        `@group(0) @binding(${i}) var<storage, read> in${i}: array<${vec4Reads.has(`in${i}`) ? "vec4<f32>" : "f32"}>;`,
    ),
    ...gr.outs.map(
      (_, i) => `@group(0) @binding(${gr.reads.length + i}) var<storage, read_write> out${i}: array<f32>;`,
    ),
    ...new Set(memberHelpers),
  ];
  const bindings = [...gr.reads.map(tid), ...gr.outs.map(tid)];
  const writes = [...gr.reads.map(() => false), ...gr.outs.map(() => true)];
  const shape = root.shape;
  const total = numel(shape);
  const name = `${root.op}_${index}`;

  // Member code at output coordinates `c` (names c0..): elementwise reads of group values, literals, or
  // broadcast loads of materialized inputs.
  const vars = new Map<number, string>();
  const operand = (s: Node, c: readonly string[]): string => {
    const v = vars.get(s.id);
    if (v) return v;
    if (inlined.has(s.id)) return `f32(${(wgslRules.const as { expr: (a: string[], n: Node) => string }).expr([], s)})`;
    const buf = inName.get(s.id);
    assert(buf !== undefined, () => `operand %${s.id} is neither in the group nor read by it`, root);
    const bs = broadcastStrides(s.shape, shape);
    const idx = c.flatMap((ci, i) => ((bs[i] ?? 0) === 0 ? [] : [(bs[i] ?? 0) === 1 ? ci : `${ci} * ${bs[i]}`]));
    const flat = idx.length === 0 ? "0" : idx.join(" + ");
    return vec4Reads.has(buf) ? `${buf}[(${flat}) / 4][(${flat}) % 4]` : `${buf}[${flat}]`;
  };
  const memberCode = (c: readonly string[], rootValue: string, flat: string): string[] => {
    const lines: string[] = [];
    vars.clear();
    const rv = names.fresh("v");
    lines.push(`let ${rv} = ${rootValue};`);
    vars.set(root.id, rv);
    for (const m of gr.members.slice(1)) {
      const r = wgslRules[m.op];
      assert(r.kind === "elementwise", () => "only elementwise ops join a group", m);
      const v = names.fresh("v");
      lines.push(
        `let ${v} = ${r.expr(
          m.src.map((s) => operand(s, c)),
          m,
        )};`,
      );
      vars.set(m.id, v);
    }
    for (const o of gr.outs) lines.push(`${outName.get(o.id)}[${flat}] = ${vars.get(o.id)};`);
    return lines;
  };
  const coordLets = (flat: string): [string[], string[]] => {
    const st = stridesOf(shape);
    const c = shape.map((_, i) => `c${i}`);
    const lets = shape.map((d, i) => `let c${i} = (${flat} / ${st[i] ?? 1}) % ${d};`);
    return [c, lets];
  };
  // A grid-stride loop over `count` work items `i`, each running `body`.
  const gridStride = (count: number, body: string[], helpers: string[], extraDecls: string[] = []) =>
    [
      ...decls,
      ...extraDecls,
      ...helpers,
      "",
      `@compute @workgroup_size(${POINTWISE_WG})`,
      "fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {",
      `  let stride = i32(nwg.x) * ${POINTWISE_WG};`,
      `  for (var i = i32(gid.x); i < ${count}; i += stride) {`,
      ...body.map((l) => `    ${l.replace(/\n/g, "\n    ")}`),
      "  }",
      "}",
    ].join("\n");
  const pointwise = (rootStmts: string[], rootValue: string, helpers: string[], extraDecls: string[] = []) => {
    const [c, lets] = coordLets("i");
    return gridStride(total, [...lets, ...rootStmts, ...memberCode(c, rootValue, "i")], helpers, extraDecls);
  };
  // A row kernel: work item i is a row along `axis`; the root's statements run once, then every element of the row
  // (coordinate c<axis> in an inner loop) takes the root's value and the members.
  const rowwise = (axis: number, rootStmts: string[], rootValue: string, helpers: string[]) => {
    const len = shape[axis] ?? 1;
    const rowShape = shape.map((d, i) => (i === axis ? 1 : d));
    const st = stridesOf(rowShape);
    const c = shape.map((_, i) => `c${i}`);
    const lets = shape.flatMap((d, i) => (i === axis ? [] : [`let c${i} = (i / ${st[i] ?? 1}) % ${d};`]));
    const element = [`let e = ${flatten(c, shape)};`, ...memberCode(c, rootValue, "e")];
    const body = [
      ...lets,
      ...rootStmts,
      `for (var c${axis} = 0; c${axis} < ${len}; c${axis}++) {`,
      ...element.map((l) => `  ${l}`),
      "}",
    ];
    return gridStride(total / len, body, helpers);
  };
  const pointwiseGroups = (count = total): [number, number, number] => [
    Math.max(1, Math.min(Math.ceil(count / POINTWISE_WG), 4096)),
    1,
    1,
  ];

  if (rule.kind === "elementwise") {
    // The root is elementwise too: render it as a member whose value is its own expression.
    const [c] = coordLets("i");
    const value = rule.expr(
      root.src.map((s) => operand(s, c)),
      root,
    );
    const helpers = (rule.helpers ?? []).filter((h) => !memberHelpers.includes(h));
    const wgsl = pointwise([], value, helpers);
    return { kernels: [{ name, wgsl, bindings, writes, workgroups: pointwiseGroups(), flops: total }], scratch: [] };
  }
  if (form) {
    const [c, lets] = coordLets("i");
    const epilogue = [...lets, ...memberCode(c, "acc", "i")].map((l) => `  ${l}`).join("\n");
    const wgsl = form.render(decls.join("\n"), srcBuf, epilogue);
    return { kernels: [{ name, wgsl, bindings, writes, workgroups: form.workgroups, flops: form.flops }], scratch: [] };
  }
  if (rule.kind === "gather") {
    const [c] = coordLets("i");
    const ctx: GatherCtx = {
      c,
      fresh: (p) => names.fresh(p),
      load: (i, coords) => {
        const s = at(root.src, i);
        return `${inName.get(s.id)}[${flatten(coords, s.shape)}]`;
      },
    };
    const code = rule.code(ctx, root);
    const helpers = [...new Set(code.helpers ?? [])].filter((h) => !memberHelpers.includes(h));
    const axis = rule.row?.(root);
    const wgsl =
      axis === undefined ? pointwise(code.stmts, code.value, helpers) : rowwise(axis, code.stmts, code.value, helpers);
    const workgroups = pointwiseGroups(axis === undefined ? total : total / (shape[axis] ?? 1));
    return { kernels: [{ name, wgsl, bindings, writes, workgroups, flops: total }], scratch: [] };
  }

  // GEMM root.
  const spec = gemmSpec;
  assert(spec !== undefined, () => "a GEMM rule without a spec", root);
  const tiles = chooseTiles(spec.N);
  const grid = gemmGrid(spec, tiles, 1);
  const splitK = wgrad ? 1 : spec.splitK === -1 ? chooseSplitK(grid[0] * grid[1], spec.K) : spec.splitK;
  // Two FLOPs per multiply-add, the count PyTorch and the bench quote (docs/bench.md).
  const flops = 2 * (spec.batch ?? 1) * spec.M * spec.N * spec.K;
  if (splitK === 1) {
    const c = spec.coords("m", "n");
    const epi = [...c.map((ci, i) => `let c${i} = ${ci};`)];
    const cn = c.map((_, i) => `c${i}`);
    epi.push(...memberCode(cn, "acc", flatten(cn, shape)));
    const [declText, epilogue] = [decls.join("\n"), epi.map((l) => `  ${l}`).join("\n")];
    const one = (wgsl: string, workgroups: readonly [number, number, number]): RenderedGroup => ({
      kernels: [{ name, wgsl, bindings, writes, workgroups, flops }],
      scratch: [],
    });
    if (rows) return one(renderRowConv(rows, declText, epilogue), rowConvGrid(rows));
    if (wgrad) return one(renderWeightGrad(wgrad, declText, epilogue), weightGradGrid(wgrad));
    // Batched matmuls (window attention's per-window, per-head products) take the lane-row form (small-gemm.ts).
    if (root.op === "matmul" && spec.batch !== undefined)
      return one(renderLaneRowGemm(spec, declText, epilogue), laneRowGrid(spec));
    if (spec.direct && schedule.conv === "direct")
      return one(renderDirect(spec, spec.direct, declText, epilogue), directGrid(spec));
    return one(renderGemm(spec, tiles, 1, { decls: declText, epilogue }), grid);
  }
  // Split K: partial tiles to a scratch buffer, then a pointwise kernel sums them in order and runs the epilogue.
  assert(spec.M * spec.N === total, () => "split-K needs C[m, n] to be the output in row-major order", root);
  const scratch: TensorInfo = { id: `s${gr.id}`, elements: splitK * total };
  const partialDecls = [
    ...gr.reads.map((_, i) => `@group(0) @binding(${i}) var<storage, read> in${i}: array<f32>;`),
    `@group(0) @binding(${gr.reads.length}) var<storage, read_write> partial: array<f32>;`,
  ].join("\n");
  const partialWgsl = renderGemm(spec, tiles, splitK, { decls: partialDecls, epilogue: null, partial: "partial" });
  const reduceDecl = `@group(0) @binding(${bindings.length}) var<storage, read> partial: array<f32>;`;
  const acc = names.fresh("acc");
  const z = names.fresh("z");
  const reduceWgsl = pointwise(
    [`var ${acc} = 0.0;`, `for (var ${z} = 0; ${z} < ${splitK}; ${z}++) { ${acc} += partial[${z} * ${total} + i]; }`],
    acc,
    [],
    [reduceDecl],
  );
  return {
    kernels: [
      {
        name: `${name}_partial`,
        wgsl: partialWgsl,
        bindings: [...gr.reads.map(tid), scratch.id],
        writes: [...gr.reads.map(() => false), true],
        workgroups: [grid[0], grid[1], splitK],
        flops,
      },
      {
        name: `${name}_reduce`,
        wgsl: reduceWgsl,
        bindings: [...bindings, scratch.id],
        writes: [...writes, false],
        workgroups: pointwiseGroups(),
        flops: total * splitK,
      },
    ],
    scratch: [scratch],
  };
}
