// IR verification, run between passes in debug mode (MIO_DEBUG >= 1): cheap checks of invariants that the
// builders already guarantee, so a pass that breaks one is caught where it happens.
import { assert, type Node } from "../ir/node.js";
import { isElementwise, shapeRules } from "../ir/ops.js";
import type { Fused } from "./fuse.js";
import type { Program } from "./program.js";

/** Every node's sources precede it, its shape matches its shape rule, and its id is its position. */
export function verifyProgram(p: Program): Program {
  p.g.nodes.forEach((n, i) => {
    assert(n.id === i, () => `node id ${n.id} at position ${i}`, n);
    for (const s of n.src) assert(s.id < n.id && p.g.nodes[s.id] === s, () => `source %${s.id} is not earlier`, n);
    const shape = shapeRules[n.op](
      n.src.map((s) => s.shape),
      n.attrs,
    );
    assert(shape.join() === n.shape.join(), () => `shape [${n.shape}] but the rule gives [${shape}]`, n);
  });
  for (const u of p.updates) {
    assert(u.target.shape.join() === u.value.shape.join(), () => `update of [${u.target.shape}]`, u.value);
    assert(u.target.op === "input", () => "an update must target an input", u.target);
  }
  return p;
}

/** Every value a kernel uses is computed in the kernel, inlined, or written by an earlier kernel (or input). */
export function verifyFused(f: Fused, maxBindings: number): Fused {
  const written = new Set<number>();
  for (const g of f.groups) {
    const inGroup = new Set(g.members.map((m) => m.id));
    assert(
      g.reads.length + g.outs.length <= maxBindings + 1,
      () => `kernel binds ${g.reads.length + g.outs.length} buffers`,
      g.root,
    );
    for (const read of g.reads) {
      const r = f.alias.get(read.id) ?? read;
      assert(r.op === "input" || written.has(r.id), () => `reads %${r.id} before it is written`, g.root);
    }
    for (const m of g.members.slice(1)) {
      assert(isElementwise(m.op), () => "a non-elementwise member", m);
      for (const s of m.src) {
        const ok = inGroup.has(s.id) || f.inlined.has(s.id) || g.reads.includes(s);
        assert(ok, () => `member reads %${s.id}, which the kernel neither computes nor binds`, m);
      }
    }
    for (const o of g.outs as Node[]) written.add(o.id);
  }
  return f;
}
