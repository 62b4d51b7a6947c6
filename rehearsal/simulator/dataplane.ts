/**
 * Data plane of SageMaker real-time endpoints, in virtual time: the InvokeEndpoint
 * traffic that clients send, routed to the production variants by their CurrentWeight,
 * and the per-minute metrics SageMaker publishes for it to CloudWatch (namespace
 * `AWS/SageMaker`, dimensions EndpointName and VariantName):
 *
 * | metric                 | one value per request                      | unit         |
 * | ---------------------- | ------------------------------------------ | ------------ |
 * | Invocations            | 1                                          | None         |
 * | Invocation4XXErrors    | 1 for a 4xx response, otherwise 0          | None         |
 * | Invocation5XXErrors    | 1 for a 5xx response, otherwise 0          | None         |
 * | ModelLatency           | time the model took, as seen by SageMaker  | Microseconds |
 * | OverheadLatency        | SageMaker's own time, ModelLatency excluded | Microseconds |
 * | InvocationsPerInstance | 1 / number of instances of the variant     | None         |
 *
 * Source: "Amazon SageMaker AI metrics in Amazon CloudWatch"
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html, "SageMaker AI
 * endpoint invocation metrics": 1-minute frequency, "For each 4xx response, 1 is sent;
 * otherwise, 0 is sent", latencies in microseconds) and API_ScalingPolicyMetric
 * (InvocationsPerInstance: "1/numberOfInstances is sent as the value on each request").
 * A variant that served no request in a minute publishes no datapoint (missing data).
 *
 * Each datapoint is a MetricSample with Values/Counts, handed to the sink given to the
 * constructor (the CloudWatch simulator's recordMetric). Randomness is seeded per
 * (seed, endpoint, variant, minute, quantity), so a minute's numbers do not depend on the
 * order of calls or on the other quantities' settings.
 */
import type { VirtualClock } from '../clock';
import type { VariantMinute } from '../model';
import type { MetricSample } from './metric-sample';
import { Random, hashSeed, lognormalSigma, mixSeed, normalQuantile } from './random';
import type { EndpointStatus, SageMakerSimulator } from './sagemaker';

// Bound once: see random.ts.
const { ceil, exp, floor, max, min, round } = Math;

/** A lognormal latency, fitted to its 50th and 99th percentiles. */
export interface LatencyDistribution {
  p50Ms: number;
  p99Ms: number;
}

export interface TrafficBehaviour {
  /** Share of requests answered 4xx, 0..1. */
  errorRate4xx: number;
  /** Share of requests answered 5xx, 0..1 (at most 1 - errorRate4xx takes effect). */
  errorRate5xx: number;
  modelLatency: LatencyDistribution;
  overheadLatency: LatencyDistribution;
}

export interface DataPlaneOptions {
  clock: VirtualClock;
  sagemaker: SageMakerSimulator;
  publish: (sample: MetricSample) => void;
}

export interface DataPlaneSettings {
  seed: number;
  requestsPerSecond: number;
  defaultBehaviour: TrafficBehaviour;
}

export interface EndpointMinute {
  /** Start of the minute, epoch ms (virtual). */
  start: number;
  endpointName: string;
  variants: VariantMinute[];
}

export const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';

const MINUTE_MS = 60_000;
/** Latency draws per variant-minute: one per request up to this many, then one per stratum (this many + 1); counts spread the requests over them. */
const MAX_LATENCY_SAMPLES = 100;
/** Resolution of the cached lognormal quantile table (0.1 % of probability a slice). */
const QUANTILE_TABLE_SLICES = 1000;
/** Statuses in which the running variants serve requests (during an update too). */
const SERVING_STATUSES: ReadonlySet<EndpointStatus> = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack']);

/** Independent random streams of a variant-minute, so that changing one quantity's settings leaves the others' draws alone. */
const Quantity = { Invocations: 1, Errors: 2, ModelLatency: 3, OverheadLatency: 4 } as const;
type Quantity = (typeof Quantity)[keyof typeof Quantity];

interface CapturedVariant {
  variantName: string;
  weight: number;
  instanceCount: number | undefined;
  versions: number[];
}

interface CapturedEndpoint {
  endpointName: string;
  serving: boolean;
  variants: CapturedVariant[];
}

