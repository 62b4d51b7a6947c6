/**
 * One datapoint as a service publishes it to CloudWatch: the shape of a PutMetricData
 * `MetricDatum` with `Values` and `Counts`, which keeps the distribution so that
 * percentiles can be computed over any period. The data plane publishes these; the
 * CloudWatch simulator stores them.
 */
export interface MetricDimension {
  readonly Name: string;
  readonly Value: string;
}

export interface MetricSample {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly MetricDimension[];
  /** Virtual clock, epoch ms. */
  readonly timestamp: number;
  readonly unit?: string;
  /** Distinct values observed; `counts[i]` is how many times `values[i]` was observed. */
  readonly values: readonly number[];
  readonly counts: readonly number[];
}
