// What the passes compile: a graph, the values the host fetches, and the end-of-step assignments.
import type { Graph } from "../ir/graph.js";
import type { Node } from "../ir/node.js";

/** At the end of a step, `target` (a parameter or state input) takes the value of `value`. */
export interface Update {
  readonly target: Node;
  readonly value: Node;
}

/** A step to compile: forward (and backward, optimizer, EMA) in one graph. */
export interface Program {
  readonly g: Graph;
  /** Values the host may read back, by name. */
  readonly outputs: ReadonlyMap<string, Node>;
  readonly updates: readonly Update[];
}
