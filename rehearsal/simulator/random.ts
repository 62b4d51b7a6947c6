/**
 * Small, seeded randomness for the simulators: a mulberry32 generator, a string hash
 * to derive independent seeds from (seed, endpoint, variant, minute, ...), and the few
 * distributions the data plane draws from. Deterministic: the same seed gives the same
 * draws (uniforms from 32-bit integer arithmetic; the transforms use Math's functions, which
 * V8 computes the same way on every platform).
 */

// Math's functions bound once: in a vm context (jest's test environment) every lookup of a
// global such as Math goes through an interceptor, which made the hot loops ten times slower.
const { PI, cos, exp, imul, log, max, min, pow, round, sin, sqrt } = Math;

/** 32-bit FNV-1a over the parts joined by a separator that cannot occur in names. */
export function hashSeed(...parts: ReadonlyArray<string | number>): number {
  let hash = 0x811c9dc5;
  const text = parts.join('\u0000');
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = imul(hash, 0x01000193);
  }
  // Final avalanche, so that close inputs give distant seeds.
  return fmix32(hash);
}

/** A seed for stream `stream` of `seed`: distinct streams give unrelated seeds. */
export function mixSeed(seed: number, stream: number): number {
  return fmix32((seed ^ imul(stream, 0x9e3779b9)) >>> 0);
}

/** murmur3's 32-bit finalizer: every input bit affects every output bit. */
function fmix32(input: number): number {
  let hash = input;
  hash ^= hash >>> 16;
  hash = imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** z such that P(Z <= z) = 0.99 for a standard normal Z. */
export const Z_99 = 2.3263478740408408;

/** Below this mean, counts are drawn exactly; above it, by the normal approximation. */
const EXACT_MEAN_LIMIT = 30;

export class Random {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u1 = 1 - this.next(); // (0, 1]: log stays finite
    const u2 = this.next();
    const radius = sqrt(-2 * log(u1));
    this.spare = radius * sin(2 * PI * u2);
    return radius * cos(2 * PI * u2);
  }

  /** Poisson(mean): exact (Knuth) for small means, normal approximation for large ones. */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean >= EXACT_MEAN_LIMIT) {
      return max(0, round(mean + sqrt(mean) * this.normal()));
    }
    const limit = exp(-mean);
    let count = 0;
    let product = this.next();
    while (product > limit) {
      count++;
      product *= this.next();
    }
    return count;
  }

  /** Binomial(n, p): exact inversion when n*min(p, 1-p) is small, normal approximation otherwise. */
  binomial(n: number, p: number): number {
    if (n <= 0 || !(p > 0)) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    const mean = n * p;
    if (mean >= EXACT_MEAN_LIMIT) {
      const draw = round(mean + sqrt(mean * (1 - p)) * this.normal());
      return min(n, max(0, draw));
    }
    // Inversion (BINV): walk the pmf from 0 with its recurrence.
    const q = 1 - p;
    const ratio = p / q;
    const a = (n + 1) * ratio;
    let probability = pow(q, n);
    let u = this.next();
    let x = 0;
    while (u > probability && x < n) {
      u -= probability;
      x++;
      probability *= a / x - ratio;
    }
    return x;
  }
}

// Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;
const EPSILON = Number.EPSILON;

/** z such that P(Z <= z) = p for a standard normal Z; p is clamped into (0, 1). */
export function normalQuantile(p: number): number {
  const u = min(max(p, EPSILON), 1 - EPSILON);
  if (u < P_LOW || u > 1 - P_LOW) {
    const q = sqrt(-2 * log(u < P_LOW ? u : 1 - u));
    const z = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
    return u < P_LOW ? z : -z;
  }
  const q = u - 0.5;
  const r = q * q;
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}

/** Log-space sigma of the lognormal whose 50th and 99th percentiles are p50 and p99. */
export function lognormalSigma(p50: number, p99: number): number {
  return log(p99 / p50) / Z_99;
}
