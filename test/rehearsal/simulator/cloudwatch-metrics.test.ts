// CloudWatch simulator metric data, reached through the real SDK v3 client: PutMetricData,
// GetMetricStatistics, GetMetricData and ListMetrics, with period aggregation, percentiles
// from Values/Counts distributions, missing periods, limits and the documented errors.
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  InvalidNextToken,
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  ListMetricsCommand,
  MissingRequiredParameterException,
  PutMetricDataCommand,
  ValidationException,
  type Datapoint,
  type GetMetricDataCommandInput,
  type GetMetricStatisticsCommandInput,
  type MetricDataQuery,
  type MetricDatum,
} from '@aws-sdk/client-cloudwatch';
import fc from 'fast-check';
import { MetricStore, metricKey, parseStatistic, percentileOf, statisticValue } from '../../../rehearsal/simulator/metrics';
import { REGION, rejectionOf, startHarness, type Harness } from './harness';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const NAMESPACE = 'Rehearsal/Test';
const DIMENSIONS = [{ Name: 'EndpointName', Value: 'ep' }];
/** 2026-01-01 09:00:00 UTC, the harness clock's start. */
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const minute = (n: number) => new Date(T0 + n * 60_000);

async function putData(...data: MetricDatum[]) {
  return h.cloudwatch.send(new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: data }));
}

async function statistics(input: Partial<GetMetricStatisticsCommandInput>) {
  const output = await h.cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: NAMESPACE,
      MetricName: 'Latency',
      Dimensions: DIMENSIONS,
      StartTime: minute(0),
      EndTime: minute(10),
      Period: 60,
      Statistics: ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum'],
      ...input,
    }),
  );
  // The API does not return datapoints in chronological order.
  return { ...output, Datapoints: [...(output.Datapoints ?? [])].sort(byTimestamp) };
}

function byTimestamp(a: Datapoint, b: Datapoint): number {
  return (a.Timestamp?.getTime() ?? 0) - (b.Timestamp?.getTime() ?? 0);
}

function metricStat(id: string, stat: string, extra: Partial<MetricDataQuery> = {}): MetricDataQuery {
  return { Id: id, MetricStat: { Metric: { Namespace: NAMESPACE, MetricName: 'Latency', Dimensions: DIMENSIONS }, Period: 60, Stat: stat }, ...extra };
}

async function metricData(input: Partial<GetMetricDataCommandInput>) {
  return h.cloudwatch.send(new GetMetricDataCommand({ StartTime: minute(0), EndTime: minute(10), MetricDataQueries: [metricStat('m1', 'Average')], ...input }));
}

