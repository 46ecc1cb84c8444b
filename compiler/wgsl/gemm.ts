// The implicit-GEMM kernel template shared by matmul, conv2d and both conv backward ops.
//
// C[m, n] = sum_k A(m, k) B(k, n). A workgroup of 64 threads computes a TM x TN tile; each thread owns an RM x RN
// register block (up to 4 x 8 = 32 accumulators), so every value loaded from workgroup memory feeds RN or RM FMAs
// (lavapipe is fast only with >= 8 FMAs per load: docs/bench.md, "What lavapipe allows"). The K loop stages TK-deep
// slices of A and B through workgroup memory. With splitK > 1, workgroup z sums only its K range and writes a partial
// tile; a second kernel adds the partials in a fixed order (deterministic, no float atomics). Batched matmuls (window
// attention) take the lane-row form instead (small-gemm.ts).
import { assert } from "../ir/node.js";
import type { GemmSpec } from "./rules.js";

export interface GemmTiles {
  /** Threads along m and n (WM * WN = 64). */
  readonly WM: number;
  readonly WN: number;
  /** Register block per thread. */
  readonly RM: number;
  readonly RN: number;
  /** K depth staged through workgroup memory per step. */
  readonly TK: number;
}

/**
 * Picks a tile shape from the output width N (output channels for convs). RM is 4 and RN 4 or 8, so register
 * blocks move through workgroup memory as vec4s: fewer, wider loads, which lavapipe also compiles much faster.
 */
export function chooseTiles(N: number): GemmTiles {
  if (N >= 64) return { WM: 8, WN: 8, RM: 4, RN: 8, TK: 8 };
  if (N >= 32) return { WM: 16, WN: 4, RM: 4, RN: 8, TK: 8 };
  if (N >= 16) return { WM: 32, WN: 2, RM: 4, RN: 8, TK: 8 };
  if (N >= 8) return { WM: 64, WN: 1, RM: 4, RN: 8, TK: 8 };
  return { WM: 64, WN: 1, RM: 4, RN: 4, TK: 8 };
}

export interface GemmKernelParts {
  /** Module-scope declarations (bindings) already rendered. */
  readonly decls: string;
  /** Body of `fn epilogue(m: i32, n: i32, acc: f32)`, or null to write partials to `partial` (split-K). */
  readonly epilogue: string | null;
  /** Name of the binding partial sums go to when splitting K. */
  readonly partial?: string;
}

/** Number of workgroups along x (n tiles), y (m tiles) and z (K splits). */
export function gemmGrid(spec: GemmSpec, t: GemmTiles, splitK: number): [number, number, number] {
  return [Math.ceil(spec.N / (t.WN * t.RN)), Math.ceil(spec.M / (t.WM * t.RM)), splitK];
}

/** Renders the GEMM kernel source. */
export function renderGemm(spec: GemmSpec, t: GemmTiles, splitK: number, parts: GemmKernelParts): string {
  const TM = t.WM * t.RM;
  const TN = t.WN * t.RN;
  const QN = t.RN / 4;
  const kPer = Math.ceil(spec.K / splitK);
  const lines: string[] = [];
  const accs: string[] = [];
  for (let i = 0; i < t.RM; i++) for (let q = 0; q < QN; q++) accs.push(`acc${i}_${q}`);
  // Workgroup tiles: As[kk][m / 4] and Bs[kk][n / 4] as vec4s.
  const tileLoad = (what: "A" | "B", rows: number, limit: number) => {
    const [idx, base] = what === "A" ? ["m", "m0"] : ["n", "n0"];
    const load = (c: number) => (what === "A" ? `loadA(${idx} + ${c}, k)` : `loadB(k, ${idx} + ${c})`);
    return [
      `    for (var e = tid; e < ${(rows / 4) * t.TK}; e += 64) {`,
      `      let q = e % ${rows / 4}; let kk = e / ${rows / 4}; let k = k0 + kk; let ${idx} = ${base} + q * 4;`,
      "      var v = vec4<f32>();",
      "      if (k < kEnd) {",
      ...[0, 1, 2, 3].map((c) => `        if (${idx} + ${c} < ${limit}) { v[${c}] = ${load(c)}; }`),
      "      }",
      `      ${what}s[kk * ${rows / 4} + q] = v;`,
      "    }",
    ];
  };
  assert(spec.batch === undefined, () => "a batched GEMM takes the lane-row form (small-gemm.ts)");
  lines.push(
    parts.decls,
    `var<workgroup> As: array<vec4<f32>, ${(t.TK * TM) / 4}>;`,
    `var<workgroup> Bs: array<vec4<f32>, ${(t.TK * TN) / 4}>;`,
    "",
    `fn loadA(m: i32, k: i32) -> f32 {\n  ${spec.loadA}\n}`,
    `fn loadB(k: i32, n: i32) -> f32 {\n  ${spec.loadB}\n}`,
  );
  if (parts.epilogue !== null) lines.push(`fn epilogue(m: i32, n: i32, acc: f32) {\n${parts.epilogue}\n}`);
  const prologue = [
    "  let tid = i32(lid);",
    `  let tn = tid % ${t.WN};`,
    `  let tm = tid / ${t.WN};`,
    `  let m0 = i32(wg.y) * ${TM};`,
    `  let n0 = i32(wg.x) * ${TN};`,
    `  let kBegin = i32(wg.z) * ${kPer};`,
    `  let kEnd = min(kBegin + ${kPer}, ${spec.K});`,
  ];
  const body: string[] = [];
  lines.push(
    "",
    "@compute @workgroup_size(64)",
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    ...prologue,
  );
  body.push(
    ...accs.map((a) => `  var ${a} = vec4<f32>();`),
    `  for (var k0 = kBegin; k0 < kEnd; k0 += ${t.TK}) {`,
    ...tileLoad("A", TM, spec.M),
    ...tileLoad("B", TN, spec.N),
    "    workgroupBarrier();",
    `    for (var kk = 0; kk < ${t.TK}; kk++) {`,
    `      let a = As[kk * ${TM / 4} + tm];`,
  );
  for (let q = 0; q < QN; q++) body.push(`      let b${q} = Bs[kk * ${TN / 4} + tn * ${QN} + ${q}];`);
  for (let i = 0; i < t.RM; i++)
    for (let q = 0; q < QN; q++) body.push(`      acc${i}_${q} = fma(vec4<f32>(a[${i}]), b${q}, acc${i}_${q});`);
  body.push("    }", "    workgroupBarrier();", "  }");
  for (let i = 0; i < t.RM; i++)
    for (let j = 0; j < t.RN; j++) {
      const m = `m0 + tm * ${t.RM} + ${i}`;
      const n = `n0 + tn * ${t.RN} + ${j}`;
      const acc = `acc${i}_${Math.floor(j / 4)}[${j % 4}]`;
      const store =
        parts.epilogue !== null
          ? `epilogue(${m}, ${n}, ${acc});`
          : `${parts.partial}[(i32(wg.z) * ${spec.M} + ${m}) * ${spec.N} + ${n}] = ${acc};`;
      body.push(`  if (${m} < ${spec.M} && ${n} < ${spec.N}) { ${store} }`);
    }
  lines.push(...body);
  lines.push("}");
  return lines.join("\n");
}
