// One compiled plan of a layer's forward and backward on the device: its output and the gradients of sum(cot · y)
// with respect to the input and every parameter. The Swin layer and Restormer block golden tests compare them with
// PyTorch.
import { grad } from "../../../compiler/autodiff/grad.js";
import type { GraphBuilder } from "../../../compiler/ir/builder.js";
import type { Node } from "../../../compiler/ir/node.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";
import { Executor } from "../../../runtime/exec/executor.js";
import type { Gpu } from "../../../runtime/webgpu/device.js";
import { cotangentLoss } from "../../compiler/helpers.js";

export interface DeviceGradients {
  y: ArrayLike<number>;
  gradX: ArrayLike<number>;
  /** By parameter name. */
  gradParams: Record<string, ArrayLike<number>>;
}

/** Runs `y` and its gradients with inputs `values` (`x`, the cotangent `cot`, the parameters by name). */
export async function deviceGradients(
  gpu: Gpu,
  b: GraphBuilder,
  x: Node,
  y: Node,
  values: Record<string, ArrayLike<number>>,
): Promise<DeviceGradients> {
  const params = b.paramList();
  const grads = grad(b, cotangentLoss(b, y, "cot"), [x, ...params.map((p) => p.node)]);
  const outputs = new Map<string, Node>([
    ["out.y", y],
    ["out.grad.x", grads[0] as Node],
  ]);
  params.forEach((p, i) => {
    outputs.set(`out.grad.${p.name}`, grads[i + 1] as Node);
  });
  const plan = compileProgram(
    { g: b.g, outputs, updates: [] },
    { maxBindings: gpu.device.limits.maxStorageBuffersPerShaderStage },
  );
  const exe = await Executor.create(gpu, plan);
  for (const [name, v] of Object.entries(values)) exe.write(name, v);
  const got = await exe.run([...outputs.keys()]);
  exe.destroy();
  return {
    y: got["out.y"] ?? [],
    gradX: got["out.grad.x"] ?? [],
    gradParams: Object.fromEntries(params.map((p) => [p.name, got[`out.grad.${p.name}`] ?? []])),
  };
}
