// The resolved form of a `task` declaration (stdlib/tasks.mio): what the data pipeline samples degradations from.

/** How one degradation parameter is drawn per image. */
export type ParamDist =
  | { dist: "const"; value: number }
  /** U(min, max); with `decimals`, rounded to that many decimals (0 = Python's round(U(a,b)) to an integer). */
  | { dist: "uniform"; min: number; max: number; decimals?: number }
  /** A uniform integer in [min, max], both inclusive. */
  | { dist: "int"; min: number; max: number }
  /** A uniform odd integer in [min, max], both inclusive (kernel sizes). */
  | { dist: "odd"; min: number; max: number }
  /** One of the listed values, uniformly. */
  | { dist: "choice"; values: number[] };

/** The degradation functions mio implements (runtime/data/degrade/), by their .mio names. */
export const DEGRADATIONS = [
  "bicubic_down_up",
  "gaussian_blur",
  "gaussian_noise",
  "jpeg",
  "rain",
  "haze",
  "gamma_dark",
] as const;
export type DegradationName = (typeof DEGRADATIONS)[number];

/** The parameters each degradation takes: a task declaration must give exactly these. */
export const DEGRADATION_PARAMS: Record<DegradationName, readonly string[]> = {
  bicubic_down_up: ["scale"],
  gaussian_blur: ["kernel", "sigma"],
  gaussian_noise: ["sigma"],
  jpeg: ["quality"],
  rain: ["amount", "length", "angle", "width"],
  haze: ["atmosphere", "beta"],
  gamma_dark: ["gamma"],
};

export interface DegradationSpec {
  fn: DegradationName;
  params: Record<string, ParamDist>;
}

export interface TaskSpec {
  /** The task's name in .mio files: sr, blur, noise, jpeg, rain, haze, dark. */
  name: string;
  /** Column title in reports (the paper's: SR, Blur, Noise, JPEG, Rain, Haze, Low-Light). */
  title: string;
  /** In-distribution: training and the In-Dis test sets. */
  inDist: DegradationSpec;
  /** Out-of-distribution test sets (harder levels). */
  outDist: DegradationSpec;
}