interface Distribution {
  values: number[];
  counts: number[];
}

interface State {
  seed: number;
  requestsPerSecond: number;
  defaultBehaviour: TrafficBehaviour;
  behaviours: Map<number, TrafficBehaviour>;
  excluded: Set<number>;
  history: Map<string, EndpointMinute[]>;
  routing: CapturedEndpoint[];
  /** Traffic starts here (the reset time): a first partial minute gets its share of requests. */
  activeFrom: number;
  /** End of the last minute published (or the minute boundary at or before the reset). */
  lastBoundary: number;
}

export class DataPlaneSimulator {
  private readonly clock: VirtualClock;
  private readonly sagemaker: SageMakerSimulator;
  private readonly publish: (sample: MetricSample) => void;
  private state: State | undefined;

  constructor(options: DataPlaneOptions) {
    this.clock = options.clock;
    this.sagemaker = options.sagemaker;
    this.publish = options.publish;
  }

  /** Forgets history and settings; routing is captured at the clock's current time. */
  reset(settings: DataPlaneSettings): void {
    if (!Number.isFinite(settings.seed)) throw new RangeError(`DataPlaneSimulator.reset: seed must be a finite number, got ${settings.seed}`);
    assertRequestsPerSecond(settings.requestsPerSecond);
    const now = this.clock.now();
    this.state = {
      seed: settings.seed,
      requestsPerSecond: settings.requestsPerSecond,
      defaultBehaviour: validBehaviour(settings.defaultBehaviour),
      behaviours: new Map(),
      excluded: new Set(),
      history: new Map(),
      routing: [],
      activeFrom: now,
      lastBoundary: floor(now / MINUTE_MS) * MINUTE_MS,
    };
    this.state.routing = this.captureRouting();
  }

  /** Requests per second sent to each endpoint, for the minutes published from now on. */
  setRequestsPerSecond(rps: number): void {
    assertRequestsPerSecond(rps);
    this.requireState('setRequestsPerSecond').requestsPerSecond = rps;
  }

  /**
   * Behaviour of the variants serving this model package version, for the minutes
   * published from now on; unset fields keep their current values (at first, the
   * default behaviour's).
   */
  setBehaviour(version: number, behaviour: Partial<TrafficBehaviour>): void {
    const state = this.requireState('setBehaviour');
    const current = this.behaviourOf(version);
    state.behaviours.set(
      version,
      validBehaviour({
        errorRate4xx: behaviour.errorRate4xx ?? current.errorRate4xx,
        errorRate5xx: behaviour.errorRate5xx ?? current.errorRate5xx,
        modelLatency: { ...(behaviour.modelLatency ?? current.modelLatency) },
        overheadLatency: { ...(behaviour.overheadLatency ?? current.overheadLatency) },
      }),
    );
  }

  /** The behaviour in effect for variants serving this version (a copy). */
  behaviourOf(version: number): TrafficBehaviour {
    const state = this.requireState('behaviourOf');
    return copyBehaviour(state.behaviours.get(version) ?? state.defaultBehaviour);
  }

  /**
   * Clients stop sending requests to variants serving this version (e.g. all requests use
   * TargetVariant of the others); the other variants share its traffic, by weight (equally
   * if their weights are all 0). Applies to the minutes published from now on.
   */
  setExcludedFromRouting(version: number, excluded: boolean): void {
    const state = this.requireState('setExcludedFromRouting');
    if (excluded) state.excluded.add(version);
    else state.excluded.delete(version);
  }

  /**
   * Called at each whole virtual minute boundary by the engine, in order: publishes the
   * minute that ends at boundaryEpochMs for every endpoint, routed by the variants'
   * CurrentWeight captured at the previous boundary (or at reset), then captures routing
   * at boundaryEpochMs for the next minute. Boundaries skipped since the last call are
   * published with the same routing. Before the first reset there is no traffic: a no-op.
   */
  tick(boundaryEpochMs: number): void {
    const state = this.state;
    if (!state) return;
    if (!Number.isFinite(boundaryEpochMs) || boundaryEpochMs % MINUTE_MS !== 0) {
      throw new RangeError(`DataPlaneSimulator.tick: expected a whole minute in epoch ms, got ${boundaryEpochMs}`);
    }
    if (boundaryEpochMs <= state.lastBoundary) {
      throw new RangeError(
        `DataPlaneSimulator.tick: boundary ${new Date(boundaryEpochMs).toISOString()} is not after the last one (${new Date(state.lastBoundary).toISOString()})`,
      );
    }
    for (let end = state.lastBoundary + MINUTE_MS; end <= boundaryEpochMs; end += MINUTE_MS) {
      this.publishMinute(state, end - MINUTE_MS);
    }
    state.lastBoundary = boundaryEpochMs;
    state.routing = this.captureRouting();
  }

