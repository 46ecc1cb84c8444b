// The seven tasks with the reference's ranges, as a literal table for runtime tests (the stdlib's own table, parsed
// from stdlib/tasks.mio, is exercised through the CLI tests).
import type { ParamDist, TaskSpec } from "../../../compiler/schema/task.js";

const u = (min: number, max: number, decimals?: number): ParamDist => ({ dist: "uniform", min, max, decimals });
const rainParams = (amountMin: number): Record<string, ParamDist> => ({
  amount: { dist: "int", min: amountMin, max: amountMin + 49 },
  length: { dist: "int", min: 20, max: 40 },
  angle: { dist: "int", min: -45, max: 44 },
  width: { dist: "choice", values: [3, 5, 7, 9, 11] },
});

export const TASKS: TaskSpec[] = [
  {
    name: "sr",
    title: "SR",
    inDist: { fn: "bicubic_down_up", params: { scale: { dist: "const", value: 4 } } },
    outDist: { fn: "bicubic_down_up", params: { scale: { dist: "const", value: 6 } } },
  },
  {
    name: "blur",
    title: "Blur",
    inDist: { fn: "gaussian_blur", params: { kernel: { dist: "odd", min: 7, max: 21 }, sigma: u(1, 3, 2) } },
    outDist: { fn: "gaussian_blur", params: { kernel: { dist: "odd", min: 7, max: 21 }, sigma: u(3, 5, 2) } },
  },
  {
    name: "noise",
    title: "Noise",
    inDist: { fn: "gaussian_noise", params: { sigma: u(15, 50, 0) } },
    outDist: { fn: "gaussian_noise", params: { sigma: u(50, 70, 0) } },
  },
  {
    name: "jpeg",
    title: "JPEG",
    inDist: { fn: "jpeg", params: { quality: u(30, 70, 0) } },
    outDist: { fn: "jpeg", params: { quality: u(10, 30, 0) } },
  },
  {
    name: "rain",
    title: "Rain",
    inDist: { fn: "rain", params: rainParams(50) },
    outDist: { fn: "rain", params: rainParams(100) },
  },
  {
    name: "haze",
    title: "Haze",
    inDist: { fn: "haze", params: { atmosphere: u(0.8, 1, 2), beta: u(0.5, 2.5, 2) } },
    outDist: { fn: "haze", params: { atmosphere: u(0.8, 1, 2), beta: u(2.5, 3, 2) } },
  },
  {
    name: "dark",
    title: "Low-Light",
    inDist: { fn: "gamma_dark", params: { gamma: u(1, 3, 2) } },
    outDist: { fn: "gamma_dark", params: { gamma: u(3, 4, 2) } },
  },
];

/** A task that leaves the image as it is (gamma 1), to check crops and augmentation against the GT. */
export const IDENTITY: TaskSpec = {
  name: "identity",
  title: "Identity",
  inDist: { fn: "gamma_dark", params: { gamma: { dist: "const", value: 1 } } },
  outDist: { fn: "gamma_dark", params: { gamma: { dist: "const", value: 1 } } },
};
