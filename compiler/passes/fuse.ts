// Elementwise fusion: groups nodes into kernels. Each group has one root (any op but an input) and elementwise
// members of the root's shape that read group values at their own coordinates, so one thread computes a whole
// chain for an element and only values needed outside the group ("outs") are written to memory. A GEMM root
// takes its members as an epilogue (bias, activation, prompt modulation, residual add fused into the conv).
//
//   before: t1 = conv2d(x, w); t2 = add(t1, b); t3 = leaky_relu(t2)      3 kernels, 3 tensors written
//   after:  group{conv2d ▶ add ▶ leaky_relu}, outs = [t2, t3]            1 kernel (t2 kept for the backward)
import { append, assert, type Node } from "../ir/node.js";
import { isElementwise } from "../ir/ops.js";
import type { Program } from "./program.js";

export interface Group {
  readonly id: number;
  readonly root: Node;
  /** Root first, then members in topological order. */
  readonly members: Node[];
  /** Members written to memory (read outside the group, fetched, or used as an update). */
  outs: Node[];
  /** Materialized nodes from other groups (or inputs) that members read. */
  reads: Node[];
}

export interface FuseOptions {
  /** Storage buffers a kernel may bind (reads + writes); the device allows 8 or more per stage. */
  maxBindings: number;
  /**
   * Bindings a materialized value takes once split into ranges of the device's binding size (split-bindings.ts),
   * so a fused kernel of large tensors still fits `maxBindings`; 1 per value when absent.
   */
  bindingsOf?: (n: Node) => number;
  /** Turns fusion off (every node its own kernel): the reference schedule the fused one is tested against. */
  fuse: boolean;
}

export interface Fused {
  /** Groups in execution order. */
  readonly groups: Group[];
  /** Constants inlined as literals into their elementwise consumers (never materialized). */
  readonly inlined: ReadonlySet<number>;
  /**
   * Views: node id -> the materialized node whose buffer they read. Reshapes, a transpose of a transpose (the same
   * layout), and the transposes in `transposed`.
   */
  readonly alias: ReadonlyMap<number, Node>;
  /**
   * Transposes of the last two axes read only by matmuls: no kernel, the matmul reads the source's buffer with the
   * two axes swapped (rules.ts, matmul). Attention's kᵀ, vᵀ and the autodiff's transposes of every product's operands.
   */
  readonly transposed: ReadonlySet<number>;
}

/** Whether a permute swaps the last two axes and keeps the others (the builder's `t`). */
export function swapsLastTwo(n: Node): boolean {
  if (n.op !== "permute") return false;
  const perm = n.attrs.perm as readonly number[];
  const r = perm.length;
  return r >= 2 && perm.every((p, i) => p === (i < r - 2 ? i : 2 * r - 3 - i));
}

/** Nodes the program needs, in topological (id) order. */
export function liveNodes(p: Program): Node[] {
  const seen = new Map<number, Node>();
  const stack = [...p.outputs.values(), ...p.updates.map((u) => u.value)];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (seen.has(n.id)) continue;
    seen.set(n.id, n);
    stack.push(...n.src);
  }
  return [...seen.values()].sort((a, b) => a.id - b.id);
}

const sameShape = (a: Node, b: Node) => a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** A binary min-heap: Kahn's ready set, which sorting on every pop made quadratic in a large train step. */
export class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  push(x: T): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.less(a[i] as T, a[p] as T) >= 0) break;
      [a[i], a[p]] = [a[p] as T, a[i] as T];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < a.length && this.less(a[l] as T, a[m] as T) < 0) m = l;
        if (r < a.length && this.less(a[r] as T, a[m] as T) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as T, a[i] as T];
        i = m;
      }
    }
    return top;
  }
}

