/**
 * Metric store of the CloudWatch simulator: datapoints indexed by metric (namespace,
 * name and exact dimension set), kept in time order so that a time range is found by
 * binary search, and aggregated into periods aligned to multiples of the period since
 * the epoch. A period with no datapoint is absent (missing data).
 *
 * Statistics follow the CloudWatch statistics definitions: SampleCount, Sum, Average
 * (Sum / SampleCount), Minimum, Maximum and percentiles pNN(.NN), computed from the
 * Values/Counts distributions. Percentiles are not available for a period that holds a
 * statistic set with more than one distinct value, or a negative value, as the
 * GetMetricStatistics page documents.
 *
 * Sources for each behaviour: docs/rehearsal.md (fidelity table).
 */
import type { MetricDimension } from './metric-sample';

export type { MetricDimension } from './metric-sample';

export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly MetricDimension[];
}

/** One stored datapoint: a raw distribution (Value or Values/Counts) or a statistic set. */
export interface StoredDatapoint {
  /** Epoch ms, already truncated to the storage resolution. */
  readonly timestamp: number;
  readonly unit: string;
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
  /** The exact distribution, when known; absent for a statistic set with several distinct values. */
  readonly distribution?: { readonly values: readonly number[]; readonly counts: readonly number[] };
}

export const STANDARD_STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
export type StandardStatistic = (typeof STANDARD_STATISTICS)[number];

export type ParsedStatistic = { kind: 'standard'; name: StandardStatistic } | { kind: 'percentile'; name: string; percentile: number };

/** pNN.NN: a percentile between p0 and p100 with at most two decimals ("p99", "p99.9", "p0.0", "p100"). */
const PERCENTILE_PATTERN = /^p(\d{1,3})(\.\d{1,2})?$/;

/** The statistic named as PutMetricAlarm/GetMetricData/GetMetricStatistics accept it, or undefined when it is not modelled. */
export function parseStatistic(stat: string): ParsedStatistic | undefined {
  if ((STANDARD_STATISTICS as readonly string[]).includes(stat)) return { kind: 'standard', name: stat as StandardStatistic };
  const match = PERCENTILE_PATTERN.exec(stat);
  if (!match) return undefined;
  const percentile = Number(`${match[1]}${match[2] ?? ''}`);
  if (!(percentile >= 0 && percentile <= 100)) return undefined;
  return { kind: 'percentile', name: stat, percentile };
}

/** The aggregate of one period of one metric (one unit). */
export interface PeriodAggregate {
  /** Start of the period, epoch ms (a multiple of the period). */
  readonly timestamp: number;
  readonly unit: string;
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
  /** Merged distribution (sorted ascending by value), or undefined when percentiles are not available. */
  readonly distribution: { readonly values: readonly number[]; readonly counts: readonly number[] } | undefined;
}

/** The value of a statistic for a period, or undefined when it is not available (a percentile without raw data). */
export function statisticValue(aggregate: PeriodAggregate, statistic: ParsedStatistic): number | undefined {
  if (statistic.kind === 'percentile') {
    return aggregate.distribution ? percentileOf(aggregate.distribution.values, aggregate.distribution.counts, statistic.percentile) : undefined;
  }
  switch (statistic.name) {
    case 'SampleCount':
      return aggregate.sampleCount;
    case 'Sum':
      return aggregate.sum;
    case 'Average':
      return aggregate.sum / aggregate.sampleCount;
    case 'Minimum':
      return aggregate.minimum;
    case 'Maximum':
      return aggregate.maximum;
  }
}

/**
 * Nearest-rank percentile of a weighted distribution: the smallest value whose cumulative
 * count reaches `percentile`% of the total (p0 is the minimum, p100 the maximum).
 * `values` must be sorted ascending. CloudWatch does not document its interpolation; this
 * is the simulator's choice (Simplified in the fidelity table).
 */
