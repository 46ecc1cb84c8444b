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
  // Degradations of the Unknown test sets only (docs/data.md, "The Unknown group"): no task trains on them.
  "anisotropic_blur",
  "motion_blur",
  "diffraction_blur",
  "dim",
  "camera_noise",
] as const;
export type DegradationName = (typeof DEGRADATIONS)[number];

/**
 * What a degradation parameter may be: a number (or, with `int`, an integer; with `odd`, an odd integer) in
 * [min, max], or (min, max] with `aboveMin`. Absent bounds are open.
 */
export interface ParamLimit {
  min?: number;
  /** Values must be greater than `min`, not equal to it. */
  aboveMin?: boolean;
  max?: number;
  int?: boolean;
  odd?: boolean;
}

/**
 * The parameters each degradation takes and the values each may take: the one table of degradation limits.
 * `mioc check` tests every value a task's distribution can draw against it (compiler/resolve/tasks.ts); each
 * degradation tests the values it is given (runtime/data/degrade/common.ts, `param`). docs/language.md lists it.
 */
export const DEGRADATION_LIMITS = {
  // F.interpolate(scale_factor=1/scale): a scale below 1 would upsample first. Too small an image for its scale is
  // refused when the degradation runs.
  bicubic_down_up: { scale: { min: 1 } },
  // The kernel's upper bound keeps its taps (a k x k filter) a kernel, not an allocation of the whole image.
  gaussian_blur: { kernel: { int: true, odd: true, min: 1, max: 255 }, sigma: { min: 0, aboveMin: true } },
  // On the 0..255 scale.
  gaussian_noise: { sigma: { min: 0 } },
  jpeg: { quality: { int: true, min: 1, max: 100 } },
  // The streak is an L x L warp scaled by 1 - L/100 (docs/data.md), so L stops at 99; the streak blur is w x w.
  rain: {
    amount: { min: 0 },
    length: { int: true, min: 2, max: 99 },
    angle: {},
    width: { int: true, odd: true, min: 1, max: 99 },
  },
  // I = J·T + 255·A·(1 − T), T = exp(−β·d): A is the airlight on [0, 1], β a non-negative density.
  haze: { atmosphere: { min: 0, max: 1 }, beta: { min: 0 } },
  gamma_dark: { gamma: { min: 0, aboveMin: true } },
  // BasicSR's bivariate Gaussian: σ along the kernel's own axes, the first axis turned `angle` degrees from x.
  anisotropic_blur: {
    kernel: { int: true, odd: true, min: 1, max: 255 },
    sigma_x: { min: 0, aboveMin: true },
    sigma_y: { min: 0, aboveMin: true },
    angle: {},
  },
  // A line of `length` pixels (odd, so that it has a centre pixel and does not shift the image), turned `angle`°.
  motion_blur: { length: { int: true, odd: true, min: 1, max: 255 }, angle: {} },
  // sinc² of a rectangular aperture: `width` is the distance in pixels from the centre to the first dark fringe.
  diffraction_blur: { kernel: { int: true, odd: true, min: 1, max: 255 }, width: { min: 0, aboveMin: true } },
  // The light that reaches the sensor, as a fraction of the scene's (linear light).
  dim: { light: { min: 0, aboveMin: true, max: 1 } },
  // Photo-electrons at white (shot noise: fewer is noisier) and the read noise's σ as a fraction of white.
  camera_noise: { photons: { min: 0, aboveMin: true, max: 1e6 }, read: { min: 0, max: 1 } },
} as const satisfies Record<DegradationName, Record<string, ParamLimit>>;

/** The parameters each degradation takes: a task declaration must give exactly these. */
export const DEGRADATION_PARAMS = Object.fromEntries(
  Object.entries(DEGRADATION_LIMITS).map(([fn, ps]) => [fn, Object.keys(ps)]),
) as unknown as Record<DegradationName, readonly string[]>;

/** The limit on one parameter of a degradation (open if the table does not name it). */
export function paramLimit(fn: DegradationName, name: string): ParamLimit {
  return (DEGRADATION_LIMITS[fn] as Record<string, ParamLimit>)[name] ?? {};
}

/**
 * What a limit asks for, as a message ends: "an integer in 1..100", "a number > 0", "an odd integer in 1..255".
 * @example describeLimit({ min: 0, aboveMin: true }) // "a number > 0"
 */
export function describeLimit(l: ParamLimit): string {
  const kind = l.odd ? "an odd integer" : l.int ? "an integer" : "a number";
  const lo = l.min === undefined ? undefined : `${l.aboveMin ? ">" : ">="} ${l.min}`;
  if (l.min !== undefined && l.max !== undefined && !l.aboveMin) return `${kind} in ${l.min}..${l.max}`;
  const range = [lo, l.max === undefined ? undefined : `<= ${l.max}`].filter(Boolean).join(" and ");
  return range ? `${kind} ${range}` : `a finite ${kind.slice(kind.indexOf(" ") + 1)}`;
}

/** Whether `v` is a value the limit allows. */
export function withinLimit(l: ParamLimit, v: number): boolean {
  if (!Number.isFinite(v)) return false;
  if ((l.int || l.odd) && !Number.isInteger(v)) return false;
  if (l.odd && Math.abs(v % 2) !== 1) return false;
  if (l.min !== undefined && (l.aboveMin ? !(v > l.min) : v < l.min)) return false;
  return l.max === undefined || v <= l.max;
}

/** Round half to even, as `torch.round`, numpy's `round` and OpenCV's `cvRound` do (not `Math.round`: half up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; on an exact tie pick the even neighbour.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Python's `round(x, decimals)` (decimals = 0: to an integer, half to even): how `round(a..b, d)` draws. */
export function roundTo(x: number, decimals: number): number {
  if (decimals <= 0) return roundHalfEven(x);
  // toFixed rounds the exact binary value, as Python does (only exact binary ties could differ).
  return Number(x.toFixed(decimals));
}

export interface DegradationSpec {
  fn: DegradationName;
  params: Record<string, ParamDist>;
}

/**
 * The resolved form of a `testset` declaration (stdlib/unknown.mio): a test set of degradations no task trains on,
 * evaluated in the `unknown` group. Its degradations run in order, each drawing its own parameters per image.
 */
export interface TestsetSpec {
  /** The set's name in .mio files and metrics.json: difficult, mild, wild, ntire20, toled. */
  name: string;
  /** Column title in reports (the paper's Table 4: Difficult, Mild, Wild, Ntire20, Toled). */
  title: string;
  /** The real test set this synthetic one stands in for, in words (reports and docs/data.md quote it). */
  standsFor: string;
  degrade: DegradationSpec[];
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