describe('PutMetricData and GetMetricStatistics', () => {
  it('It should aggregate datapoints into periods aligned to the epoch, leaving periods without data out', async () => {
    h.clock.advanceSeconds(600);
    await putData(
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: new Date(T0 + 10_000), Value: 10, Unit: 'Milliseconds' },
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: new Date(T0 + 50_000), Value: 30, Unit: 'Milliseconds' },
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: new Date(T0 + 185_000), Value: 5, Unit: 'Milliseconds' },
    );

    const output = await statistics({});

    expect(output.Label).toBe('Latency');
    expect(output.Datapoints).toEqual([
      { Timestamp: minute(0), SampleCount: 2, Sum: 40, Average: 20, Minimum: 10, Maximum: 30, Unit: 'Milliseconds' },
      { Timestamp: minute(3), SampleCount: 1, Sum: 5, Average: 5, Minimum: 5, Maximum: 5, Unit: 'Milliseconds' },
    ]);
  });

  it('It should aggregate a longer period over every minute it covers', async () => {
    h.clock.advanceSeconds(900);
    await putData(...[0, 1, 2, 3, 4, 5, 6].map((n) => ({ MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(n), Value: n })));

    const output = await statistics({ Period: 300, Statistics: ['Sum', 'SampleCount'] });

    expect(output.Datapoints).toEqual([
      { Timestamp: minute(0), Sum: 10, SampleCount: 5, Unit: 'None' },
      { Timestamp: minute(5), Sum: 11, SampleCount: 2, Unit: 'None' },
    ]);
  });

  it('It should compute percentiles from Values and Counts, and the statistics from the whole distribution', async () => {
    h.clock.advanceSeconds(120);
    await putData({ MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), Values: [100, 200, 900], Counts: [90, 9, 1], Unit: 'Microseconds' });

    const output = await statistics({ Statistics: undefined, ExtendedStatistics: ['p50', 'p90', 'p99', 'p99.5', 'p100'] });
    const all = await statistics({});

    expect(output.Datapoints).toEqual([
      { Timestamp: minute(1), Unit: 'Microseconds', ExtendedStatistics: { p50: 100, p90: 100, p99: 200, 'p99.5': 900, p100: 900 } },
    ]);
    expect(all.Datapoints).toEqual([
      { Timestamp: minute(1), SampleCount: 100, Sum: 9000 + 1800 + 900, Average: 117, Minimum: 100, Maximum: 900, Unit: 'Microseconds' },
    ]);
  });

  it('It should count each value once when Counts is omitted', async () => {
    h.clock.advanceSeconds(120);
    await putData({ MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), Values: [1, 2, 3, 4] });

    const output = await statistics({ Statistics: ['SampleCount', 'Sum'] });

    expect(output.Datapoints).toEqual([{ Timestamp: minute(1), SampleCount: 4, Sum: 10, Unit: 'None' }]);
  });

  it('It should give no percentile for a statistic set of several values, but one for a single sample or equal Minimum and Maximum', async () => {
    h.clock.advanceSeconds(300);
    await putData(
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(0), StatisticValues: { SampleCount: 10, Sum: 30, Minimum: 1, Maximum: 5 } },
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), StatisticValues: { SampleCount: 1, Sum: 7, Minimum: 7, Maximum: 7 } },
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(2), StatisticValues: { SampleCount: 4, Sum: 12, Minimum: 3, Maximum: 3 } },
    );

    const percentiles = await statistics({ Statistics: undefined, ExtendedStatistics: ['p90'] });
    const averages = await statistics({ Statistics: ['Average', 'SampleCount'] });

    expect(percentiles.Datapoints).toEqual([
      { Timestamp: minute(0), Unit: 'None' },
      { Timestamp: minute(1), Unit: 'None', ExtendedStatistics: { p90: 7 } },
      { Timestamp: minute(2), Unit: 'None', ExtendedStatistics: { p90: 3 } },
    ]);
    expect(averages.Datapoints.map((d) => [d.Average, d.SampleCount])).toEqual([
      [3, 10],
      [7, 1],
      [3, 4],
    ]);
  });

  it('It should give no percentile for a period with a negative value', async () => {
    h.clock.advanceSeconds(120);
    await putData({ MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), Values: [-1, 5] });

    const output = await statistics({ Statistics: undefined, ExtendedStatistics: ['p50'] });

    expect(output.Datapoints).toEqual([{ Timestamp: minute(1), Unit: 'None' }]);
  });

  it('It should treat each exact set of dimensions as its own metric, in any order', async () => {
    h.clock.advanceSeconds(120);
    const two = [
      { Name: 'EndpointName', Value: 'ep' },
      { Name: 'VariantName', Value: 'v1' },
    ];
    await putData(
      { MetricName: 'Latency', Dimensions: two, Timestamp: minute(1), Value: 1 },
      { MetricName: 'Latency', Dimensions: [...two].reverse(), Timestamp: minute(1), Value: 3 },
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), Value: 100 },
    );

    const both = await statistics({ Dimensions: two, Statistics: ['Sum'] });
    const subset = await statistics({ Dimensions: DIMENSIONS, Statistics: ['Sum'] });
    const none = await statistics({ Dimensions: [], Statistics: ['Sum'] });

    expect(both.Datapoints.map((d) => d.Sum)).toEqual([4]);
    expect(subset.Datapoints.map((d) => d.Sum)).toEqual([100]);
    expect(none.Datapoints).toEqual([]);
  });

  it('It should return only data of the requested unit, and one datapoint per unit when no unit is given', async () => {
    h.clock.advanceSeconds(120);
    await putData(
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), Value: 1, Unit: 'Seconds' },
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), Value: 500, Unit: 'Milliseconds' },
    );

    const seconds = await statistics({ Unit: 'Seconds', Statistics: ['Sum'] });
    const bytes = await statistics({ Unit: 'Bytes', Statistics: ['Sum'] });
    const any = await statistics({ Statistics: ['Sum'] });

    expect(seconds.Datapoints).toEqual([{ Timestamp: minute(1), Sum: 1, Unit: 'Seconds' }]);
    expect(bytes.Datapoints).toEqual([]);
    expect(any.Datapoints.map((d) => [d.Unit, d.Sum]).sort()).toEqual([
      ['Milliseconds', 500],
      ['Seconds', 1],
    ]);
  });

  it('It should store a standard-resolution datapoint at its minute and a high-resolution one at its second', async () => {
    h.clock.advanceSeconds(120);
    await putData(
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: new Date(T0 + 25_000), Value: 1 },
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: new Date(T0 + 25_000), Value: 2, StorageResolution: 1 },
    );

    const output = await statistics({ Period: 10, EndTime: minute(1), Statistics: ['Sum'] });

    expect(output.Datapoints).toEqual([
      { Timestamp: new Date(T0), Sum: 1, Unit: 'None' },
      { Timestamp: new Date(T0 + 20_000), Sum: 2, Unit: 'None' },
    ]);
  });

  it('It should see datapoints stored by recordMetric like published ones', async () => {
    h.simulators.cloudwatch.recordMetric({
      namespace: NAMESPACE,
      metricName: 'Latency',
      dimensions: DIMENSIONS,
      timestamp: T0 + 61_500,
      unit: 'Microseconds',
      values: [10, 20],
      counts: [3, 1],
    });

    const output = await statistics({ Statistics: ['SampleCount', 'Maximum'] });

    expect(output.Datapoints).toEqual([{ Timestamp: minute(1), SampleCount: 4, Maximum: 20, Unit: 'Microseconds' }]);
    expect(h.simulators.cloudwatch.calls.map((call) => call.operation)).toEqual(['GetMetricStatistics']);
  });

  it('It should refuse a recorded sample whose values and counts do not match', () => {
    expect(() =>
      h.simulators.cloudwatch.recordMetric({ namespace: NAMESPACE, metricName: 'Latency', dimensions: [], timestamp: T0, values: [1, 2], counts: [1] }),
    ).toThrow(RangeError);
  });

  it('It should forget metric data on reset', async () => {
    h.clock.advanceSeconds(120);
    await putData({ MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), Value: 1 });

    h.simulators.cloudwatch.reset();

    expect((await statistics({})).Datapoints).toEqual([]);
  });

  it('It should reject more than 1,440 datapoints with InvalidParameterCombination', async () => {
    const error = await rejectionOf(statistics({ StartTime: minute(0), EndTime: minute(1441), Period: 60 }));

    expect(error).toBeInstanceOf(InvalidParameterCombinationException);
    expect(error.Code).toBe('InvalidParameterCombination');
    expect(error.message).toBe(
      'You have requested up to 1441 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.',
    );
    await expect(statistics({ StartTime: minute(0), EndTime: minute(1440), Period: 60 })).resolves.toBeDefined();
  });

  it('It should require Statistics or ExtendedStatistics, but not both', async () => {
    const neither = await rejectionOf(statistics({ Statistics: undefined }));
    const both = await rejectionOf(statistics({ Statistics: ['Average'], ExtendedStatistics: ['p99'] }));

    expect(neither).toBeInstanceOf(MissingRequiredParameterException);
    expect(neither.Code).toBe('MissingParameter');
    expect(both).toBeInstanceOf(InvalidParameterCombinationException);
  });

  it('It should reject a percentile outside p0 to p100, a bad period and a start not before the end with InvalidParameterValue', async () => {
    const percentile = await rejectionOf(statistics({ Statistics: undefined, ExtendedStatistics: ['p101'] }));
    const period = await rejectionOf(statistics({ Period: 45 }));
    const times = await rejectionOf(statistics({ StartTime: minute(5), EndTime: minute(5) }));

    for (const error of [percentile, period, times]) {
      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect(error.Code).toBe('InvalidParameterValue');
    }
    expect(times.message).toBe('The parameter StartTime must be less than the parameter EndTime.');
  });
});