  /** Every minute published for the endpoint since the reset, oldest first. */
  minutes(endpointName: string): readonly EndpointMinute[] {
    return this.state?.history.get(endpointName.toLowerCase()) ?? [];
  }

  // -------------------------------------------------------------------------------

  private requireState(method: string): State {
    if (!this.state) throw new Error(`DataPlaneSimulator.${method}: call reset(settings) first`);
    return this.state;
  }

  private captureRouting(): CapturedEndpoint[] {
    return this.sagemaker.endpointNames().flatMap((endpointName) => {
      const endpoint = this.sagemaker.servingVariants(endpointName);
      if (!endpoint) return [];
      return [
        {
          endpointName,
          serving: SERVING_STATUSES.has(endpoint.status),
          variants: endpoint.variants.map((variant) => ({
            variantName: variant.variantName,
            weight: variant.currentWeight,
            instanceCount: variant.instanceCount,
            versions: variant.versions,
          })),
        },
      ];
    });
  }

  private publishMinute(state: State, start: number): void {
    const activeFraction = min(1, (start + MINUTE_MS - max(start, state.activeFrom)) / MINUTE_MS);
    for (const endpoint of state.routing) {
      const shares = this.sharesOf(state, endpoint);
      const variants = endpoint.variants.map((variant, index) =>
        this.publishVariantMinute(state, endpoint.endpointName, variant, start, shares[index], state.requestsPerSecond * 60 * activeFraction),
      );
      const key = endpoint.endpointName.toLowerCase();
      const history = state.history.get(key) ?? [];
      history.push({ start, endpointName: endpoint.endpointName, variants });
      state.history.set(key, history);
    }
  }

  /** Each variant's share of the endpoint's requests, 0..1, with exclusions applied. */
  private sharesOf(state: State, endpoint: CapturedEndpoint): number[] {
    if (!endpoint.serving) return endpoint.variants.map(() => 0);
    const routable = endpoint.variants.map((variant) => variant.instanceCount !== 0 && !variant.versions.some((version) => state.excluded.has(version)));
    const total = endpoint.variants.reduce((sum, variant, index) => (routable[index] ? sum + variant.weight : sum), 0);
    const count = routable.filter(Boolean).length;
    return endpoint.variants.map((variant, index) => {
      if (!routable[index]) return 0;
      if (total > 0) return variant.weight / total;
      // Only reachable when exclusions leave variants of weight 0: clients target them explicitly.
      return 1 / count;
    });
  }

