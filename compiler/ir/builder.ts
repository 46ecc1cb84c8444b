// The graph builder the language front end lowers backbones through: primitive ops (inherited from GraphOps)
// plus layer helpers that create named parameters with PyTorch/BasicSR state-dict names and PyTorch's init.
import { Graph } from "./graph.js";
import { assert, type Node, numel, type Shape } from "./node.js";
import { hashString, SequentialRng } from "./rng.js";
import { GraphOps } from "./tensor-ops.js";

/**
 * How a conv/linear layer is initialised:
 * - `pytorch`: PyTorch's default, kaiming_uniform(a=√5) weights (U(±1/√fan_in)) and bias U(±1/√fan_in);
 * - `kaiming0.1`: BasicSR `default_init_weights(scale=0.1)`: kaiming_normal (fan_in, gain √2) × 0.1, bias 0;
 * - `zeros`: weights and bias 0.
 */
export type LayerInit = "pytorch" | "kaiming0.1" | "zeros";

/**
 * A trainable parameter: its input node and its initial value. The value is drawn when first read: lowering a model
 * whose weights are then loaded (inference, evaluation) or only counted never pays for drawing them.
 */
export interface Param {
  readonly name: string;
  readonly node: Node;
  readonly init: Float32Array;
}

export interface Conv2dOptions {
  /** Output channels. */
  out: number;
  /** Kernel size (square). */
  k: number;
  stride?: number;
  /** Padding on every side. */
  pad?: number;
  padMode?: "zeros" | "reflect";
  bias?: boolean;
  init?: LayerInit;
}

export interface LinearOptions {
  bias?: boolean;
  init?: LayerInit;
}

export interface BuilderOptions {
  /** Seed of the parameter init; each parameter draws from hash(seed, name), so init ignores creation order. */
  seed?: number;
}

/**
 * Builds a forward graph with named parameters.
 * @example
 * const b = new GraphBuilder({ seed: 0 });
 * const x = b.input("lq", [2, 3, 24, 24]);
 * const y = b.conv2d(x, "conv_first", { out: 16, k: 3, pad: 1 }); // params conv_first.weight, conv_first.bias
 */
export class GraphBuilder extends GraphOps {
  readonly params = new Map<string, Param>();
  private readonly seed: number;

  constructor(opts: BuilderOptions = {}) {
    super(new Graph());
    this.seed = opts.seed ?? 0;
  }

  /** Declares a parameter with an explicit initial value, or a named init over `fanIn`. */
  param(
    name: string,
    shape: Shape,
    init:
      | Float32Array
      | { kind: "uniform"; bound: number }
      | { kind: "normal"; std: number }
      | { kind: "const"; value: number },
  ): Node {
    assert(!this.params.has(name), () => `parameter '${name}' is declared twice`);
    const node = this.input(name, shape, "param");
    if (init instanceof Float32Array)
      assert(init.length === numel(shape), () => `init of '${name}' has ${init.length} values for [${shape}]`);
    const seed = hashString(name, this.seed);
    let value: Float32Array | undefined = init instanceof Float32Array ? init : undefined;
    const draw = (): Float32Array => {
      if (init instanceof Float32Array) return init;
      const rng = new SequentialRng(seed);
      const out = new Float32Array(numel(shape));
      for (let i = 0; i < out.length; i++) {
        out[i] =
          init.kind === "uniform"
            ? rng.uniform(-init.bound, init.bound)
            : init.kind === "normal"
              ? rng.normal() * init.std
              : init.value;
      }
      return out;
    };
    this.params.set(name, {
      name,
      node,
      get init() {
        value ??= draw();
        return value;
      },
    });
    return node;
  }

  private weightAndBias(name: string, wshape: Shape, fanIn: number, bias: boolean, init: LayerInit): [Node, Node?] {
    const bound = 1 / Math.sqrt(fanIn);
    const w = this.param(
      `${name}.weight`,
      wshape,
      init === "pytorch"
        ? { kind: "uniform", bound }
        : init === "kaiming0.1"
          ? { kind: "normal", std: 0.1 * Math.sqrt(2 / fanIn) }
          : { kind: "const", value: 0 },
    );
    if (!bias) return [w];
    const out = wshape[0] ?? 0;
    const b = this.param(
      `${name}.bias`,
      [out],
      init === "pytorch" ? { kind: "uniform", bound } : { kind: "const", value: 0 },
    );
    return [w, b];
  }

  /**
   * `nn.Conv2d(Cin, out, k, stride, pad, padding_mode, bias)` on an NCHW tensor; creates `<name>.weight`
   * [out, Cin, k, k] and `<name>.bias` [out].
   */
  conv2d(x: Node, name: string, o: Conv2dOptions): Node {
    const cin = x.shape[1] ?? 0;
    const [w, b] = this.weightAndBias(
      name,
      [o.out, cin, o.k, o.k],
      cin * o.k * o.k,
      o.bias ?? true,
      o.init ?? "pytorch",
    );
    const pad = o.pad ?? 0;
    const reflect = (o.padMode ?? "zeros") === "reflect" && pad > 0;
    const xin = reflect ? this.pad(x, [pad, pad, pad, pad], "reflect") : x;
    const y = this.convolve(xin, w, o.stride ?? 1, reflect ? 0 : pad);
    return b ? this.add(y, this.reshape(b, [1, o.out, 1, 1])) : y;
  }

  /** `nn.Linear(in, out)` on [B, in]; creates `<name>.weight` [out, in] and `<name>.bias` [out]. */
  linear(v: Node, name: string, out: number, o: LinearOptions = {}): Node {
    assert(v.shape.length === 2, () => `linear '${name}' expects [B, in], got [${v.shape}]`);
    const cin = v.shape[1] ?? 0;
    const [w, b] = this.weightAndBias(name, [out, cin], cin, o.bias ?? true, o.init ?? "pytorch");
    const y = this.matmul(v, this.t(w));
    return b ? this.add(y, this.reshape(b, [1, out])) : y;
  }

  /** Global spatial mean of NCHW to [B, C] (`AdaptiveAvgPool2d(1)` + flatten). */
  globalMean(x: Node): Node {
    return this.mean(x, [2, 3], false);
  }

  /** The trainable parameters in declaration order. */
  paramList(): Param[] {
    return [...this.params.values()];
  }
}

/** The initial value of every parameter of a builder, by name (what a train session uploads first). */
export function initialParams(b: GraphBuilder): Map<string, Float32Array> {
  return new Map(b.paramList().map((p) => [p.name, p.init]));
}