describe('PutMetricData validation', () => {
  const datum = { MetricName: 'Latency', Dimensions: DIMENSIONS };

  it('It should reject Value with Values or StatisticValues as mutually exclusive', async () => {
    const error = await rejectionOf(putData({ ...datum, Value: 1, Values: [1] }));

    expect(error).toBeInstanceOf(InvalidParameterCombinationException);
    expect(error.message).toBe('The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have specified both.');
  });

  it('It should require a value with MissingParameter', async () => {
    const error = await rejectionOf(putData({ ...datum }));

    expect(error).toBeInstanceOf(MissingRequiredParameterException);
    expect(error.Code).toBe('MissingParameter');
  });

  it('It should reject Counts of another length than Values, more than 150 values, NaN and out-of-range values with InvalidParameterValue', async () => {
    const cases: MetricDatum[] = [
      { ...datum, Values: [1, 2], Counts: [1] },
      { ...datum, Values: Array.from({ length: 151 }, (_, index) => index) },
      { ...datum, Value: Number.NaN },
      { ...datum, Value: 2 ** 361 },
      { ...datum, Value: 1, StorageResolution: 30 },
      { ...datum, StatisticValues: { SampleCount: 2, Sum: 3, Minimum: 5, Maximum: 1 } },
    ];

    for (const bad of cases) {
      const error = await rejectionOf(putData(bad));
      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect(error.Code).toBe('InvalidParameterValue');
    }
  });

  it('It should accept time stamps from two weeks ago to two hours ahead and reject the others', async () => {
    const now = h.clock.now();
    const old = await rejectionOf(putData({ ...datum, Value: 1, Timestamp: new Date(now - 14 * 86_400_000 - 1000) }));
    const ahead = await rejectionOf(putData({ ...datum, Value: 1, Timestamp: new Date(now + 2 * 3_600_000 + 1000) }));
    await putData({ ...datum, Value: 1, Timestamp: new Date(now - 14 * 86_400_000) }, { ...datum, Value: 1, Timestamp: new Date(now + 2 * 3_600_000) });

    expect(old).toBeInstanceOf(InvalidParameterValueException);
    expect(old.message).toContain('two weeks');
    expect(ahead.message).toContain('two hours');
  });

  it('It should stamp a datum without Timestamp with the time it is received', async () => {
    h.clock.advanceSeconds(150);
    await putData({ ...datum, Value: 7 });

    expect((await statistics({ Statistics: ['Sum'] })).Datapoints).toEqual([{ Timestamp: minute(2), Sum: 7, Unit: 'None' }]);
  });

  it('It should reject more than 1,000 data in one request with InvalidParameterValue', async () => {
    // The SDK gzips PutMetricData bodies of 10 KiB or more (requestCompression trait); the HTTP front decodes them.
    const client = new CloudWatchClient({ endpoint: h.simulators.urls.cloudwatch, region: REGION, maxAttempts: 1 });
    const data = Array.from({ length: 1001 }, () => ({ ...datum, Value: 1 }));
    try {
      const error = await rejectionOf(client.send(new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: data })));
      await client.send(new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: data.slice(0, 1000) }));

      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect(error.message).toContain('1000');
    } finally {
      client.destroy();
    }
  });

  it('It should reject a namespace beginning with AWS/', async () => {
    const error = await rejectionOf(h.cloudwatch.send(new PutMetricDataCommand({ Namespace: 'AWS/SageMaker', MetricData: [{ ...datum, Value: 1 }] })));

    expect(error).toBeInstanceOf(InvalidParameterValueException);
  });

  it('It should store nothing when one datum of the request is invalid', async () => {
    h.clock.advanceSeconds(120);
    await rejectionOf(putData({ ...datum, Timestamp: minute(1), Value: 1 }, { ...datum, Timestamp: minute(1), Value: Number.POSITIVE_INFINITY }));

    expect((await statistics({})).Datapoints).toEqual([]);
  });

  it('It should reject more than 30 dimensions with ValidationError', async () => {
    const dimensions = Array.from({ length: 31 }, (_, index) => ({ Name: `d${index}`, Value: 'v' }));

    const error = await rejectionOf(putData({ MetricName: 'Latency', Dimensions: dimensions, Value: 1 }));

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain("at 'metricData.1.member.dimensions' failed to satisfy constraint: Member must have length less than or equal to 30");
  });
});