/** Groups the program's live nodes into kernels and orders them. */
export function fuseElementwise(p: Program, opts: FuseOptions): Fused {
  const nodes = liveNodes(p);
  const consumers = new Map<number, Node[]>();
  for (const n of nodes) for (const s of n.src) append(consumers, s.id, n);
  const external = new Set<number>([...p.outputs.values(), ...p.updates.map((u) => u.value)].map((n) => n.id));

  const inlined = new Set<number>();
  for (const n of nodes) {
    const cs = consumers.get(n.id) ?? [];
    if (n.op === "const" && !external.has(n.id) && cs.length > 0 && cs.every((c) => isElementwise(c.op))) {
      inlined.add(n.id);
    }
  }

  // Reshapes of materialized values are views: no kernel, the same buffer read with the reshape's shape.
  const alias = new Map<number, Node>();
  const resolve = (n: Node): Node => alias.get(n.id) ?? n;
  const transposed = new Set<number>();
  for (const n of nodes) {
    const src = n.src[0];
    if (!opts.fuse || !src || inlined.has(src.id)) continue;
    if (n.op === "reshape") alias.set(n.id, resolve(src));
    // t(t(x)) has x's layout: a view like a reshape, whoever reads it.
    else if (swapsLastTwo(n) && swapsLastTwo(src) && src.src[0] && !inlined.has(src.src[0].id))
      alias.set(n.id, resolve(src.src[0]));
  }
  // A transpose whose every reader is a matmul (or a transpose of it, a view of its source by now) needs no kernel.
  for (const n of nodes) {
    const src = n.src[0];
    if (!opts.fuse || !src || alias.has(n.id) || !swapsLastTwo(n) || external.has(n.id) || inlined.has(src.id))
      continue;
    const readers = consumers.get(n.id) ?? [];
    if (readers.length > 0 && readers.every((c) => c.op === "matmul" || (swapsLastTwo(c) && alias.has(c.id)))) {
      transposed.add(n.id);
      alias.set(n.id, resolve(src));
    }
  }

  const groupOf = new Map<number, Group>();
  const groups: Group[] = [];
  const materialized = (s: Node) => !inlined.has(s.id);
  const depGroups = (g: Group): Group[] =>
    g.reads.flatMap((r) => {
      const h = groupOf.get(resolve(r).id);
      return h && h !== g ? [h] : [];
    });
  // Each group's level is above the levels of the groups it reads (kept so as reads are added), so a search for a
  // path to `to` never needs to enter a group at or below `to`'s level: without that bound, every residual add
  // searched all earlier kernels, and a 1000-block SRResNet took minutes to fuse.
  const level = new Map<number, number>();
  const readers = new Map<number, Set<Group>>();
  const levelOf = (g: Group) => level.get(g.id) ?? 0;
  const raise = (g: Group, atLeast: number): void => {
    const stack: [Group, number][] = [[g, atLeast]];
    while (stack.length > 0) {
      const [x, l] = stack.pop() as [Group, number];
      if (levelOf(x) >= l) continue;
      level.set(x.id, l);
      for (const u of readers.get(x.id) ?? []) stack.push([u, l + 1]);
    }
  };
  const link = (g: Group, reads: readonly Node[]): void => {
    for (const r of reads) {
      const h = groupOf.get(resolve(r).id);
      if (!h || h === g) continue;
      const set = readers.get(h.id) ?? new Set<Group>();
      set.add(g);
      readers.set(h.id, set);
      raise(g, levelOf(h) + 1);
    }
  };
  // Does group `from` (transitively) read anything group `to` writes?
  const dependsOn = (from: Group, to: Group): boolean => {
    const stack = [from];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const g = stack.pop() as Group;
      if (g === to) return true;
      if (seen.has(g.id) || levelOf(g) <= levelOf(to)) continue;
      seen.add(g.id);
      stack.push(...depGroups(g));
    }
    return false;
  };
  const outsOf = (members: Set<number>, list: Node[]) =>
    list.filter((m) => external.has(m.id) || (consumers.get(m.id) ?? []).some((c) => !members.has(c.id)));

  const tryJoin = (n: Node, g: Group): boolean => {
    if (!sameShape(n, g.root)) return false;
    const members = new Set(g.members.map((m) => m.id));
    const newReads: Node[] = [];
    for (const s of n.src) {
      if (!materialized(s)) continue;
      if (members.has(s.id)) {
        if (!sameShape(s, n)) return false; // a broadcast read of a value this kernel writes would race
        continue;
      }
      if (members.has(resolve(s).id)) return false; // a view of a value this kernel writes: same race
      const h = groupOf.get(resolve(s).id);
      if (h && dependsOn(h, g)) return false; // joining would make a cycle between kernels
      newReads.push(s);
    }
    members.add(n.id);
    const reads = new Map([...g.reads, ...newReads].map((r) => [r.id, r]));
    const outs = outsOf(members, [...g.members, n]);
    const cost = (v: Node) => opts.bindingsOf?.(v) ?? 1;
    const bindings = [...reads.values(), ...outs].reduce((t, v) => t + cost(v), 0);
    if (bindings > opts.maxBindings) return false;
    g.members.push(n);
    for (const r of newReads) if (!g.reads.includes(r)) g.reads.push(r);
    groupOf.set(n.id, g);
    link(g, newReads);
    return true;
  };
  const newGroup = (n: Node): void => {
    const g: Group = { id: groups.length, root: n, members: [n], outs: [], reads: [] };
    for (const s of n.src) if (materialized(s) && !g.reads.includes(s)) g.reads.push(s);
    groups.push(g);
    groupOf.set(n.id, g);
    link(g, g.reads);
  };

  // Elementwise nodes of inputs only (Adam's b1 * m, the EMA's d * e) are deferred: they run in the kernel of
  // their first consumer instead of starting a kernel of their own.
  const deferred = new Set<number>();
  const placeDeferred = (n: Node, into?: Group): void => {
    for (const s of n.src) {
      if (!deferred.has(s.id)) continue;
      deferred.delete(s.id);
      if (!(into && sameShape(s, n) && tryJoin(s, into))) newGroup(s);
    }
  };

  for (const n of nodes) {
    if (n.op === "input" || inlined.has(n.id) || alias.has(n.id)) continue;
    if (opts.fuse && isElementwise(n.op) && n.op !== "const") {
      const free = n.src.every((s) => s.op === "input" || inlined.has(s.id));
      const elementwiseUsers = (consumers.get(n.id) ?? []).every((c) => isElementwise(c.op));
      if (free && elementwiseUsers && !external.has(n.id)) {
        deferred.add(n.id);
        continue;
      }
      const candidates = n.src.flatMap((s) => {
        const g = groupOf.get(s.id);
        return g && sameShape(s, n) ? [g] : [];
      });
      const target = candidates[0];
      if (target) {
        placeDeferred(n, target);
        if (candidates.some((g) => tryJoin(n, g))) continue;
      }
    }
    placeDeferred(n);
    newGroup(n);
  }
  for (const g of groups) g.outs = outsOf(new Set(g.members.map((m) => m.id)), g.members);

  // Kahn's algorithm; among ready groups the one with the smallest root id runs first (deterministic).
  const indeg = new Map<number, number>();
  const users = new Map<number, Group[]>();
  for (const g of groups) {
    const deps = [...new Set(depGroups(g))];
    indeg.set(g.id, deps.length);
    for (const d of deps) append(users, d.id, g);
  }
  const ready = new MinHeap<Group>((a, b) => a.root.id - b.root.id);
  for (const g of groups) if (indeg.get(g.id) === 0) ready.push(g);
  const order: Group[] = [];
  for (let g = ready.pop(); g; g = ready.pop()) {
    order.push(g);
    for (const u of users.get(g.id) ?? []) {
      const d = (indeg.get(u.id) ?? 0) - 1;
      indeg.set(u.id, d);
      if (d === 0) ready.push(u);
    }
  }
  assert(order.length === groups.length, () => "fusion produced a cycle between kernels");
  return { groups: order, inlined, alias, transposed };
}