  private publishVariantMinute(
    state: State,
    endpointName: string,
    variant: CapturedVariant,
    start: number,
    share: number,
    requestsPerMinute: number,
  ): VariantMinute {
    const version = variant.versions[0];
    const sharePercent = share * 100;
    const variantMinuteSeed = hashSeed(state.seed, endpointName, variant.variantName, start);
    const random = (quantity: Quantity) => new Random(mixSeed(variantMinuteSeed, quantity));
    const invocations = share > 0 ? random(Quantity.Invocations).poisson(requestsPerMinute * share) : 0;
    // `version` stays undefined for a variant whose model comes from no package (JSON leaves it out).
    if (invocations === 0) return { variantName: variant.variantName, version, sharePercent, invocations: 0, errors4xx: 0, errors5xx: 0 };

    const behaviour = this.behaviourFor(state, variant.versions);
    const errors = random(Quantity.Errors);
    const errors4xx = errors.binomial(invocations, behaviour.errorRate4xx);
    const conditional5xx = behaviour.errorRate4xx >= 1 ? 0 : min(1, behaviour.errorRate5xx / (1 - behaviour.errorRate4xx));
    const errors5xx = errors.binomial(invocations - errors4xx, conditional5xx);
    const modelLatency = latencyDistribution(random(Quantity.ModelLatency), invocations, behaviour.modelLatency);
    const overheadLatency = latencyDistribution(random(Quantity.OverheadLatency), invocations, behaviour.overheadLatency);

    const dimensions = [
      { Name: 'EndpointName', Value: endpointName },
      { Name: 'VariantName', Value: variant.variantName },
    ];
    const sample = (metricName: string, unit: string, distribution: Distribution): MetricSample => ({
      namespace: SAGEMAKER_NAMESPACE,
      metricName,
      dimensions,
      timestamp: start,
      unit,
      values: distribution.values,
      counts: distribution.counts,
    });
    this.publish(sample('Invocations', 'None', { values: [1], counts: [invocations] }));
    this.publish(sample('Invocation4XXErrors', 'None', zeroOne(invocations, errors4xx)));
    this.publish(sample('Invocation5XXErrors', 'None', zeroOne(invocations, errors5xx)));
    this.publish(sample('ModelLatency', 'Microseconds', modelLatency));
    this.publish(sample('OverheadLatency', 'Microseconds', overheadLatency));
    // Serverless variants have no instance count: the metric is not modelled for them.
    if (variant.instanceCount !== undefined && variant.instanceCount > 0) {
      this.publish(sample('InvocationsPerInstance', 'None', { values: [1 / variant.instanceCount], counts: [invocations] }));
    }
    const [p50, p99] = percentiles(modelLatency, invocations, 0.5, 0.99);
    return { variantName: variant.variantName, version, sharePercent, invocations, errors4xx, errors5xx, p50LatencyMs: p50 / 1000, p99LatencyMs: p99 / 1000 };
  }

  /** The behaviour of the first of the variant's versions that has one, else the default. */
  private behaviourFor(state: State, versions: number[]): TrafficBehaviour {
    for (const version of versions) {
      const behaviour = state.behaviours.get(version);
      if (behaviour) return behaviour;
    }
    return state.defaultBehaviour;
  }
}

/** `total` requests of which `ones` sent 1 and the others 0 (entries with no count left out). */
function zeroOne(total: number, ones: number): Distribution {
  const values: number[] = [];
  const counts: number[] = [];
  if (total - ones > 0) {
    values.push(0);
    counts.push(total - ones);
  }
  if (ones > 0) {
    values.push(1);
    counts.push(ones);
  }
  return { values, counts };
}

/**
 * Latencies of `requests` requests in microseconds, as distinct sorted values with counts
 * that sum to `requests` (at most 101 values: PutMetricData takes up to 150 per datum).
 * Up to MAX_LATENCY_SAMPLES requests: one lognormal draw per request. Above: one draw per
 * stratum, MAX_LATENCY_SAMPLES + 1 strata of the probability (1 % each, centred on the
 * whole percents, half strata at both ends), each standing for its part of the requests.
 * The published distribution follows that of `requests` independent requests at a fixed
 * cost; every whole percentile (p50, p90, p99) falls in the middle of a stratum, so a
 * minute's p99 is unbiased (its spread, about 8 % when p99 = 5 x p50, is that of about
 * 1,000 real requests).
 */
function latencyDistribution(random: Random, requests: number, latency: LatencyDistribution): Distribution {
  const medianMicros = latency.p50Ms * 1000;
  const sigma = lognormalSigma(latency.p50Ms, latency.p99Ms);
  const bounds = quantileBounds(sigma);
  const k = MAX_LATENCY_SAMPLES;
  const stratified = requests > k;
  const draws = stratified ? k + 1 : requests;
  const drawn: number[] = new Array<number>(draws);
  const weights: number[] = new Array<number>(draws);
  // Systematic rounding: one random offset makes each stratum's expected count exactly its
  // share of the requests (plain floors would over-weight the extreme strata at low volumes).
  const offset = stratified ? random.next() : 0;
  for (let index = 0; index < draws; index++) {
    if (stratified) {
      // Stratum j covers the probabilities [(j - 0.5) / k, (j + 0.5) / k) clipped to [0, 1]:
      // its edges in units of 1/(2k) are 2j - 1 and 2j + 1; the counts telescope to n.
      const low = max(0, 2 * index - 1);
      const high = min(2 * k, 2 * index + 1);
      drawn[index] = round(medianMicros * lognormalQuantile(bounds, sigma, (low + (high - low) * random.next()) / (2 * k)));
      weights[index] = floor((requests * high) / (2 * k) + offset) - floor((requests * low) / (2 * k) + offset);
    } else {
      drawn[index] = round(medianMicros * lognormalQuantile(bounds, sigma, random.next()));
      weights[index] = 1;
    }
  }
  if (!stratified) drawn.sort(ascending); // strata come in order already
  const values: number[] = [];
  const counts: number[] = [];
  for (let index = 0; index < draws; index++) {
    const count = weights[index];
    if (count === 0) continue;
    const value = drawn[index];
    if (values.length > 0 && values[values.length - 1] === value) counts[counts.length - 1] += count;
    else {
      values.push(value);
      counts.push(count);
    }
  }
  return { values, counts };
}