describe('GetMetricData', () => {
  beforeEach(async () => {
    h.clock.advanceSeconds(600);
    await putData(...[1, 2, 4].map((n) => ({ MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(n), Values: [n, 10 * n], Counts: [9, 1] })));
  });

  it('It should return each query newest first with its label, leaving missing periods out', async () => {
    const output = await metricData({ MetricDataQueries: [metricStat('avg', 'Average'), metricStat('p99', 'p99', { Label: 'Latency p99' })] });

    expect(output.Messages).toEqual([]);
    expect(output.NextToken).toBeUndefined();
    expect(output.MetricDataResults).toEqual([
      { Id: 'avg', Label: 'Latency', Timestamps: [minute(4), minute(2), minute(1)], Values: [7.6, 3.8, 1.9], StatusCode: 'Complete', Messages: [] },
      { Id: 'p99', Label: 'Latency p99', Timestamps: [minute(4), minute(2), minute(1)], Values: [40, 20, 10], StatusCode: 'Complete', Messages: [] },
    ]);
  });

  it('It should return the oldest first with ScanBy TimestampAscending and leave out queries with ReturnData false', async () => {
    const output = await metricData({
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [metricStat('hidden', 'Sum', { ReturnData: false }), metricStat('count', 'SampleCount')],
    });

    expect(output.MetricDataResults?.map((result) => [result.Id, result.Timestamps, result.Values])).toEqual([
      ['count', [minute(1), minute(2), minute(4)], [10, 10, 10]],
    ]);
  });

  it('It should include the start time and exclude the end time', async () => {
    const output = await metricData({ StartTime: minute(2), EndTime: minute(4) });

    expect(output.MetricDataResults?.[0]?.Timestamps).toEqual([minute(2)]);
  });

  it('It should page by MaxDatapoints with NextToken, marking unfinished results PartialData', async () => {
    const first = await metricData({ MaxDatapoints: 2 });
    const second = await metricData({ MaxDatapoints: 2, NextToken: first.NextToken });

    expect(first.MetricDataResults?.[0]).toMatchObject({ Timestamps: [minute(4), minute(2)], StatusCode: 'PartialData' });
    expect(first.NextToken).toEqual(expect.any(String));
    expect(second.MetricDataResults?.[0]).toMatchObject({ Timestamps: [minute(1)], StatusCode: 'Complete' });
    expect(second.NextToken).toBeUndefined();
  });

  it('It should reject an invalid NextToken with InvalidNextToken', async () => {
    const error = await rejectionOf(metricData({ NextToken: 'garbage' }));

    expect(error).toBeInstanceOf(InvalidNextToken);
  });

  it('It should reject metric math expressions as not evaluated by the simulator', async () => {
    const error = await rejectionOf(metricData({ MetricDataQueries: [metricStat('m1', 'Sum'), { Id: 'e1', Expression: 'm1 * 2' }] }));

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.Code).toBe('ValidationError');
    expect(error.message).toMatch(/does not evaluate metric math/);
    expect(error.message).toContain('e1');
  });

  it('It should reject an Id that does not match ^[a-z][a-zA-Z0-9_]*$', async () => {
    const error = await rejectionOf(metricData({ MetricDataQueries: [metricStat('5xx_error', 'Sum')] }));

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toBe('The value 5xx_error for parameter MetricDataQueries.member.1.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.');
  });

  it('It should reject duplicate Ids', async () => {
    const error = await rejectionOf(metricData({ MetricDataQueries: [metricStat('m1', 'Sum'), metricStat('m1', 'Average')] }));

    expect(error.message).toBe('The values for parameter id in MetricDataQueries are not unique.');
  });

  it('It should reject more than 500 queries', async () => {
    const queries = Array.from({ length: 501 }, (_, index) => metricStat(`m${index}`, 'Sum'));

    const error = await rejectionOf(metricData({ MetricDataQueries: queries }));

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain('Member must have length less than or equal to 500');
  });

  it('It should reject a statistic it does not model', async () => {
    const error = await rejectionOf(metricData({ MetricDataQueries: [metricStat('m1', 'tm99')] }));

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain('tm99');
  });

  it('It should reject a period other than 1, 5, 10, 20, 30 or a multiple of 60', async () => {
    const query = metricStat('m1', 'Sum');
    const error = await rejectionOf(
      metricData({ MetricDataQueries: [{ ...query, MetricStat: { ...query.MetricStat, Period: 90 } as MetricDataQuery['MetricStat'] }] }),
    );
    const highResolution = await metricData({
      MetricDataQueries: [{ ...query, MetricStat: { ...query.MetricStat, Period: 20 } as MetricDataQuery['MetricStat'] }],
    });

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain('MetricDataQueries.member.1.MetricStat.Period');
    expect(highResolution.MetricDataResults?.[0]?.Timestamps).toEqual([minute(4), minute(2), minute(1)]);
  });
});