export function percentileOf(values: readonly number[], counts: readonly number[], percentile: number): number | undefined {
  let total = 0;
  for (const count of counts) total += count;
  if (values.length === 0 || total <= 0) return undefined;
  const rank = (percentile / 100) * total;
  // A relative tolerance so that, say, p90 of 10 samples is the 9th value despite rounding.
  const tolerance = total * 1e-12;
  let cumulative = 0;
  for (let index = 0; index < values.length; index++) {
    cumulative += counts[index] ?? 0;
    if (cumulative + tolerance >= rank && (counts[index] ?? 0) > 0) return values[index];
  }
  return values[values.length - 1];
}

/** Stable key of a metric: CloudWatch treats each unique combination of dimensions as a separate metric, in any order. */
export function metricKey(namespace: string, metricName: string, dimensions: readonly MetricDimension[]): string {
  const dims = dimensions
    .map((dimension) => [dimension.Name, dimension.Value] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`);
  return JSON.stringify([namespace, metricName, dims]);
}

interface MetricSeries {
  readonly identity: MetricIdentity;
  /** Sorted by timestamp; equal timestamps in arrival order. */
  readonly points: StoredDatapoint[];
}

export interface AggregateQuery {
  /** Inclusive, epoch ms; rounded down to a multiple of the period. */
  readonly startMs: number;
  /** Exclusive, epoch ms: periods starting at or after it are left out. */
  readonly endMs: number;
  readonly periodSeconds: number;
  /** Only data published with this unit; all units when undefined. */
  readonly unit?: string;
  /** One aggregate per (period, unit) instead of one per period across units. */
  readonly groupByUnit?: boolean;
}

export class MetricStore {
  private readonly series = new Map<string, MetricSeries>();

  clear(): void {
    this.series.clear();
  }

  add(identity: MetricIdentity, datapoint: StoredDatapoint): void {
    const key = metricKey(identity.namespace, identity.metricName, identity.dimensions);
    let series = this.series.get(key);
    if (!series) {
      series = {
        identity: {
          namespace: identity.namespace,
          metricName: identity.metricName,
          dimensions: identity.dimensions.map((d) => ({ Name: d.Name, Value: d.Value })),
        },
        points: [],
      };
      this.series.set(key, series);
    }
    const points = series.points;
    // Data usually arrives in time order: append; otherwise insert after the last point at or before it.
    const last = points[points.length - 1];
    if (!last || last.timestamp <= datapoint.timestamp) points.push(datapoint);
    else points.splice(firstAfter(points, datapoint.timestamp, { inclusive: false }), 0, datapoint);
  }

  /** Every metric with at least one datapoint, with the time of its latest datapoint. */
  metrics(): Array<{ identity: MetricIdentity; latest: number }> {
    return [...this.series.values()].map((series) => ({ identity: series.identity, latest: series.points[series.points.length - 1]?.timestamp ?? -Infinity }));
  }

  /**
   * The periods of [startMs, endMs) that hold data, in time order. Periods are aligned to
   * multiples of the period since the epoch; each aggregates its whole period.
   */
  aggregate(identity: MetricIdentity, query: AggregateQuery): PeriodAggregate[] {
    const series = this.series.get(metricKey(identity.namespace, identity.metricName, identity.dimensions));
    if (!series) return [];
    const periodMs = query.periodSeconds * 1000;
    const firstBucket = Math.floor(query.startMs / periodMs) * periodMs;
    // The last period that starts before endMs, and everything it contains.
    const lastBucket = Math.ceil(query.endMs / periodMs) * periodMs - periodMs;
    if (lastBucket < firstBucket) return [];
    const points = series.points;
    const builders = new Map<string, AggregateBuilder>();
    const order: string[] = [];
    for (let index = firstAfter(points, firstBucket, { inclusive: true }); index < points.length; index++) {
      const point = points[index];
      if (!point || point.timestamp >= lastBucket + periodMs) break;
      if (query.unit !== undefined && point.unit !== query.unit) continue;
      const bucket = Math.floor(point.timestamp / periodMs) * periodMs;
      const key = query.groupByUnit ? `${bucket}|${point.unit}` : String(bucket);
      let builder = builders.get(key);
      if (!builder) {
        builder = new AggregateBuilder(bucket);
        builders.set(key, builder);
        order.push(key);
      }
      builder.add(point);
    }
    return order.map((key) => (builders.get(key) as AggregateBuilder).build());
  }
}

class AggregateBuilder {
  private sampleCount = 0;
  private sum = 0;
  private minimum = Infinity;
  private maximum = -Infinity;
  private readonly units = new Set<string>();
  private readonly counts = new Map<number, number>();
  private percentilesAvailable = true;

  constructor(private readonly timestamp: number) {}

  add(point: StoredDatapoint): void {
    this.sampleCount += point.sampleCount;
    this.sum += point.sum;
    this.minimum = Math.min(this.minimum, point.minimum);
    this.maximum = Math.max(this.maximum, point.maximum);
    this.units.add(point.unit);
    if (!point.distribution || point.minimum < 0) {
      this.percentilesAvailable = false;
      return;
    }
    const { values, counts } = point.distribution;
    for (let index = 0; index < values.length; index++) {
      const value = values[index] as number;
      this.counts.set(value, (this.counts.get(value) ?? 0) + (counts[index] ?? 0));
    }
  }

  build(): PeriodAggregate {
    let distribution: PeriodAggregate['distribution'];
    if (this.percentilesAvailable) {
      const values = [...this.counts.keys()].sort((a, b) => a - b);
      distribution = { values, counts: values.map((value) => this.counts.get(value) ?? 0) };
    }
    return {
      timestamp: this.timestamp,
      // Mixed units only when the query asked for any unit and did not group by unit.
      unit: this.units.size === 1 ? ([...this.units][0] as string) : 'None',
      sampleCount: this.sampleCount,
      sum: this.sum,
      minimum: this.minimum,
      maximum: this.maximum,
      distribution,
    };
  }
}

/** Builds the stored form of a raw distribution; zero counts are dropped. Undefined when nothing was observed. */
export function datapointFromDistribution(timestamp: number, unit: string, values: readonly number[], counts: readonly number[]): StoredDatapoint | undefined {
  const kept: number[] = [];
  const keptCounts: number[] = [];
  let sampleCount = 0;
  let sum = 0;
  let minimum = Infinity;
  let maximum = -Infinity;
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as number;
    const count = counts[index] ?? 1;
    if (count <= 0) continue;
    kept.push(value);
    keptCounts.push(count);
    sampleCount += count;
    sum += value * count;
    minimum = Math.min(minimum, value);
    maximum = Math.max(maximum, value);
  }
  if (sampleCount <= 0) return undefined;
  return { timestamp, unit, sampleCount, sum, minimum, maximum, distribution: { values: kept, counts: keptCounts } };
}

/**
 * Builds the stored form of a statistic set. Its percentiles are known only when it holds
 * a single sample or a single distinct value (SampleCount 1, or Minimum = Maximum), as
 * documented for GetMetricStatistics.
 */
export function datapointFromStatisticSet(
  timestamp: number,
  unit: string,
  set: { SampleCount: number; Sum: number; Minimum: number; Maximum: number },
): StoredDatapoint | undefined {
  if (set.SampleCount <= 0) return undefined;
  const base = { timestamp, unit, sampleCount: set.SampleCount, sum: set.Sum, minimum: set.Minimum, maximum: set.Maximum };
  if (set.SampleCount === 1) return { ...base, distribution: { values: [set.Sum], counts: [1] } };
  if (set.Minimum === set.Maximum) return { ...base, distribution: { values: [set.Minimum], counts: [set.SampleCount] } };
  return base;
}

/**
 * The index of the first datapoint after `timestamp` (or at it, unless `inclusive` is
 * false): a binary search over points kept in time order.
 */
function firstAfter(points: readonly StoredDatapoint[], timestamp: number, { inclusive }: { inclusive: boolean }): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const at = (points[mid] as StoredDatapoint).timestamp;
    if (at < timestamp || (!inclusive && at === timestamp)) low = mid + 1;
    else high = mid;
  }
  return low;
}
