// Lane-row GEMM, without workgroup memory or barriers: window attention's many small products (q·kᵀ and attn·v per
// window and head, 64×64 by d = 10..30 on window 8) with their gradients, and the token linears (rows × C by C × O).
//
// Why not the tiled GEMM (gemm.ts): it sizes its 64-thread tiles from N alone (up to 256×8 or 32×64 outputs), so on
// a 64×10 product most threads computed padding, and its two barriers per 8-deep K step (on lavapipe each one
// switches every lane's coroutine) cost more than a product's 10 to 64 terms: 0.3–0.9 GFLOP/s on attention, 1.3–2.9
// on the linears, where the row-form convs reach 9–14 (docs/bench.md, "SwinIR's kernels").
//
// Here each lane owns one row of C (the "lane axis", m; or n when M is small and N is not, so lanes are not idle) and
// a block of up to 32 columns along the other axis that depends only on the workgroup. lavapipe runs a workgroup's
// lanes as SIMD lanes: a load whose address depends only on the workgroup is one scalar load and a broadcast, so per
// k a lane does one gather (its row's value) and up to 32 FMAs with broadcast operands, against the 8-per-load
// budget of docs/bench.md, "What lavapipe allows". K is summed in order, k = 0, 1, … (the tiled GEMM's order too).
import type { GemmSpec } from "./rules.js";

const WG = 64;
/** Accumulators per lane: lavapipe keeps ~32 in registers (docs/bench.md, "What lavapipe allows"). */
const MAX_BLOCK = 32;
/** WebGPU's guaranteed maxComputeWorkgroupsPerDimension. */
const MAX_WORKGROUPS = 65535;

export interface LaneRowPlan {
  /** The axis lanes run along: "m" (each lane a row of C) or "n" (each lane a column). */
  readonly lanes: "m" | "n";
  /** Columns (rows, for lanes on n) each lane accumulates, the same for the whole workgroup. */
  readonly block: number;
}

/** The block: the whole axis up to 32, else its largest divisor in [16, 32], else 32 with the edge guarded. */
function blockOf(d: number): number {
  if (d <= MAX_BLOCK) return d;
  for (let b = MAX_BLOCK; b >= 16; b--) if (d % b === 0) return b;
  return MAX_BLOCK;
}

export function laneRowPlan(spec: GemmSpec): LaneRowPlan {
  const lanes = spec.M < WG / 2 && spec.N > spec.M ? "n" : "m";
  return { lanes, block: blockOf(lanes === "m" ? spec.N : spec.M) };
}

export function laneRowGrid(spec: GemmSpec): [number, number, number] {
  const { lanes, block } = laneRowPlan(spec);
  const [L, U] = lanes === "m" ? [spec.M, spec.N] : [spec.N, spec.M];
  return [Math.ceil(L / WG), Math.ceil(U / block), Math.min(spec.batch ?? 1, MAX_WORKGROUPS)];
}

/** Renders the kernel; `epilogue(m, n, acc)` is defined from the caller's `epilogue` body. */
export function renderLaneRowGemm(spec: GemmSpec, decls: string, epilogue: string): string {
  const { lanes, block } = laneRowPlan(spec);
  const [L, U] = lanes === "m" ? [spec.M, spec.N] : [spec.N, spec.M];
  const js = Array.from({ length: block }, (_, j) => j);
  const guard = U % block !== 0;
  // Columns past the edge read the last one (always in range) and are not stored.
  const u = (j: number) => (guard ? `min(u0 + ${j}, ${U - 1})` : `u0 + ${j}`);
  const [laneLoad, blockLoad] =
    lanes === "m"
      ? [`loadA(l, k)`, (j: number) => `loadB(k, ${u(j)})`]
      : [`loadB(k, l)`, (j: number) => `loadA(${u(j)}, k)`];
  const store = (j: number) => {
    const call = lanes === "m" ? `epilogue(l, u0 + ${j}, acc${j});` : `epilogue(u0 + ${j}, l, acc${j});`;
    return guard ? `if (u0 + ${j} < ${U}) { ${call} }` : call;
  };
  const batch = spec.batch ?? 1;
  return [
    `// lane-row gemm ${spec.M}x${spec.K} · ${spec.K}x${spec.N}, batch ${batch}`,
    decls,
    "var<private> bz: i32;",
    "",
    `fn loadA(m: i32, k: i32) -> f32 {\n  ${spec.loadA}\n}`,
    `fn loadB(k: i32, n: i32) -> f32 {\n  ${spec.loadB}\n}`,
    `fn epilogue(m: i32, n: i32, acc: f32) {\n${epilogue}\n}`,
    "",
    `@compute @workgroup_size(${WG})`,
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {",
    `  let l = i32(wg.x) * ${WG} + i32(lid);`,
    `  if (l >= ${L}) { return; }`,
    `  let u0 = i32(wg.y) * ${block};`,
    `  for (var z = i32(wg.z); z < ${batch}; z += i32(nwg.z)) {`,
    "    bz = z;",
    ...js.map((j) => `    var acc${j} = 0.0;`),
    `    for (var k = 0; k < ${spec.K}; k++) {`,
    `      let a = ${laneLoad};`,
    ...js.map((j) => `      acc${j} = fma(a, ${blockLoad(j)}, acc${j});`),
    "    }",
    ...js.map((j) => `    ${store(j)}`),
    "  }",
    "}",
  ].join("\n");
}