describe('ListMetrics', () => {
  beforeEach(async () => {
    h.clock.advanceSeconds(120);
    await putData(
      { MetricName: 'Latency', Dimensions: DIMENSIONS, Timestamp: minute(1), Value: 1 },
      { MetricName: 'Errors', Dimensions: [...DIMENSIONS, { Name: 'VariantName', Value: 'v1' }], Timestamp: minute(1), Value: 1 },
    );
    h.simulators.cloudwatch.recordMetric({ namespace: 'Other', metricName: 'Latency', dimensions: [], timestamp: T0, values: [1], counts: [1] });
  });

  it('It should list every metric with data, filtered by namespace, name and dimensions', async () => {
    const all = await h.cloudwatch.send(new ListMetricsCommand({}));
    const byName = await h.cloudwatch.send(new ListMetricsCommand({ MetricName: 'Latency' }));
    const byNamespace = await h.cloudwatch.send(new ListMetricsCommand({ Namespace: NAMESPACE }));
    const byDimensionName = await h.cloudwatch.send(new ListMetricsCommand({ Dimensions: [{ Name: 'VariantName' }] }));
    const byDimensionValue = await h.cloudwatch.send(new ListMetricsCommand({ Dimensions: [{ Name: 'VariantName', Value: 'v2' }] }));

    expect(all.Metrics).toHaveLength(3);
    expect(byName.Metrics?.map((metric) => metric.Namespace).sort()).toEqual(['Other', NAMESPACE]);
    expect(byNamespace.Metrics?.map((metric) => metric.MetricName).sort()).toEqual(['Errors', 'Latency']);
    expect(byDimensionName.Metrics).toEqual([
      { Namespace: NAMESPACE, MetricName: 'Errors', Dimensions: [...DIMENSIONS, { Name: 'VariantName', Value: 'v1' }] },
    ]);
    expect(byDimensionValue.Metrics).toEqual([]);
  });

  it('It should list only metrics with data in the past three hours with RecentlyActive PT3H, and none without data for two weeks', async () => {
    h.clock.advanceSeconds(3 * 3600);
    const recent = await h.cloudwatch.send(new ListMetricsCommand({ RecentlyActive: 'PT3H' }));
    const all = await h.cloudwatch.send(new ListMetricsCommand({}));
    h.clock.advanceSeconds(14 * 86_400);
    const later = await h.cloudwatch.send(new ListMetricsCommand({}));

    expect(recent.Metrics).toEqual([]);
    expect(all.Metrics).toHaveLength(3);
    expect(later.Metrics).toEqual([]);
  });

  it('It should page by 500 metrics with NextToken', async () => {
    for (let index = 0; index < 500; index++) {
      h.simulators.cloudwatch.recordMetric({ namespace: 'Many', metricName: `m${index}`, dimensions: [], timestamp: T0, values: [1], counts: [1] });
    }

    const first = await h.cloudwatch.send(new ListMetricsCommand({}));
    const second = await h.cloudwatch.send(new ListMetricsCommand({ NextToken: first.NextToken }));

    expect(first.Metrics).toHaveLength(500);
    expect(second.Metrics).toHaveLength(3);
    expect(second.NextToken).toBeUndefined();
    expect(new Set([...(first.Metrics ?? []), ...(second.Metrics ?? [])].map((metric) => JSON.stringify(metric))).size).toBe(503);
  });
});

