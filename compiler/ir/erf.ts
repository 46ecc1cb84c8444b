// The error function in float64, which `Math` lacks: the definition of the `erf` op (and so of GELU) that the
// WGSL approximation and the PyTorch fixtures are compared against.

/**
 * erf(x) to about 1e-15, from the series erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), whose terms are all
 * positive (no cancellation, unlike the Taylor series). For |x| ≥ 6, erfc(|x|) < 2.2e-17 is below half an ulp of 1, so
 * erf is ±1 exactly in float64.
 *
 * @example erf(0.5) // 0.5204998778130465
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const z = Math.abs(x);
  if (z >= 6) return Math.sign(x);
  const z2 = z * z;
  let term = z;
  let sum = z;
  for (let n = 0; term > 1e-17 * sum; n++) {
    term *= (2 * z2) / (2 * n + 3);
    sum += term;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-z2) * sum;
  return x < 0 ? -r : r;
}
