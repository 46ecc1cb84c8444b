// Reverse-mode autodiff as a graph transform: it appends the backward graph to the same graph once, at compile
// time. The runtime never sees a tape, only the nodes this emits.
import { assert, type Node, numel } from "../ir/node.js";
import type { GraphOps } from "../ir/tensor-ops.js";
import { type GradRule, gradRules } from "./grad-rules.js";

/**
 * Appends the gradient of the scalar `loss` with respect to each of `wrt` and returns them in order. A node that
 * `loss` does not depend on gets a zero constant of its shape.
 * @example const [dw] = grad(o, loss, [w]);
 */
export function grad(o: GraphOps, loss: Node, wrt: readonly Node[]): Node[] {
  assert(numel(loss.shape) === 1, () => `the loss must have one element, got [${loss.shape}]`, loss);
  // Nodes on a path from some `wrt` to the loss: only they need gradients.
  const nodes = o.g.nodes.slice(0, loss.id + 1);
  const dependsOnWrt = new Set<number>(wrt.map((w) => w.id));
  for (const n of nodes) if (n.src.some((s) => dependsOnWrt.has(s.id))) dependsOnWrt.add(n.id);
  const reachesLoss = new Set<number>([loss.id]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n && reachesLoss.has(n.id)) for (const s of n.src) reachesLoss.add(s.id);
  }

  const grads = new Map<number, Node>([[loss.id, o.constant(1, loss.shape)]]);
  for (let i = loss.id; i >= 0; i--) {
    const n = nodes[i];
    if (!n || !reachesLoss.has(n.id) || !dependsOnWrt.has(n.id) || n.src.length === 0) continue;
    const g = grads.get(n.id);
    if (!g) continue;
    const rule: GradRule = gradRules[n.op];
    const gs = rule(o, g, n);
    n.src.forEach((s, k) => {
      const gk = gs[k];
      if (!gk || !dependsOnWrt.has(s.id)) return;
      assert(gk.shape.join() === s.shape.join(), () => `gradient [${gk.shape}] for source [${s.shape}]`, n);
      const prev = grads.get(s.id);
      grads.set(s.id, prev ? o.add(prev, gk) : gk);
    });
  }
  return wrt.map((w) => grads.get(w.id) ?? o.constant(0, w.shape));
}