describe('metric store (unit)', () => {
  it('It should parse the five statistics and percentiles p0 to p100 with up to two decimals, and nothing else', () => {
    expect(parseStatistic('Average')).toEqual({ kind: 'standard', name: 'Average' });
    expect(parseStatistic('p99.95')).toEqual({ kind: 'percentile', name: 'p99.95', percentile: 99.95 });
    expect(parseStatistic('p0.0')).toEqual({ kind: 'percentile', name: 'p0.0', percentile: 0 });
    expect(parseStatistic('p100')).toEqual({ kind: 'percentile', name: 'p100', percentile: 100 });
    for (const bad of ['p101', 'p99.999', 'avg', 'tm99', 'IQM', 'P99', 'p']) expect(parseStatistic(bad)).toBeUndefined();
  });

  it('It should key metrics by namespace, name and dimensions in any order', () => {
    const a = { Name: 'A', Value: '1' };
    const b = { Name: 'B', Value: '2' };

    expect(metricKey('n', 'm', [a, b])).toBe(metricKey('n', 'm', [b, a]));
    expect(metricKey('n', 'm', [a])).not.toBe(metricKey('n', 'm', [a, b]));
    expect(metricKey('n', 'm', [])).not.toBe(metricKey('n', 'other', []));
  });

  it('It should take the nearest-rank percentile of a weighted distribution (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 10_000 }),
        (unsorted, weights, hundredths) => {
          const values = [...unsorted].sort((x, y) => x - y);
          const counts = values.map((_, index) => weights[index] as number);
          const p = hundredths / 100;
          const result = percentileOf(values, counts, p) as number;
          const total = counts.reduce((sum, count) => sum + count, 0);
          const atOrBelow = values.reduce((sum, value, index) => (value <= result ? sum + (counts[index] as number) : sum), 0);
          const below = values.reduce((sum, value, index) => (value < result ? sum + (counts[index] as number) : sum), 0);
          expect(values).toContain(result);
          expect(atOrBelow).toBeGreaterThanOrEqual((p / 100) * total - 1e-9);
          expect(below).toBeLessThan((p / 100) * total + 1e-9);
        },
      ),
    );
  });

  it('It should conserve every sample across periods, whatever the period (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ offset: fc.integer({ min: 0, max: 3599 }), value: fc.integer({ min: 0, max: 100 }) }), { maxLength: 60 }),
        fc.constantFrom(1, 10, 60, 300, 3600),
        (points, period) => {
          const store = new MetricStore();
          const identity = { namespace: 'n', metricName: 'm', dimensions: [] };
          for (const point of points) {
            const timestamp = T0 + point.offset * 1000;
            store.add(identity, {
              timestamp,
              unit: 'None',
              sampleCount: 1,
              sum: point.value,
              minimum: point.value,
              maximum: point.value,
              distribution: { values: [point.value], counts: [1] },
            });
          }
          const aggregates = store.aggregate(identity, { startMs: T0, endMs: T0 + 3_600_000, periodSeconds: period });
          expect(aggregates.reduce((sum, aggregate) => sum + aggregate.sampleCount, 0)).toBe(points.length);
          expect(aggregates.reduce((sum, aggregate) => sum + aggregate.sum, 0)).toBe(points.reduce((sum, point) => sum + point.value, 0));
          for (const aggregate of aggregates) {
            expect(aggregate.timestamp % (period * 1000)).toBe(0);
            const inside = points.filter((point) => Math.floor((T0 + point.offset * 1000) / (period * 1000)) * period * 1000 === aggregate.timestamp);
            expect(aggregate.maximum).toBe(Math.max(...inside.map((point) => point.value)));
            expect(statisticValue(aggregate, { kind: 'percentile', name: 'p100', percentile: 100 })).toBe(aggregate.maximum);
          }
        },
      ),
    );
  });
});