/**
 * The median-1 lognormal's quantile at probability p in [0, 1): interpolated linearly in
 * the table of QUANTILE_TABLE_SLICES slices, exact in the two outer ones (the tails).
 */
function lognormalQuantile(bounds: Float64Array, sigma: number, p: number): number {
  const x = p * QUANTILE_TABLE_SLICES;
  const slice = floor(x);
  if (slice <= 0 || slice >= QUANTILE_TABLE_SLICES - 1) return exp(sigma * normalQuantile(p));
  return bounds[slice] + (bounds[slice + 1] - bounds[slice]) * (x - slice);
}

const ascending = (a: number, b: number) => a - b;

const boundsBySigma = new Map<number, Float64Array>();

/** exp(sigma * z(i / slices)) for i = 1..slices-1: the inner slice bounds of a median-1 lognormal. */
function quantileBounds(sigma: number): Float64Array {
  const cached = boundsBySigma.get(sigma);
  if (cached) return cached;
  const bounds = new Float64Array(QUANTILE_TABLE_SLICES + 1);
  for (let index = 1; index < QUANTILE_TABLE_SLICES; index++) bounds[index] = exp(sigma * normalQuantile(index / QUANTILE_TABLE_SLICES));
  if (boundsBySigma.size >= 64) boundsBySigma.clear();
  boundsBySigma.set(sigma, bounds);
  return bounds;
}

/** Nearest-rank percentiles (ascending p) of a sorted distribution of `total` observations. */
function percentiles(distribution: Distribution, total: number, low: number, high: number): [number, number] {
  const lowRank = max(1, ceil(low * total));
  const highRank = max(1, ceil(high * total));
  let lowValue: number | undefined;
  let seen = 0;
  for (let index = 0; index < distribution.values.length; index++) {
    seen += distribution.counts[index];
    if (lowValue === undefined && seen >= lowRank) lowValue = distribution.values[index];
    if (seen >= highRank) return [lowValue ?? distribution.values[index], distribution.values[index]];
  }
  const last = distribution.values[distribution.values.length - 1];
  return [lowValue ?? last, last];
}

function assertRequestsPerSecond(rps: number): void {
  if (!Number.isFinite(rps) || rps < 0) throw new RangeError(`requestsPerSecond must be a finite number >= 0, got ${rps}`);
}

function validBehaviour(behaviour: TrafficBehaviour): TrafficBehaviour {
  for (const field of ['errorRate4xx', 'errorRate5xx'] as const) {
    const rate = behaviour[field];
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`TrafficBehaviour.${field} must be between 0 and 1, got ${rate}`);
  }
  for (const field of ['modelLatency', 'overheadLatency'] as const) {
    const { p50Ms, p99Ms } = behaviour[field];
    if (!(Number.isFinite(p50Ms) && p50Ms > 0 && Number.isFinite(p99Ms) && p99Ms >= p50Ms)) {
      throw new RangeError(`TrafficBehaviour.${field} needs 0 < p50Ms <= p99Ms (finite), got p50Ms ${p50Ms}, p99Ms ${p99Ms}`);
    }
  }
  return copyBehaviour(behaviour);
}

function copyBehaviour(behaviour: TrafficBehaviour): TrafficBehaviour {
  return {
    errorRate4xx: behaviour.errorRate4xx,
    errorRate5xx: behaviour.errorRate5xx,
    modelLatency: { ...behaviour.modelLatency },
    overheadLatency: { ...behaviour.overheadLatency },
  };
}
