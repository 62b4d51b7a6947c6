// CloudWatch alarm evaluation from metrics: the pure evaluation of one alarm (the User
// Guide's missing-data tables row by row, M out of N, reasons) and, through the real SDK
// v3 client, alarms defined with PutMetricAlarm/defineAlarm and evaluated from recorded
// or published metric data by evaluateAlarms, with forced states, schedules and the log
// of transitions.
import {
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
  ValidationException,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import fc from 'fast-check';
import {
  evaluateMetricAlarm,
  evaluationRangeLength,
  evaluationRangeStarts,
  javaDouble,
  reasonDate,
  type AlarmEvaluationConfig,
  type AlarmState,
  type RangeDatapoint,
  type TreatMissingData,
} from '../../../rehearsal/simulator/alarm-evaluation';
import type { PutMetricAlarmInputShape } from '../../../rehearsal/simulator/cloudwatch';
import { rejectionOf, startHarness, type Harness } from './harness';

/** 2026-01-01 09:00:00 UTC, the harness clock's start. */
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const MINUTE = 60_000;

// ---------------------------------------------------------------------------------
// Pure evaluation.

const BASE: AlarmEvaluationConfig = {
  statistic: 'Average',
  periodSeconds: 300,
  evaluationPeriods: 3,
  datapointsToAlarm: 3,
  threshold: 5,
  comparisonOperator: 'GreaterThanThreshold',
  treatMissingData: 'missing',
};

/**
 * A range in the guide's notation, oldest first: "0" a datapoint within the threshold,
 * "X" a breaching one, "-" a missing one.
 */
function rangeOf(notation: string, periodSeconds = BASE.periodSeconds): RangeDatapoint[] {
  return notation
    .split(' ')
    .filter(Boolean)
    .map((symbol, index) => {
      const timestamp = T0 + index * periodSeconds * 1000;
      if (symbol === '-') return { timestamp };
      return { timestamp, value: symbol === 'X' ? 10 : 1, sampleCount: 1 };
    });
}

function stateFor(notation: string, config: Partial<AlarmEvaluationConfig>, currentState: AlarmState = 'OK'): AlarmState {
  const range = rangeOf(notation);
  return evaluateMetricAlarm({ config: { ...BASE, ...config }, range, currentState, at: T0 + range.length * BASE.periodSeconds * 1000 }).state;
}

const TREATMENTS: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
type Expected = AlarmState | 'RETAIN';

function expectRow(notation: string, m: number, expected: [Expected, Expected, Expected, Expected]) {
  TREATMENTS.forEach((treatMissingData, index) => {
    for (const current of ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const) {
      const want = expected[index] === 'RETAIN' ? current : expected[index];
      expect({ notation, treatMissingData, current, state: stateFor(notation, { datapointsToAlarm: m, treatMissingData }, current) }).toEqual({
        notation,
        treatMissingData,
        current,
        state: want,
      });
    }
  });
}

describe('evaluateMetricAlarm: the User Guide tables (columns MISSING, IGNORE, BREACHING, NOT BREACHING)', () => {
  // "Configuring how CloudWatch alarms treat missing data": Datapoints to Alarm and
  // Evaluation Periods both 3, the 5 most recent datapoints retrieved.
  it('It should follow the 3 out of 3 table', () => {
    expectRow('0 - X - X', 3, ['OK', 'OK', 'OK', 'OK']);
    expectRow('0 - - - -', 3, ['OK', 'OK', 'OK', 'OK']);
    expectRow('- - - - -', 3, ['INSUFFICIENT_DATA', 'RETAIN', 'ALARM', 'OK']);
    expectRow('0 X X - X', 3, ['ALARM', 'ALARM', 'ALARM', 'ALARM']);
    expectRow('X - - - -', 3, ['ALARM', 'RETAIN', 'ALARM', 'OK']);
    // missing goes to INSUFFICIENT_DATA only when every datapoint of the range is missing.
    expectRow('- - X - -', 3, ['ALARM', 'RETAIN', 'ALARM', 'OK']);
  });

  // The same guide, Datapoints to Alarm 2 and Evaluation Periods 3.
  it('It should follow the 2 out of 3 table', () => {
    expectRow('0 - X - X', 2, ['ALARM', 'ALARM', 'ALARM', 'ALARM']);
    expectRow('0 0 X 0 X', 2, ['ALARM', 'ALARM', 'ALARM', 'ALARM']);
    expectRow('0 - X - -', 2, ['OK', 'OK', 'ALARM', 'OK']);
    expectRow('- - - - 0', 2, ['OK', 'OK', 'ALARM', 'OK']);
    expectRow('- - - X -', 2, ['ALARM', 'RETAIN', 'ALARM', 'OK']);
  });

  it('It should go to OK when the breaching datapoints are not among the most recent real ones', () => {
    // Four real datapoints: the three most recent (0, 0, X) are evaluated, whatever TreatMissingData says.
    for (const treatMissingData of TREATMENTS) expect(stateFor('X X 0 - 0', { datapointsToAlarm: 1, treatMissingData }, 'ALARM')).toBe('ALARM');
    for (const treatMissingData of TREATMENTS) expect(stateFor('X 0 0 - 0', { datapointsToAlarm: 2, treatMissingData }, 'ALARM')).toBe('OK');
  });

  it('It should compare with each of the four static operators, the threshold itself included or not', () => {
    const at = (value: number, comparisonOperator: AlarmEvaluationConfig['comparisonOperator']) =>
      evaluateMetricAlarm({
        config: { ...BASE, evaluationPeriods: 1, datapointsToAlarm: 1, comparisonOperator },
        range: [{ timestamp: T0, value }],
        currentState: 'INSUFFICIENT_DATA',
        at: T0 + 300_000,
      }).state;

    expect([at(5, 'GreaterThanThreshold'), at(6, 'GreaterThanThreshold')]).toEqual(['OK', 'ALARM']);
    expect([at(4, 'GreaterThanOrEqualToThreshold'), at(5, 'GreaterThanOrEqualToThreshold')]).toEqual(['OK', 'ALARM']);
    expect([at(5, 'LessThanThreshold'), at(4, 'LessThanThreshold')]).toEqual(['OK', 'ALARM']);
    expect([at(6, 'LessThanOrEqualToThreshold'), at(5, 'LessThanOrEqualToThreshold')]).toEqual(['OK', 'ALARM']);
  });
});

describe('evaluateMetricAlarm: reasons', () => {
  const at = T0 + 6 * MINUTE;
  const minuteRange = (values: Array<number | undefined>) =>
    values.map((value, index) => (value === undefined ? { timestamp: T0 + index * MINUTE } : { timestamp: T0 + index * MINUTE, value, sampleCount: 2 }));

  it('It should explain an M out of N transition to ALARM like CloudWatch, listing the breaching datapoints newest first', () => {
    const outcome = evaluateMetricAlarm({
      config: { ...BASE, periodSeconds: 60, datapointsToAlarm: 2, threshold: 1 },
      range: minuteRange([0.5, 0.5, 4, 0.5, 5]),
      currentState: 'OK',
      at,
    });

    expect(outcome.state).toBe('ALARM');
    expect(outcome.reason).toBe(
      'Threshold Crossed: 2 out of the last 3 datapoints [5.0 (01/01/26 09:04:00), 4.0 (01/01/26 09:02:00)] were greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).',
    );
    expect(JSON.parse(outcome.reasonData as string)).toEqual({
      version: '1.0',
      queryDate: '2026-01-01T09:06:00.000+0000',
      startDate: '2026-01-01T09:00:00.000+0000',
      statistic: 'Average',
      period: 60,
      recentDatapoints: [0.5, 0.5, 4, 0.5, 5],
      threshold: 1,
      evaluatedDatapoints: [
        { timestamp: '2026-01-01T09:04:00.000+0000', sampleCount: 2, value: 5 },
        { timestamp: '2026-01-01T09:03:00.000+0000', sampleCount: 2, value: 0.5 },
        { timestamp: '2026-01-01T09:02:00.000+0000', sampleCount: 2, value: 4 },
      ],
    });
  });

  it('It should explain a transition to OK with the datapoints within the threshold and N - M + 1 as the minimum', () => {
    const outcome = evaluateMetricAlarm({
      config: { ...BASE, periodSeconds: 60, datapointsToAlarm: 2, threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold' },
      range: minuteRange([9, 9, 0.25, 9, 0]),
      currentState: 'ALARM',
      at,
    });

    expect(outcome.reason).toBe(
      'Threshold Crossed: 2 out of the last 3 datapoints [0.0 (01/01/26 09:04:00), 0.25 (01/01/26 09:02:00)] were not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition).',
    );
  });

  it('It should explain a one-datapoint alarm in the short form', () => {
    const outcome = evaluateMetricAlarm({
      config: { ...BASE, periodSeconds: 60, evaluationPeriods: 1, datapointsToAlarm: 1, threshold: 250_000, statistic: 'p99' },
      range: minuteRange([undefined, undefined, 12_500_000]),
      currentState: 'INSUFFICIENT_DATA',
      at: T0 + 3 * MINUTE,
    });

    expect(outcome.reason).toBe('Threshold Crossed: 1 datapoint [1.25E7 (01/01/26 09:02:00)] was greater than the threshold (250000.0).');
    expect(JSON.parse(outcome.reasonData as string)).toMatchObject({ extendedStatistic: 'p99', recentDatapoints: [12_500_000] });
  });

  it('It should explain INSUFFICIENT_DATA and missing datapoints filled in as breaching or not', () => {
    const range = minuteRange([undefined, undefined, undefined, undefined, undefined]);
    const evaluate = (treatMissingData: TreatMissingData, currentState: AlarmState) =>
      evaluateMetricAlarm({ config: { ...BASE, periodSeconds: 60, treatMissingData }, range, currentState, at });

    expect(evaluate('missing', 'OK').reason).toBe('Insufficient Data: 3 datapoints were unknown.');
    expect(evaluate('breaching', 'OK').reason).toBe(
      'Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].',
    );
    expect(evaluate('notBreaching', 'ALARM').reason).toBe(
      'Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching].',
    );
  });

  it('It should give no reason when missing data keeps the alarm in the state it is in', () => {
    const range = minuteRange([undefined, undefined, undefined]);
    const evaluate = (treatMissingData: TreatMissingData, currentState: AlarmState) =>
      evaluateMetricAlarm({ config: { ...BASE, periodSeconds: 60, evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData }, range, currentState, at });

    expect(evaluate('notBreaching', 'OK')).toEqual({ state: 'OK', reason: '', reasonData: undefined });
    expect(evaluate('breaching', 'ALARM')).toEqual({ state: 'ALARM', reason: '', reasonData: undefined });
    expect(evaluate('missing', 'INSUFFICIENT_DATA')).toEqual({ state: 'INSUFFICIENT_DATA', reason: '', reasonData: undefined });
  });

  it('It should mention the missing datapoints filled in next to the real ones', () => {
    const outcome = evaluateMetricAlarm({
      config: { ...BASE, periodSeconds: 60, threshold: 1, treatMissingData: 'breaching' },
      range: minuteRange([undefined, undefined, undefined, 3, undefined]),
      currentState: 'OK',
      at,
    });

    expect(outcome.reason).toBe(
      'Threshold Crossed: 1 out of the last 1 datapoints [3.0 (01/01/26 09:03:00)] was greater than the threshold (1.0) and 2 missing datapoints were treated as [Breaching] (minimum 3 datapoints for OK -> ALARM transition).',
    );
    expect(JSON.parse(outcome.reasonData as string).evaluatedDatapoints).toEqual([
      { timestamp: '2026-01-01T09:04:00.000+0000' },
      { timestamp: '2026-01-01T09:03:00.000+0000', sampleCount: 2, value: 3 },
      { timestamp: '2026-01-01T09:02:00.000+0000' },
    ]);
  });

  it('It should format values as Java doubles and dates as dd/MM/yy HH:mm:ss UTC', () => {
    expect([5, 0, 0.25, 250000, 1e7, 1.5e-4, -3, 1234567.5].map(javaDouble)).toEqual([
      '5.0',
      '0.0',
      '0.25',
      '250000.0',
      '1.0E7',
      '1.5E-4',
      '-3.0',
      '1234567.5',
    ]);
    expect(reasonDate(Date.UTC(2026, 11, 31, 23, 59, 7))).toBe('31/12/26 23:59:07');
  });
});

describe('evaluation range', () => {
  it('It should cover EvaluationPeriods + 2 complete periods ending at or before the evaluation time', () => {
    expect(evaluationRangeLength(3)).toBe(5);
    // At 09:07 with 5-minute periods, 09:05-09:10 is not complete: the last period is 09:00-09:05.
    expect(evaluationRangeStarts(T0 + 7 * MINUTE, 300, 1)).toEqual([T0 - 10 * MINUTE, T0 - 5 * MINUTE, T0]);
    // On a boundary, the period that just ended is included.
    expect(evaluationRangeStarts(T0 + 5 * MINUTE, 60, 2).map((start) => (start - T0) / MINUTE)).toEqual([1, 2, 3, 4]);
  });
});

describe('evaluateMetricAlarm: properties', () => {
  const config = fc.record({
    evaluationPeriods: fc.integer({ min: 1, max: 6 }),
    m: fc.integer({ min: 1, max: 6 }),
    treatMissingData: fc.constantFrom<TreatMissingData>(...TREATMENTS),
    current: fc.constantFrom<AlarmState>('OK', 'ALARM', 'INSUFFICIENT_DATA'),
  });
  const cells = (length: number) => fc.array(fc.constantFrom<'0' | 'X' | '-'>('0', 'X', '-'), { minLength: length, maxLength: length });
  const build = (n: number, m: number, treatMissingData: TreatMissingData): AlarmEvaluationConfig => ({
    ...BASE,
    evaluationPeriods: n,
    datapointsToAlarm: Math.min(m, n),
    treatMissingData,
  });

  it('It should ignore TreatMissingData and evaluate the N most recent real datapoints when there are at least N', () => {
    fc.assert(
      fc.property(config, cells(8), ({ evaluationPeriods: n, m, treatMissingData, current }, symbols) => {
        const notation = symbols.slice(0, n + 2).join(' ');
        const real = symbols.slice(0, n + 2).filter((symbol) => symbol !== '-');
        fc.pre(real.length >= n);
        const breaching = real.slice(real.length - n).filter((symbol) => symbol === 'X').length;
        const expected = breaching >= Math.min(m, n) ? 'ALARM' : 'OK';
        expect(stateFor(notation, build(n, m, treatMissingData), current)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('It should never go to INSUFFICIENT_DATA unless missing data is treated as missing and every datapoint is missing', () => {
    fc.assert(
      fc.property(config, cells(8), ({ evaluationPeriods: n, m, treatMissingData, current }, symbols) => {
        const range = symbols.slice(0, n + 2);
        const state = stateFor(range.join(' '), build(n, m, treatMissingData), current);
        const allMissing = range.every((symbol) => symbol === '-');
        if (state === 'INSUFFICIENT_DATA' && current !== 'INSUFFICIENT_DATA') {
          expect({ treatMissingData, allMissing }).toEqual({ treatMissingData: 'missing', allMissing: true });
        }
        if (treatMissingData === 'missing') expect(state === 'INSUFFICIENT_DATA').toBe(allMissing);
      }),
      { numRuns: 2000 },
    );
  });

  it('It should never leave ALARM because a missing datapoint arrived breaching', () => {
    fc.assert(
      fc.property(config, cells(8), fc.nat(), ({ evaluationPeriods: n, m, treatMissingData, current }, symbols, pick) => {
        const range = symbols.slice(0, n + 2);
        const missing = range.flatMap((symbol, index) => (symbol === '-' ? [index] : []));
        fc.pre(missing.length > 0);
        const filled = [...range];
        filled[missing[pick % missing.length] as number] = 'X';
        const before = stateFor(range.join(' '), build(n, m, treatMissingData), current);
        const after = stateFor(filled.join(' '), build(n, m, treatMissingData), current);
        if (before === 'ALARM') expect(after).toBe('ALARM');
      }),
      { numRuns: 2000 },
    );
  });

  it('It should keep the current state, with no reason, when the computed state is the same', () => {
    fc.assert(
      fc.property(config, cells(8), ({ evaluationPeriods: n, m, treatMissingData, current }, symbols) => {
        const range = rangeOf(symbols.slice(0, n + 2).join(' '));
        const outcome = evaluateMetricAlarm({ config: build(n, m, treatMissingData), range, currentState: current, at: T0 + 3_600_000 });
        if (outcome.state === current) expect(outcome).toEqual({ state: current, reason: '', reasonData: undefined });
        else expect(outcome.reason).toMatch(/^(Threshold Crossed|Insufficient Data): /);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------
// Through the simulator and the SDK.

describe('CloudWatchSimulator alarm evaluation', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const NAMESPACE = 'AWS/SageMaker';
  const DIMENSIONS = [
    { Name: 'EndpointName', Value: 'ep' },
    { Name: 'VariantName', Value: 'candidate' },
  ];
  const latencyAlarm: PutMetricAlarmInputShape = {
    AlarmName: 'ep-latency',
    Namespace: NAMESPACE,
    MetricName: 'ModelLatency',
    Dimensions: DIMENSIONS,
    ExtendedStatistic: 'p99',
    Period: 60,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Threshold: 250_000,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
  };

  /** One minute of latencies for the candidate: 99 fast requests and `slow` slow ones. */
  function latencyMinute(minuteIndex: number, slow: number, dimensions = DIMENSIONS) {
    h.simulators.cloudwatch.recordMetric({
      namespace: NAMESPACE,
      metricName: 'ModelLatency',
      dimensions,
      timestamp: T0 + minuteIndex * MINUTE,
      unit: 'Microseconds',
      values: [100_000, 900_000],
      counts: [100 - slow, slow],
    });
  }

  async function describeAlarm(name: string): Promise<MetricAlarm | undefined> {
    const output = await h.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
    return output.MetricAlarms?.[0];
  }

  /** Evaluates at the end of each of the given minutes, as the engine does once a minute. */
  function evaluateThrough(lastMinute: number, firstMinute = 1) {
    for (let m = firstMinute; m <= lastMinute; m++) h.simulators.cloudwatch.evaluateAlarms(T0 + m * MINUTE);
  }

  it('It should start INSUFFICIENT_DATA, go to OK on good data and to ALARM once 2 of the last 3 p99 datapoints breach', async () => {
    h.simulators.cloudwatch.defineAlarm(latencyAlarm);
    latencyMinute(0, 0);
    latencyMinute(1, 0);
    latencyMinute(2, 5);
    evaluateThrough(3);
    const beforeSecondBreach = await describeAlarm('ep-latency');
    latencyMinute(3, 2);
    h.simulators.cloudwatch.evaluateAlarms(T0 + 4 * MINUTE);
    h.clock.advanceSeconds(300);

    const alarm = await describeAlarm('ep-latency');

    expect(beforeSecondBreach?.StateValue).toBe('OK');
    expect(alarm).toMatchObject({
      StateValue: 'ALARM',
      StateReason:
        'Threshold Crossed: 2 out of the last 3 datapoints [900000.0 (01/01/26 09:03:00), 900000.0 (01/01/26 09:02:00)] were greater than the threshold (250000.0) (minimum 2 datapoints for OK -> ALARM transition).',
      StateUpdatedTimestamp: new Date(T0 + 4 * MINUTE),
      StateTransitionedTimestamp: new Date(T0 + 4 * MINUTE),
    });
    expect(JSON.parse(alarm?.StateReasonData ?? '{}')).toMatchObject({ extendedStatistic: 'p99', period: 60, threshold: 250000 });
    expect(h.simulators.cloudwatch.alarmTransitions()).toEqual([
      {
        at: T0 + MINUTE,
        alarm: 'ep-latency',
        from: 'INSUFFICIENT_DATA',
        to: 'OK',
        reason:
          'Threshold Crossed: 1 out of the last 1 datapoints [100000.0 (01/01/26 09:00:00)] was not greater than the threshold (250000.0) and 2 missing datapoints were treated as [NonBreaching] (minimum 2 datapoints for INSUFFICIENT_DATA -> OK transition).',
      },
      { at: T0 + 4 * MINUTE, alarm: 'ep-latency', from: 'OK', to: 'ALARM', reason: alarm?.StateReason },
    ]);
  });

  it('It should change nothing, StateUpdatedTimestamp included, while the computed state stays the same', async () => {
    h.simulators.cloudwatch.defineAlarm(latencyAlarm);
    latencyMinute(0, 0);
    evaluateThrough(1);
    latencyMinute(1, 0);
    latencyMinute(2, 0);
    evaluateThrough(3, 2);

    expect(await describeAlarm('ep-latency')).toMatchObject({ StateValue: 'OK', StateUpdatedTimestamp: new Date(T0 + MINUTE) });
    expect(h.simulators.cloudwatch.alarmTransitions()).toHaveLength(1);
  });

  it('It should evaluate only the alarm metric with exactly its dimensions', async () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, DatapointsToAlarm: 1, EvaluationPeriods: 1, TreatMissingData: 'missing' });
    latencyMinute(0, 50, [DIMENSIONS[0] as { Name: string; Value: string }]);
    latencyMinute(0, 50, [...DIMENSIONS, { Name: 'Extra', Value: 'x' }]);

    evaluateThrough(1);

    expect((await describeAlarm('ep-latency'))?.StateValue).toBe('INSUFFICIENT_DATA');
  });

  it('It should evaluate data published with PutMetricData through the SDK', async () => {
    await h.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'queue-depth',
        Namespace: 'Rehearsal/Queue',
        MetricName: 'Depth',
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
    h.clock.advanceSeconds(120);
    await h.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'Rehearsal/Queue',
        MetricData: [
          { MetricName: 'Depth', Timestamp: new Date(T0 + 65_000), Value: 3 },
          { MetricName: 'Depth', Timestamp: new Date(T0 + 70_000), Value: 12 },
        ],
      }),
    );

    h.simulators.cloudwatch.evaluateAlarms(h.clock.now());

    expect(await describeAlarm('queue-depth')).toMatchObject({
      StateValue: 'ALARM',
      StateReason: 'Threshold Crossed: 1 datapoint [12.0 (01/01/26 09:01:00)] was greater than or equal to the threshold (10.0).',
    });
  });

  it('It should go to INSUFFICIENT_DATA when every datapoint of the range is missing and missing data is treated as missing', async () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, TreatMissingData: undefined });
    latencyMinute(0, 0);
    evaluateThrough(1);
    // The range is 5 periods: minute 0 stays in it until 09:05.
    evaluateThrough(5, 2);
    const lastWithData = await describeAlarm('ep-latency');
    evaluateThrough(6, 6);

    expect(lastWithData?.StateValue).toBe('OK');
    expect(await describeAlarm('ep-latency')).toMatchObject({ StateValue: 'INSUFFICIENT_DATA', StateReason: 'Insufficient Data: 3 datapoints were unknown.' });
  });

  it('It should go to ALARM when the metric stops and missing data is treated as breaching, once the last datapoints leave the range', async () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'breaching' });
    latencyMinute(0, 0);
    evaluateThrough(3);
    const stillEvaluatingTheLastDatapoint = await describeAlarm('ep-latency');
    evaluateThrough(4, 4);

    expect(stillEvaluatingTheLastDatapoint?.StateValue).toBe('OK');
    expect(await describeAlarm('ep-latency')).toMatchObject({
      StateValue: 'ALARM',
      StateReason: 'Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].',
    });
  });

  it('It should keep the current state when data stops and missing data is ignored', async () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'ignore' });
    latencyMinute(0, 50);
    evaluateThrough(1);

    evaluateThrough(30, 2);

    expect((await describeAlarm('ep-latency'))?.StateValue).toBe('ALARM');
    expect(h.simulators.cloudwatch.alarmTransitions().map((t) => t.to)).toEqual(['ALARM']);
  });

  it('It should keep a state forced by SetAlarmState until an evaluation computes a different one', async () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'missing' });
    latencyMinute(0, 50);
    evaluateThrough(1);
    h.clock.advanceSeconds(70);
    await h.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'ep-latency', StateValue: 'OK', StateReason: 'drill' }));
    const forced = await describeAlarm('ep-latency');
    latencyMinute(1, 50);

    h.simulators.cloudwatch.evaluateAlarms(T0 + 2 * MINUTE);

    expect(forced).toMatchObject({ StateValue: 'OK', StateReason: 'drill' });
    expect((await describeAlarm('ep-latency'))?.StateValue).toBe('ALARM');
    expect(h.simulators.cloudwatch.alarmTransitions().map(({ at, from, to, reason }) => [(at - T0) / 1000, from, to, reason.slice(0, 18)])).toEqual([
      [60, 'INSUFFICIENT_DATA', 'ALARM', 'Threshold Crossed:'],
      [70, 'ALARM', 'OK', 'drill'],
      [120, 'OK', 'ALARM', 'Threshold Crossed:'],
    ]);
  });

  it('It should leave a forced state alone when the evaluation computes the same one', async () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1 });
    latencyMinute(0, 50);
    latencyMinute(1, 50);
    await h.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'ep-latency', StateValue: 'ALARM', StateReason: 'drill' }));

    evaluateThrough(2);

    expect(await describeAlarm('ep-latency')).toMatchObject({ StateValue: 'ALARM', StateReason: 'drill', StateUpdatedTimestamp: new Date(T0) });
  });

  it('It should apply due schedules before evaluating, then let the evaluation override them', () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1 });
    h.simulators.cloudwatch.scheduleAlarmState('ep-latency', 'ALARM', T0 + 30_000, 'scripted');
    latencyMinute(0, 0);

    h.simulators.cloudwatch.evaluateAlarms(T0 + MINUTE);

    expect(h.simulators.cloudwatch.alarmTransitions()).toEqual([
      { at: T0 + 30_000, alarm: 'ep-latency', from: 'INSUFFICIENT_DATA', to: 'ALARM', reason: 'scripted' },
      expect.objectContaining({ at: T0 + MINUTE, from: 'ALARM', to: 'OK' }),
    ]);
  });

  it('It should never evaluate an alarm created by putAlarm, nor log its creation as a transition', () => {
    h.simulators.cloudwatch.putAlarm('scripted-only', 'OK');

    evaluateThrough(30);

    expect(h.simulators.cloudwatch.alarm('scripted-only')?.state).toBe('OK');
    expect(h.simulators.cloudwatch.alarmTransitions()).toEqual([]);
  });

  it('It should echo the metric configuration in DescribeAlarms', async () => {
    await h.cloudwatch.send(new PutMetricAlarmCommand({ ...latencyAlarm, Unit: 'Microseconds', Tags: [{ Key: 'team', Value: 'ml' }] } as never));

    const alarm = await describeAlarm('ep-latency');

    expect(alarm).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: 'ModelLatency',
      Dimensions: DIMENSIONS,
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 250000,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Unit: 'Microseconds',
      StateValue: 'INSUFFICIENT_DATA',
    });
    expect(alarm?.Statistic).toBeUndefined();
    expect(alarm).not.toHaveProperty('Tags');
  });

  it('It should evaluate only data of the alarm unit when it has one', async () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1, Unit: 'Milliseconds', TreatMissingData: 'missing' });
    latencyMinute(0, 50);

    evaluateThrough(1);

    expect((await describeAlarm('ep-latency'))?.StateValue).toBe('INSUFFICIENT_DATA');
  });

  it('It should reject invalid alarm configurations with ValidationError, as PutMetricAlarm and defineAlarm', async () => {
    const cases: Array<[Partial<PutMetricAlarmInputShape>, RegExp]> = [
      [{ DatapointsToAlarm: 4 }, /^DatapointsToAlarm must be less than or equal to EvaluationPeriods$/],
      [{ Period: 45 }, /Period is invalid: valid values are 10, 20, 30 and any multiple of 60/],
      [{ Period: 600, EvaluationPeriods: 145, DatapointsToAlarm: 1 }, /must not exceed 86400 seconds/],
      [{ Statistic: 'Average' }, /cannot both be specified/],
      [{ ExtendedStatistic: undefined }, /One of Statistic or ExtendedStatistic must be specified/],
      [{ ExtendedStatistic: 'tm99' }, /tm99/],
      [{ TreatMissingData: 'sometimes' }, /TreatMissingData is invalid/],
      [{ Threshold: undefined }, /Threshold must be specified/],
      [{ Period: undefined }, /Period must be specified/],
      [{ Namespace: undefined }, /Namespace must be specified/],
      [{ ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold' }, /anomaly detection/],
      [{ ThresholdMetricId: 'ad1' }, /anomaly detection/],
      [{ Metrics: [{ Id: 'e1', Expression: 'm1 * 2' }] } as Partial<PutMetricAlarmInputShape>, /metric math/],
    ];

    for (const [change, message] of cases) {
      const input = { ...latencyAlarm, ...change } as PutMetricAlarmInputShape;
      const error = await rejectionOf(h.cloudwatch.send(new PutMetricAlarmCommand(input as never)));
      expect(error).toBeInstanceOf(ValidationException);
      expect(error.Code).toBe('ValidationError');
      expect(error.message).toMatch(message);
      expect(() => h.simulators.cloudwatch.defineAlarm(input)).toThrow(message);
    }
    expect((await h.cloudwatch.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
  });

  it('It should accept a one-week evaluation with a period of an hour or more', () => {
    expect(() => h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, Period: 3600, EvaluationPeriods: 168, DatapointsToAlarm: 1 })).not.toThrow();
    expect(() => h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, Period: 3600, EvaluationPeriods: 169, DatapointsToAlarm: 1 })).toThrow(/604800/);
  });

  it('It should not record defineAlarm or recordMetric as calls', () => {
    h.simulators.cloudwatch.defineAlarm(latencyAlarm);
    latencyMinute(0, 0);

    expect(h.simulators.cloudwatch.calls).toEqual([]);
  });

  it('It should keep the state of an alarm redefined with a new configuration, and evaluate the new one', async () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1 });
    latencyMinute(0, 0);
    evaluateThrough(1);

    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1, Threshold: 50_000 });
    const redefined = await describeAlarm('ep-latency');
    evaluateThrough(2, 2);

    expect(redefined).toMatchObject({ StateValue: 'OK', Threshold: 50_000 });
    expect((await describeAlarm('ep-latency'))?.StateValue).toBe('ALARM');
  });

  it('It should forget transitions on reset', () => {
    h.simulators.cloudwatch.defineAlarm({ ...latencyAlarm, EvaluationPeriods: 1, DatapointsToAlarm: 1 });
    latencyMinute(0, 0);
    evaluateThrough(1);

    h.simulators.cloudwatch.reset();

    expect(h.simulators.cloudwatch.alarmTransitions()).toEqual([]);
    expect(h.simulators.cloudwatch.alarm('ep-latency')).toBeUndefined();
  });

  it('It should evaluate 5 alarms every minute over 4 hours of minute data quickly', () => {
    const metrics = ['ModelLatency', 'OverheadLatency', 'Invocations', 'Invocation5XXErrors', 'Invocation4XXErrors'];
    metrics.forEach((metricName, index) =>
      h.simulators.cloudwatch.defineAlarm({
        ...latencyAlarm,
        AlarmName: `alarm-${index}`,
        MetricName: metricName,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        Period: index === 4 ? 300 : 60,
      }),
    );
    const started = performance.now();
    for (let m = 0; m < 240; m++) {
      for (const metricName of metrics) {
        h.simulators.cloudwatch.recordMetric({
          namespace: NAMESPACE,
          metricName,
          dimensions: DIMENSIONS,
          timestamp: T0 + m * MINUTE,
          unit: 'None',
          values: [100_000, 200_000, 300_000 + m * 1000],
          counts: [60, 30, 10],
        });
      }
      h.simulators.cloudwatch.evaluateAlarms(T0 + (m + 1) * MINUTE);
    }
    const elapsed = performance.now() - started;

    expect(h.simulators.cloudwatch.alarm('alarm-0')?.state).toBe('ALARM');
    expect(elapsed).toBeLessThan(1500);
  });
});
