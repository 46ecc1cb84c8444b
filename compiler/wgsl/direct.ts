// Direct convolution for lavapipe: 64 lanes take 64 consecutive output pixels, and each thread accumulates R output
// channels that depend only on the workgroup id. Every weight load is then the same for all lanes (llvmpipe does one
// scalar load and a broadcast) and every input value a lane loads feeds R FMAs, with no workgroup memory and no
// barriers (docs/bench.md, "What lavapipe allows"). NOTE: on lavapipe it measured ~3x slower than the tiled GEMM for
// SRResNet's convs (the per-lane im2col gathers dominate), so it is an alternative schedule, not the default.
import type { DirectSpec, GemmSpec } from "./rules.js";

/** Output channels per thread: all of them up to 16, else 16 or 8. */
export function directRows(N: number): number {
  if (N <= 16) return N;
  return N % 16 === 0 ? 16 : 8;
}

export function directGrid(spec: GemmSpec): [number, number, number] {
  return [Math.ceil(spec.M / 64), Math.ceil(spec.N / directRows(spec.N)), 1];
}

/** Renders the direct-convolution kernel; `epilogue(m, n, acc)` is defined by the caller's `decls`/`epilogue`. */
export function renderDirect(spec: GemmSpec, d: DirectSpec, decls: string, epilogue: string): string {
  const R = directRows(spec.N);
  const rows = Array.from({ length: R }, (_, r) => r);
  return [
    decls,
    "",
    `fn epilogue(m: i32, n: i32, acc: f32) {\n${epilogue}\n}`,
    "",
    "@compute @workgroup_size(64)",
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    "  let m = i32(wg.x) * 64 + i32(lid);",
    `  if (m >= ${spec.M}) { return; }`,
    `  let n0 = i32(wg.y) * ${R};`,
    `  ${d.lane}`,
    ...rows.map((r) => `  let w${r} = min(n0 + ${r}, ${spec.N - 1});`),
    ...rows.map((r) => `  var acc${r} = 0.0;`),
    `  for (var c = 0; c < ${d.C}; c++) {`,
    `    for (var ky = 0; ky < ${d.KH}; ky++) {`,
    `      for (var kx = 0; kx < ${d.KW}; kx++) {`,
    `        ${d.input}`,
    "        var v = 0.0;",
    `        if (ok) { v = ${d.inBuf}[idx]; }`,
    ...rows.map((r) => `        acc${r} = fma(${d.wBuf}[${d.weight(`w${r}`)}], v, acc${r});`),
    "      }",
    "    }",
    "  }",
    ...rows.map((r) => `  if (n0 + ${r} < ${spec.N}) { epilogue(m, n0 + ${r}, acc${r}); }`),
    "}",
  ].join("\n");
}
