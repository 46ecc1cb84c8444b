// A graph under construction: the one place nodes are created.
import { type Attrs, assert, type Node, nodeKey, printNode } from "./node.js";
import { type OpName, shapeRules } from "./ops.js";

/**
 * Nodes are appended in creation order, which is a topological order, and are hash-consed: asking twice for the
 * same (op, src, attrs) returns the same node. The op's shape rule runs here, so every node has a checked shape.
 * @example
 * const g = new Graph();
 * const x = g.node("input", [], { name: "x", role: "data", shape: [1, 3, 8, 8] });
 * const y = g.node("leaky_relu", [x], { alpha: 0 }); // y.shape = [1, 3, 8, 8]
 */
export class Graph {
  readonly nodes: Node[] = [];
  private readonly memo = new Map<string, Node>();
  /** Input nodes by name: a train step declares one per parameter and optimizer state, so a scan was quadratic. */
  private readonly inputs = new Map<string, Node>();

  node(op: OpName, src: readonly Node[], attrs: Attrs = {}): Node {
    const key = nodeKey(op, src, attrs);
    const hit = this.memo.get(key);
    if (hit) return hit;
    for (const s of src) assert(this.nodes[s.id] === s, () => `source %${s.id} belongs to another graph`);
    const shape = Object.freeze([
      ...shapeRules[op](
        src.map((s) => s.shape),
        attrs,
      ),
    ]);
    const n: Node = Object.freeze({
      id: this.nodes.length,
      op,
      src: Object.freeze([...src]),
      attrs: Object.freeze({ ...attrs }),
      shape,
      dtype: "f32",
      key,
    });
    this.nodes.push(n);
    this.memo.set(key, n);
    if (op === "input" && !this.inputs.has(String(attrs.name))) this.inputs.set(String(attrs.name), n);
    return n;
  }

  /** The input node with this name, if any. */
  input(name: string): Node | undefined {
    return this.inputs.get(name);
  }

  /** Prints every node, one per line (what `--emit ir` shows). */
  print(): string {
    return this.nodes.map(printNode).join("\n");
  }
}
