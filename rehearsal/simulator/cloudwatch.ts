/**
 * In-memory model of the CloudWatch API the release manager reads (DescribeAlarms,
 * metric reads) and a rehearsal drives (metric data, alarm definitions and evaluation,
 * SetAlarmState, scheduled state changes), with the documented filters, limits and
 * errors.
 *
 * Metric data is kept per metric (namespace, name, exact dimensions) in time order and
 * aggregated into periods aligned to multiples of the period since the epoch
 * (metrics.ts). Metric alarms are evaluated from it when the rehearsal calls
 * `evaluateAlarms`, as CloudWatch does once a minute (alarm-evaluation.ts).
 *
 * Scheduled state changes are applied lazily, when an alarm is read at or after their
 * virtual time, so a rehearsal can script "the latency alarm fires 7 minutes into the
 * canary" without timers.
 *
 * Sources for each behaviour: docs/rehearsal.md (fidelity table).
 */
import { z } from 'zod';
import type { VirtualClock } from '../clock';
import {
  STATIC_COMPARISON_OPERATORS,
  TREAT_MISSING_DATA,
  evaluateMetricAlarm,
  evaluationRangeStarts,
  type AlarmEvaluationConfig,
  type AlarmState,
  type RangeDatapoint,
  type StaticComparisonOperator,
  type TreatMissingData,
} from './alarm-evaluation';
import { partitionOf } from './arn';
import { SimulatedServiceError } from './errors';
import type { MetricSample } from './metric-sample';
import {
  MetricStore,
  STANDARD_STATISTICS,
  datapointFromDistribution,
  datapointFromStatisticSet,
  parseStatistic,
  statisticValue,
  type MetricIdentity,
  type ParsedStatistic,
  type PeriodAggregate,
  type StoredDatapoint,
} from './metrics';
import { CallRecorder, type RecordedCall } from './recorder';
import { parseInput } from './validation';

export type { AlarmState } from './alarm-evaluation';

export interface CloudWatchSimulatorOptions {
  clock: VirtualClock;
  region?: string;
  accountId?: string;
}

export interface AlarmSnapshot {
  name: string;
  arn: string;
  state: AlarmState;
  reason: string;
  /** StateReasonData, when the last change set one (metric evaluation does). */
  reasonData?: string;
  /** Virtual clock, epoch ms. */
  stateUpdatedAt: number;
}

export interface AlarmTransition {
  /** Virtual clock, epoch ms. */
  at: number;
  alarm: string;
  from: AlarmState;
  to: AlarmState;
  reason: string;
}

const AlarmStateSchema = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
const AlarmName = z.string().min(1).max(255);
const ActionList = z.array(z.string().min(1).max(1024)).max(5).optional();
const Namespace = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^:].*$/);
const MetricName = z.string().min(1).max(255);
const Dimension = z.object({ Name: z.string().min(1).max(255), Value: z.string().min(1).max(1024) });
const Dimensions = z.array(Dimension).max(30);
const STANDARD_UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;
const StandardUnit = z.enum(STANDARD_UNITS);
/** Epoch seconds, as the AWS JSON protocols send timestamps. */
const Timestamp = z.number();
// The SDK sends the special doubles as strings; CloudWatch rejects them, with InvalidParameterValue.
const WireDouble = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
const NextToken = z.string().max(1024).optional();

const DescribeAlarmsInput = z.object({
  AlarmNames: z.array(AlarmName).max(100).optional(),
  AlarmNamePrefix: z.string().min(1).max(255).optional(),
  AlarmTypes: z.array(z.enum(['CompositeAlarm', 'MetricAlarm'])).optional(),
  StateValue: AlarmStateSchema.optional(),
  ActionPrefix: z.string().min(1).max(1024).optional(),
  MaxRecords: z.number().int().min(1).max(100).optional(),
  NextToken,
});
const SetAlarmStateInput = z.object({
  AlarmName,
  StateValue: AlarmStateSchema,
  StateReason: z.string().max(1023),
  StateReasonData: z.string().max(4000).optional(),
});
// The configuration fields echoed by DescribeAlarms (Tags are accepted and not echoed).
const PutMetricAlarmInput = z.object({
  AlarmName,
  AlarmDescription: z.string().max(1024).optional(),
  ActionsEnabled: z.boolean().optional(),
  OKActions: ActionList,
  AlarmActions: ActionList,
  InsufficientDataActions: ActionList,
  MetricName: MetricName.optional(),
  Namespace: Namespace.optional(),
  Statistic: z.enum(STANDARD_STATISTICS).optional(),
  ExtendedStatistic: z.string().optional(),
  Dimensions: Dimensions.optional(),
  Period: z.number().int().min(1).optional(),
  Unit: StandardUnit.optional(),
  EvaluationPeriods: z.number().int().min(1),
  DatapointsToAlarm: z.number().int().min(1).optional(),
  Threshold: z.number().optional(),
  ComparisonOperator: z.enum([
    ...STATIC_COMPARISON_OPERATORS,
    'LessThanLowerOrGreaterThanUpperThreshold',
    'LessThanLowerThreshold',
    'GreaterThanUpperThreshold',
  ]),
  TreatMissingData: z.string().min(1).max(255).optional(),
  EvaluateLowSampleCountPercentile: z.string().min(1).max(255).optional(),
  Metrics: z.array(z.unknown()).optional(),
  ThresholdMetricId: z.string().min(1).max(255).optional(),
  Tags: z.array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) })).optional(),
});
/** PutMetricAlarm's input, as `defineAlarm` takes it. */
export type PutMetricAlarmInputShape = z.input<typeof PutMetricAlarmInput>;
type AlarmConfiguration = Omit<z.infer<typeof PutMetricAlarmInput>, 'AlarmName' | 'Tags'>;
const DeleteAlarmsInput = z.object({ AlarmNames: z.array(AlarmName).max(100) });

const StatisticSet = z.object({ SampleCount: WireDouble, Sum: WireDouble, Minimum: WireDouble, Maximum: WireDouble });
const MetricDatum = z.object({
  MetricName,
  Dimensions: Dimensions.optional(),
  Timestamp: Timestamp.optional(),
  Value: WireDouble.optional(),
  StatisticValues: StatisticSet.optional(),
  Values: z.array(WireDouble).optional(),
  Counts: z.array(WireDouble).optional(),
  Unit: StandardUnit.optional(),
  StorageResolution: z.number().int().optional(),
});
const PutMetricDataInput = z.object({
  Namespace,
  MetricData: z.array(MetricDatum).optional(),
  // Entities are not modelled: their metric data is stored as plain metric data.
  EntityMetricData: z
    .array(z.object({ Entity: z.unknown().optional(), MetricData: z.array(MetricDatum).optional() }))
    .max(2)
    .optional(),
  StrictEntityValidation: z.boolean().optional(),
});
const GetMetricStatisticsInput = z.object({
  Namespace,
  MetricName,
  Dimensions: Dimensions.optional(),
  StartTime: Timestamp,
  EndTime: Timestamp,
  Period: z.number().int().min(1),
  Statistics: z.array(z.enum(STANDARD_STATISTICS)).min(1).max(5).optional(),
  ExtendedStatistics: z.array(z.string()).min(1).max(10).optional(),
  Unit: StandardUnit.optional(),
});
const MetricDataQuery = z.object({
  Id: z.string().min(1).max(255),
  MetricStat: z
    .object({
      Metric: z.object({ Namespace: Namespace.optional(), MetricName: MetricName.optional(), Dimensions: Dimensions.optional() }),
      Period: z.number().int().min(1),
      Stat: z.string(),
      Unit: StandardUnit.optional(),
    })
    .optional(),
  Expression: z.string().min(1).max(2048).optional(),
  Label: z.string().optional(),
  ReturnData: z.boolean().optional(),
  Period: z.number().int().min(1).optional(),
  AccountId: z.string().min(1).max(255).optional(),
});
const GetMetricDataInput = z.object({
  MetricDataQueries: z.array(MetricDataQuery).max(500),
  StartTime: Timestamp,
  EndTime: Timestamp,
  NextToken,
  ScanBy: z.enum(['TimestampDescending', 'TimestampAscending']).optional(),
  MaxDatapoints: z.number().int().min(1).optional(),
  LabelOptions: z.object({ Timezone: z.string().optional() }).optional(),
});
const ListMetricsInput = z.object({
  Namespace: Namespace.optional(),
  MetricName: MetricName.optional(),
  Dimensions: z
    .array(z.object({ Name: z.string().min(1).max(255), Value: z.string().min(1).max(1024).optional() }))
    .max(10)
    .optional(),
  NextToken,
  RecentlyActive: z.enum(['PT3H']).optional(),
  IncludeLinkedAccounts: z.boolean().optional(),
  OwningAccount: z.string().min(1).max(255).optional(),
});

interface ScheduledState {
  at: number;
  state: AlarmState;
  reason: string;
}

/** What a metric alarm evaluates: set when the alarm has a metric (Namespace + MetricName). */
interface AlarmEvaluation {
  identity: MetricIdentity;
  statistic: ParsedStatistic;
  config: AlarmEvaluationConfig;
}

interface AlarmRecord {
  name: string;
  arn: string;
  state: AlarmState;
  reason: string;
  reasonData: string | undefined;
  stateUpdatedAt: number;
  stateTransitionedAt: number;
  configUpdatedAt: number;
  config: Partial<AlarmConfiguration>;
  evaluation: AlarmEvaluation | undefined;
  /** Pending scheduled changes, in time order. */
  schedule: ScheduledState[];
}

const DEFAULT_MAX_RECORDS = 50;
const LIST_METRICS_PAGE_SIZE = 500;
const MAX_METRIC_DATA = 1000;
const MAX_VALUES_PER_DATUM = 150;
/** Values must be in the range of -2^360 to 2^360 (PutMetricData). */
const MAX_METRIC_VALUE = 2 ** 360;
const GET_METRIC_STATISTICS_MAX_DATAPOINTS = 1440;
const GET_METRIC_DATA_DEFAULT_MAX_DATAPOINTS = 100_800;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** PutMetricData accepts time stamps up to two weeks in the past and two hours in the future. */
const MAX_TIMESTAMP_AGE_MS = 14 * DAY_MS;
const MAX_TIMESTAMP_AHEAD_MS = 2 * HOUR_MS;
/** ListMetrics leaves out metrics that have not reported data in the past two weeks. */
const LIST_METRICS_RETENTION_MS = 14 * DAY_MS;

export class CloudWatchSimulator {
  readonly region: string;
  readonly accountId: string;

  private readonly clock: VirtualClock;
  private readonly recorder: CallRecorder<'cloudwatch'>;
  private readonly alarms = new Map<string, AlarmRecord>();
  private readonly metricStore = new MetricStore();
  private readonly transitions: AlarmTransition[] = [];
  private readonly operations: ReadonlyMap<string, (input: unknown) => unknown>;

  constructor(options: CloudWatchSimulatorOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '123456789012';
    this.recorder = new CallRecorder('cloudwatch', this.clock);
    this.operations = new Map<string, (input: unknown) => unknown>([
      ['DescribeAlarms', (input) => this.describeAlarms(input)],
      ['SetAlarmState', (input) => this.setAlarmState(input)],
      ['PutMetricAlarm', (input) => this.putMetricAlarm(input)],
      ['DeleteAlarms', (input) => this.deleteAlarms(input)],
      ['PutMetricData', (input) => this.putMetricData(input)],
      ['GetMetricStatistics', (input) => this.getMetricStatistics(input)],
      ['GetMetricData', (input) => this.getMetricData(input)],
      ['ListMetrics', (input) => this.listMetrics(input)],
    ]);
  }

  /** Forgets every alarm, schedule, metric datapoint, state transition and recorded call. */
  reset(): void {
    this.alarms.clear();
    this.metricStore.clear();
    this.transitions.length = 0;
    this.recorder.reset();
  }

  get calls(): RecordedCall<'cloudwatch'>[] {
    return this.recorder.calls;
  }

  handle(operation: string, input: unknown): unknown {
    return this.recorder.run(operation, input, () => {
      const handler = this.operations.get(operation);
      if (!handler) {
        throw new SimulatedServiceError('UnknownOperationException', `Operation GraniteServiceVersion20100801.${operation} is not supported.`);
      }
      return handler(input);
    });
  }

  // -------------------------------------------------------------------------------
  // Scenario API.

  /** Creates (or resets) an alarm without a metric in the given state; it is never evaluated. */
  putAlarm(name: string, state: AlarmState = 'OK'): void {
    const now = this.clock.now();
    this.alarms.set(name, {
      name,
      arn: this.alarmArn(name),
      state,
      reason: `Rehearsal: alarm set up in state ${state}`,
      reasonData: undefined,
      stateUpdatedAt: now,
      stateTransitionedAt: now,
      configUpdatedAt: now,
      config: {},
      evaluation: undefined,
      schedule: [],
    });
  }

  /**
   * Creates or updates a metric alarm from a PutMetricAlarm input, with the same
   * validation and semantics as the wire operation (a new alarm starts INSUFFICIENT_DATA,
   * an update keeps the state), without recording a call. Invalid input throws the
   * SimulatedServiceError PutMetricAlarm would answer.
   */
  defineAlarm(input: PutMetricAlarmInputShape): void {
    this.upsertMetricAlarm(input);
  }

  /** The alarm moves to `state` at virtual time `atEpochMs` (seen by the first read at or after it). */
  scheduleAlarmState(name: string, state: AlarmState, atEpochMs: number, reason?: string): void {
    const alarm = this.alarms.get(name);
    if (!alarm) throw new Error(`scheduleAlarmState: alarm ${name} does not exist; putAlarm it first`);
    if (!Number.isFinite(atEpochMs)) throw new RangeError(`scheduleAlarmState: invalid time ${atEpochMs}`);
    const entry = { at: atEpochMs, state, reason: reason ?? `Rehearsal: scheduled change to ${state}` };
    // Insert after every entry at the same time, so same-time schedules apply in call order.
    const index = alarm.schedule.findIndex((scheduled) => scheduled.at > atEpochMs);
    if (index === -1) alarm.schedule.push(entry);
    else alarm.schedule.splice(index, 0, entry);
  }

  /**
   * Stores one datapoint as a service publishes it (a Values/Counts distribution), at
   * standard resolution (its time truncated to the minute). Not recorded as a call. A
   * sample with no observation stores nothing, so its period stays missing.
   */
  recordMetric(sample: MetricSample): void {
    if (!sample.namespace || !sample.metricName) throw new RangeError('recordMetric: namespace and metricName are required');
    if (!Number.isFinite(sample.timestamp)) throw new RangeError(`recordMetric: invalid timestamp ${sample.timestamp}`);
    if (sample.values.length !== sample.counts.length) {
      throw new RangeError(`recordMetric: ${sample.values.length} values but ${sample.counts.length} counts for ${sample.metricName}`);
    }
    for (const number of [...sample.values, ...sample.counts]) {
      if (!Number.isFinite(number)) throw new RangeError(`recordMetric: ${sample.metricName} has a non-finite value or count`);
    }
    if (sample.counts.some((count) => count < 0)) throw new RangeError(`recordMetric: ${sample.metricName} has a negative count`);
    const timestamp = truncate(sample.timestamp, 60_000);
    const datapoint = datapointFromDistribution(timestamp, sample.unit ?? 'None', sample.values, sample.counts);
    if (!datapoint) return;
    this.metricStore.add({ namespace: sample.namespace, metricName: sample.metricName, dimensions: sample.dimensions }, datapoint);
  }

  /**
   * Evaluates every metric alarm that has a metric at virtual time `atEpochMs`, as
   * CloudWatch does once a minute: scheduled states due by then are applied first, then
   * each alarm's state is computed from its evaluation range and changed when it differs.
   * Alarms without a metric (putAlarm) are never evaluated.
   */
  evaluateAlarms(atEpochMs: number): void {
    if (!Number.isFinite(atEpochMs)) throw new RangeError(`evaluateAlarms: invalid time ${atEpochMs}`);
    for (const name of [...this.alarms.keys()].sort()) {
      const alarm = this.settledAlarm(name, atEpochMs);
      if (alarm?.evaluation) this.evaluate(alarm, alarm.evaluation, atEpochMs);
    }
  }

  /** Every alarm state transition so far (evaluation, SetAlarmState, schedules; not putAlarm), in time order. */
  alarmTransitions(): ReadonlyArray<AlarmTransition> {
    return this.transitions.map((transition) => ({ ...transition }));
  }

  throttle(operation: string, times: number): void {
    this.recorder.throttle(operation, times);
  }

  // -------------------------------------------------------------------------------
  // Inspection.

  alarm(name: string): AlarmSnapshot | undefined {
    const alarm = this.settledAlarm(name);
    if (!alarm) return undefined;
    return {
      name: alarm.name,
      arn: alarm.arn,
      state: alarm.state,
      reason: alarm.reason,
      ...(alarm.reasonData !== undefined ? { reasonData: alarm.reasonData } : {}),
      stateUpdatedAt: alarm.stateUpdatedAt,
    };
  }

  mutatingCalls(): RecordedCall<'cloudwatch'>[] {
    return this.recorder.mutatingCalls();
  }

  // -------------------------------------------------------------------------------
  // Alarm operations.

  private describeAlarms(raw: unknown): unknown {
    const input = this.parse(DescribeAlarmsInput, raw);
    if (input.AlarmNames !== undefined && input.AlarmNamePrefix !== undefined) {
      throw invalidParameterCombination('AlarmNamePrefix and AlarmNames cannot both be specified.');
    }
    const offset = input.NextToken === undefined ? 0 : decodeNextToken(input.NextToken);
    // Without AlarmTypes only metric alarms are returned; the simulator has no others.
    const wantsMetricAlarms = input.AlarmTypes === undefined || input.AlarmTypes.includes('MetricAlarm');
    const names = input.AlarmNames === undefined ? undefined : new Set(input.AlarmNames);
    const matching = wantsMetricAlarms
      ? [...this.alarms.keys()]
          .sort()
          .map((name) => this.settledAlarm(name))
          .filter((alarm): alarm is AlarmRecord => alarm !== undefined)
          .filter((alarm) => names === undefined || names.has(alarm.name))
          .filter((alarm) => input.AlarmNamePrefix === undefined || alarm.name.startsWith(input.AlarmNamePrefix))
          .filter((alarm) => input.StateValue === undefined || alarm.state === input.StateValue)
          .filter((alarm) => input.ActionPrefix === undefined || hasActionWithPrefix(alarm, input.ActionPrefix))
      : [];
    const pageSize = input.MaxRecords ?? DEFAULT_MAX_RECORDS;
    const page = matching.slice(offset, offset + pageSize);
    const next = offset + pageSize < matching.length ? encodeNextToken(offset + pageSize) : undefined;
    return {
      MetricAlarms: page.map((alarm) => this.describeAlarm(alarm)),
      CompositeAlarms: [],
      NextToken: next,
    };
  }

  private setAlarmState(raw: unknown): unknown {
    const input = this.parse(SetAlarmStateInput, raw);
    const alarm = this.settledAlarm(input.AlarmName);
    if (!alarm) throw resourceNotFound(`Alarm ${input.AlarmName} not found`);
    // Lasts until the next evaluation computes a different state.
    this.changeState(alarm, input.StateValue, input.StateReason, input.StateReasonData, this.clock.now());
    return {};
  }

  private putMetricAlarm(raw: unknown): unknown {
    this.upsertMetricAlarm(raw);
    return {};
  }

  private upsertMetricAlarm(raw: unknown): void {
    const { AlarmName: name, Tags: _tags, ...config } = this.parse(PutMetricAlarmInput, raw);
    const evaluation = alarmEvaluationOf(config);
    const now = this.clock.now();
    const existing = this.settledAlarm(name);
    if (existing) {
      // Updating an alarm replaces its configuration but leaves its state alone.
      existing.config = config;
      existing.evaluation = evaluation;
      existing.configUpdatedAt = now;
      return;
    }
    this.alarms.set(name, {
      name,
      arn: this.alarmArn(name),
      state: 'INSUFFICIENT_DATA',
      reason: 'Unchecked: Initial alarm creation',
      reasonData: undefined,
      stateUpdatedAt: now,
      stateTransitionedAt: now,
      configUpdatedAt: now,
      config,
      evaluation,
      schedule: [],
    });
  }

  private deleteAlarms(raw: unknown): unknown {
    const input = this.parse(DeleteAlarmsInput, raw);
    // All or nothing: one unknown name and no alarm is deleted.
    const missing = input.AlarmNames.filter((name) => !this.alarms.has(name));
    if (missing.length > 0) throw resourceNotFound(`Alarm(s) ${missing.join(', ')} not found`);
    for (const name of input.AlarmNames) this.alarms.delete(name);
    return {};
  }

  // -------------------------------------------------------------------------------
  // Metric operations.

  private putMetricData(raw: unknown): unknown {
    const input = this.parse(PutMetricDataInput, raw);
    if (input.Namespace.startsWith('AWS/')) {
      throw invalidParameterValue(
        `The value ${input.Namespace} for parameter Namespace is invalid: namespaces beginning with AWS/ are reserved for AWS services.`,
      );
    }
    const data = [...(input.MetricData ?? []), ...(input.EntityMetricData ?? []).flatMap((entity) => entity.MetricData ?? [])];
    if (data.length === 0) throw missingParameter('The parameter MetricData is required.');
    if (data.length > MAX_METRIC_DATA) {
      throw invalidParameterValue(`The collection MetricData must not have a size greater than ${MAX_METRIC_DATA}.`);
    }
    const now = this.clock.now();
    // Validate everything first: an invalid datum rejects the whole request.
    const stored = data.map((datum, index) => toStoredDatapoint(datum, `MetricData.member.${index + 1}`, now));
    data.forEach((datum, index) => {
      const datapoint = stored[index];
      if (datapoint) this.metricStore.add({ namespace: input.Namespace, metricName: datum.MetricName, dimensions: datum.Dimensions ?? [] }, datapoint);
    });
    return {};
  }

  private getMetricStatistics(raw: unknown): unknown {
    const input = this.parse(GetMetricStatisticsInput, raw);
    if (input.Statistics === undefined && input.ExtendedStatistics === undefined) {
      throw missingParameter('The parameter Statistics or ExtendedStatistics must be specified.');
    }
    if (input.Statistics !== undefined && input.ExtendedStatistics !== undefined) {
      throw invalidParameterCombination('The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.');
    }
    const extended = (input.ExtendedStatistics ?? []).map((stat, index) => {
      const parsed = parseStatistic(stat);
      if (parsed?.kind !== 'percentile') {
        throw invalidParameterValue(
          `The value ${stat} for parameter ExtendedStatistics.member.${index + 1} is not supported: the rehearsal simulator models percentiles p0.0 to p100 only.`,
        );
      }
      return parsed;
    });
    if (!isValidPeriod(input.Period)) {
      throw invalidParameterValue(`The parameter Period must be 1, 5, 10, 20, 30 or a multiple of 60, got ${input.Period}.`);
    }
    const startMs = input.StartTime * 1000;
    const endMs = input.EndTime * 1000;
    if (!(startMs < endMs)) throw invalidParameterValue('The parameter StartTime must be less than the parameter EndTime.');
    const requested = Math.ceil((endMs - startMs) / (input.Period * 1000));
    if (requested > GET_METRIC_STATISTICS_MAX_DATAPOINTS) {
      throw invalidParameterCombination(
        `You have requested up to ${requested} datapoints, which exceeds the limit of ${GET_METRIC_STATISTICS_MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
      );
    }
    const aggregates = this.metricStore.aggregate(
      { namespace: input.Namespace, metricName: input.MetricName, dimensions: input.Dimensions ?? [] },
      { startMs, endMs, periodSeconds: input.Period, unit: input.Unit, groupByUnit: true },
    );
    return {
      Label: input.MetricName,
      Datapoints: aggregates.map((aggregate) => datapointOutput(aggregate, input.Statistics ?? [], extended)),
    };
  }

  private getMetricData(raw: unknown): unknown {
    const input = this.parse(GetMetricDataInput, raw);
    const queries = input.MetricDataQueries.map((query, index) => validateMetricDataQuery(query, index));
    const badIds = input.MetricDataQueries.flatMap((query, index) =>
      METRIC_DATA_QUERY_ID.test(query.Id)
        ? []
        : [`The value ${query.Id} for parameter MetricDataQueries.member.${index + 1}.Id is not matching the expected pattern ${METRIC_DATA_QUERY_ID.source}.`],
    );
    if (badIds.length > 0) throw validationError(badIds.join('\n'));
    if (new Set(input.MetricDataQueries.map((query) => query.Id)).size !== input.MetricDataQueries.length) {
      throw validationError('The values for parameter id in MetricDataQueries are not unique.');
    }
    if (queries.length === 0) throw validationError('The parameter MetricDataQueries must contain at least one query.');
    const startMs = input.StartTime * 1000;
    const endMs = input.EndTime * 1000;
    if (!(startMs < endMs)) throw validationError('The parameter StartTime must be less than the parameter EndTime.');
    const descending = (input.ScanBy ?? 'TimestampDescending') === 'TimestampDescending';
    const series = queries
      .filter((query) => query.returnData)
      .map((query) => {
        const points = this.metricStore.aggregate(query.identity, { startMs, endMs, periodSeconds: query.period, unit: query.unit }).flatMap((aggregate) => {
          const value = statisticValue(aggregate, query.statistic);
          return value === undefined ? [] : [{ timestamp: aggregate.timestamp, value }];
        });
        if (descending) points.reverse();
        return { query, points };
      });
    // Pages cover the results one after the other, MaxDatapoints datapoints at a time.
    const offset = input.NextToken === undefined ? 0 : decodeNextToken(input.NextToken);
    const pageEnd = offset + (input.MaxDatapoints ?? GET_METRIC_DATA_DEFAULT_MAX_DATAPOINTS);
    let seen = 0;
    const results = series.map(({ query, points }) => {
      const first = seen;
      seen += points.length;
      const page = points.slice(Math.max(0, offset - first), Math.max(0, pageEnd - first));
      return {
        Id: query.id,
        Label: query.label,
        Timestamps: page.map((point) => epochSeconds(point.timestamp)),
        Values: page.map((point) => point.value),
        StatusCode: seen > pageEnd ? 'PartialData' : 'Complete',
        Messages: [],
      };
    });
    return {
      MetricDataResults: results,
      NextToken: pageEnd < seen ? encodeNextToken(pageEnd) : undefined,
      Messages: [],
    };
  }

  private listMetrics(raw: unknown): unknown {
    const input = this.parse(ListMetricsInput, raw);
    const offset = input.NextToken === undefined ? 0 : decodeNextToken(input.NextToken);
    const now = this.clock.now();
    const since = input.RecentlyActive === 'PT3H' ? now - 3 * HOUR_MS : now - LIST_METRICS_RETENTION_MS;
    const matching = this.metricStore
      .metrics()
      .filter(({ latest }) => latest >= since)
      .map(({ identity }) => identity)
      .filter((identity) => input.Namespace === undefined || identity.namespace === input.Namespace)
      .filter((identity) => input.MetricName === undefined || identity.metricName === input.MetricName)
      .filter((identity) =>
        (input.Dimensions ?? []).every((filter) =>
          identity.dimensions.some((d) => d.Name === filter.Name && (filter.Value === undefined || d.Value === filter.Value)),
        ),
      )
      .map((identity) => ({ Namespace: identity.namespace, MetricName: identity.metricName, Dimensions: identity.dimensions.map((d) => ({ ...d })) }))
      .sort((a, b) => compareStrings(JSON.stringify(a), JSON.stringify(b)));
    const page = matching.slice(offset, offset + LIST_METRICS_PAGE_SIZE);
    return {
      Metrics: page,
      NextToken: offset + LIST_METRICS_PAGE_SIZE < matching.length ? encodeNextToken(offset + LIST_METRICS_PAGE_SIZE) : undefined,
    };
  }

  // -------------------------------------------------------------------------------
  // Helpers.

  private evaluate(alarm: AlarmRecord, evaluation: AlarmEvaluation, at: number): void {
    const { config } = evaluation;
    const starts = evaluationRangeStarts(at, config.periodSeconds, config.evaluationPeriods);
    const periodMs = config.periodSeconds * 1000;
    const first = starts[0] as number;
    const last = starts[starts.length - 1] as number;
    const byStart = new Map<number, PeriodAggregate>();
    for (const aggregate of this.metricStore.aggregate(evaluation.identity, {
      startMs: first,
      endMs: last + periodMs,
      periodSeconds: config.periodSeconds,
      unit: config.unit,
    })) {
      byStart.set(aggregate.timestamp, aggregate);
    }
    const range: RangeDatapoint[] = starts.map((start) => {
      const aggregate = byStart.get(start);
      const value = aggregate ? statisticValue(aggregate, evaluation.statistic) : undefined;
      return value === undefined ? { timestamp: start } : { timestamp: start, value, sampleCount: aggregate?.sampleCount };
    });
    const outcome = evaluateMetricAlarm({ config, range, currentState: alarm.state, at });
    if (outcome.state !== alarm.state) this.changeState(alarm, outcome.state, outcome.reason, outcome.reasonData, at);
  }

  /** Sets the state, and records a transition when it changes. */
  private changeState(alarm: AlarmRecord, state: AlarmState, reason: string, reasonData: string | undefined, at: number): void {
    const from = alarm.state;
    if (from !== state) {
      alarm.stateTransitionedAt = at;
      this.recordTransition({ at, alarm: alarm.name, from, to: state, reason });
    }
    alarm.state = state;
    alarm.reason = reason;
    alarm.reasonData = reasonData;
    alarm.stateUpdatedAt = at;
  }

  private recordTransition(transition: AlarmTransition): void {
    // Almost always appended; a change applied lazily may belong before later ones.
    let index = this.transitions.length;
    while (index > 0 && (this.transitions[index - 1] as AlarmTransition).at > transition.at) index--;
    this.transitions.splice(index, 0, transition);
  }

  private settledAlarm(name: string, now: number = this.clock.now()): AlarmRecord | undefined {
    const alarm = this.alarms.get(name);
    if (!alarm) return undefined;
    while (alarm.schedule.length > 0 && (alarm.schedule[0]?.at ?? Infinity) <= now) {
      const due = alarm.schedule.shift();
      if (due) this.changeState(alarm, due.state, due.reason, undefined, due.at);
    }
    return alarm;
  }

  private describeAlarm(alarm: AlarmRecord): Record<string, unknown> {
    return {
      ...alarm.config,
      AlarmName: alarm.name,
      AlarmArn: alarm.arn,
      AlarmConfigurationUpdatedTimestamp: epochSeconds(alarm.configUpdatedAt),
      ActionsEnabled: alarm.config.ActionsEnabled ?? true,
      OKActions: alarm.config.OKActions ?? [],
      AlarmActions: alarm.config.AlarmActions ?? [],
      InsufficientDataActions: alarm.config.InsufficientDataActions ?? [],
      StateValue: alarm.state,
      StateReason: alarm.reason,
      StateReasonData: alarm.reasonData,
      StateUpdatedTimestamp: epochSeconds(alarm.stateUpdatedAt),
      StateTransitionedTimestamp: epochSeconds(alarm.stateTransitionedAt),
      Dimensions: alarm.config.Dimensions ?? [],
    };
  }

  private parse<T>(schema: z.ZodType<T>, input: unknown): T {
    return parseInput(schema, input, (message) => validationError(message));
  }

  private alarmArn(name: string): string {
    return `arn:${partitionOf(this.region)}:cloudwatch:${this.region}:${this.accountId}:alarm:${name}`;
  }
}

// ---------------------------------------------------------------------------------
// PutMetricAlarm: the checks beyond the shape. CloudWatch answers them with
// ValidationError (e.g. "DatapointsToAlarm must be less than or equal to
// EvaluationPeriods"); PutMetricAlarm models no other client error but LimitExceeded.

/** The evaluation part of an alarm's configuration, or undefined for an alarm without a metric. */
function alarmEvaluationOf(config: AlarmConfiguration): AlarmEvaluation | undefined {
  if (config.Metrics !== undefined) {
    throw validationError(
      'The rehearsal simulator does not model alarms on metric math expressions or Metrics Insights queries (Metrics); use MetricName and Namespace.',
    );
  }
  if (config.ThresholdMetricId !== undefined || !(STATIC_COMPARISON_OPERATORS as readonly string[]).includes(config.ComparisonOperator)) {
    throw validationError(
      `The rehearsal simulator does not model anomaly detection alarms (ComparisonOperator ${config.ComparisonOperator}); use one of ${STATIC_COMPARISON_OPERATORS.join(', ')}.`,
    );
  }
  if (config.Namespace === undefined && config.MetricName === undefined) {
    throw validationError('MetricName and Namespace must be specified for an alarm on a metric.');
  }
  if (config.Namespace === undefined) throw validationError('Namespace must be specified when MetricName is specified.');
  if (config.MetricName === undefined) throw validationError('MetricName must be specified when Namespace is specified.');
  if (config.Statistic !== undefined && config.ExtendedStatistic !== undefined) {
    throw validationError('Statistic and ExtendedStatistic cannot both be specified.');
  }
  if (config.Statistic === undefined && config.ExtendedStatistic === undefined) {
    throw validationError('One of Statistic or ExtendedStatistic must be specified.');
  }
  let statistic: ParsedStatistic;
  if (config.ExtendedStatistic !== undefined) {
    const parsed = parseStatistic(config.ExtendedStatistic);
    if (parsed?.kind !== 'percentile') {
      throw validationError(
        `The value ${config.ExtendedStatistic} for parameter ExtendedStatistic is not supported: the rehearsal simulator models percentiles p0.0 to p100 only.`,
      );
    }
    statistic = parsed;
  } else {
    statistic = { kind: 'standard', name: config.Statistic as (typeof STANDARD_STATISTICS)[number] };
  }
  if (config.Period === undefined) throw validationError('Period must be specified for an alarm on a metric.');
  if (!(config.Period === 10 || config.Period === 20 || config.Period === 30 || config.Period % 60 === 0)) {
    throw validationError(`The value ${config.Period} for parameter Period is invalid: valid values are 10, 20, 30 and any multiple of 60.`);
  }
  const total = config.Period * config.EvaluationPeriods;
  const limit = config.Period < 3600 ? 86_400 : 604_800;
  if (total > limit) {
    throw validationError(
      `Period multiplied by EvaluationPeriods (${total} seconds) must not exceed ${limit} seconds${config.Period < 3600 ? ' for a period of less than one hour' : ''}.`,
    );
  }
  const datapointsToAlarm = config.DatapointsToAlarm ?? config.EvaluationPeriods;
  if (datapointsToAlarm > config.EvaluationPeriods) throw validationError('DatapointsToAlarm must be less than or equal to EvaluationPeriods');
  if (config.Threshold === undefined) throw validationError('Threshold must be specified for an alarm on a metric.');
  const treatMissingData = config.TreatMissingData ?? 'missing';
  if (!(TREAT_MISSING_DATA as readonly string[]).includes(treatMissingData)) {
    throw validationError(`The value ${treatMissingData} for parameter TreatMissingData is invalid: valid values are ${TREAT_MISSING_DATA.join(', ')}.`);
  }
  if (config.EvaluateLowSampleCountPercentile !== undefined && !['evaluate', 'ignore'].includes(config.EvaluateLowSampleCountPercentile)) {
    throw validationError(
      `The value ${config.EvaluateLowSampleCountPercentile} for parameter EvaluateLowSampleCountPercentile is invalid: valid values are evaluate, ignore.`,
    );
  }
  return {
    identity: { namespace: config.Namespace, metricName: config.MetricName, dimensions: config.Dimensions ?? [] },
    statistic,
    config: {
      statistic: statistic.name,
      periodSeconds: config.Period,
      evaluationPeriods: config.EvaluationPeriods,
      datapointsToAlarm,
      threshold: config.Threshold,
      comparisonOperator: config.ComparisonOperator as StaticComparisonOperator,
      treatMissingData: treatMissingData as TreatMissingData,
      ...(config.Unit !== undefined ? { unit: config.Unit } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------
// PutMetricData.

type WireNumber = z.infer<typeof WireDouble>;

function toStoredDatapoint(datum: z.infer<typeof MetricDatum>, path: string, now: number): StoredDatapoint | undefined {
  const given = (['Value', 'StatisticValues', 'Values'] as const).filter((field) => datum[field] !== undefined);
  if (given.length > 1) {
    throw invalidParameterCombination(`The parameters ${path}.${given[0]} and ${path}.${given[1]} are mutually exclusive and you have specified both.`);
  }
  if (given.length === 0) throw missingParameter(`The parameter ${path}.Value is required.`);
  if (datum.Counts !== undefined && datum.Values === undefined) {
    throw invalidParameterCombination(`The parameter ${path}.Counts can only be specified with ${path}.Values.`);
  }
  const resolution = datum.StorageResolution ?? 60;
  if (resolution !== 1 && resolution !== 60) {
    throw invalidParameterValue(`The value ${resolution} for parameter ${path}.StorageResolution is invalid: valid values are 1 and 60.`);
  }
  const at = datum.Timestamp === undefined ? now : datum.Timestamp * 1000;
  if (at < now - MAX_TIMESTAMP_AGE_MS) {
    throw invalidParameterValue(`The parameter ${path}.Timestamp must specify a time no more than two weeks in the past.`);
  }
  if (at > now + MAX_TIMESTAMP_AHEAD_MS) {
    throw invalidParameterValue(`The parameter ${path}.Timestamp must specify a time no more than two hours in the future.`);
  }
  const timestamp = truncate(at, resolution * 1000);
  const unit = datum.Unit ?? 'None';
  if (datum.Value !== undefined) {
    const value = metricValue(datum.Value, `${path}.Value`);
    return datapointFromDistribution(timestamp, unit, [value], [1]);
  }
  if (datum.StatisticValues !== undefined) {
    const set = datum.StatisticValues;
    const statistics = {
      SampleCount: metricValue(set.SampleCount, `${path}.StatisticValues.SampleCount`),
      Sum: metricValue(set.Sum, `${path}.StatisticValues.Sum`),
      Minimum: metricValue(set.Minimum, `${path}.StatisticValues.Minimum`),
      Maximum: metricValue(set.Maximum, `${path}.StatisticValues.Maximum`),
    };
    if (!(statistics.SampleCount > 0)) {
      throw invalidParameterValue(`The parameter ${path}.StatisticValues.SampleCount must be greater than 0.`);
    }
    if (statistics.Minimum > statistics.Maximum) {
      throw invalidParameterValue(`The parameter ${path}.StatisticValues.Maximum must be greater than or equal to ${path}.StatisticValues.Minimum.`);
    }
    return datapointFromStatisticSet(timestamp, unit, statistics);
  }
  const values = (datum.Values ?? []).map((value, index) => metricValue(value, `${path}.Values.member.${index + 1}`));
  if (values.length === 0) throw missingParameter(`The parameter ${path}.Values must contain at least one value.`);
  if (values.length > MAX_VALUES_PER_DATUM) {
    throw invalidParameterValue(`The collection ${path}.Values must not have a size greater than ${MAX_VALUES_PER_DATUM}.`);
  }
  const counts =
    datum.Counts === undefined ? values.map(() => 1) : datum.Counts.map((count, index) => metricValue(count, `${path}.Counts.member.${index + 1}`));
  if (counts.length !== values.length) {
    throw invalidParameterValue(
      `The parameters ${path}.Values and ${path}.Counts must be arrays of the same length (${values.length} values, ${counts.length} counts).`,
    );
  }
  const negative = counts.findIndex((count) => count < 0);
  if (negative !== -1) throw invalidParameterValue(`The value ${counts[negative]} for parameter ${path}.Counts.member.${negative + 1} is invalid.`);
  return datapointFromDistribution(timestamp, unit, values, counts);
}

function metricValue(value: WireNumber, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_METRIC_VALUE) {
    throw invalidParameterValue(
      `The value ${String(value)} for parameter ${path} is invalid: values must be in the range of -2^360 to 2^360 (NaN and Infinity are not supported).`,
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------
// GetMetricStatistics / GetMetricData.

const METRIC_DATA_QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;

interface ValidQuery {
  id: string;
  label: string;
  returnData: boolean;
  identity: MetricIdentity;
  period: number;
  statistic: ParsedStatistic;
  unit: string | undefined;
}

function validateMetricDataQuery(query: z.infer<typeof MetricDataQuery>, index: number): ValidQuery {
  const path = `MetricDataQueries.member.${index + 1}`;
  if (query.Expression !== undefined) {
    throw validationError(
      `The rehearsal simulator does not evaluate metric math or Metrics Insights expressions (${path}.Expression of query ${query.Id}); use MetricStat queries.`,
    );
  }
  const stat = query.MetricStat;
  if (stat === undefined) throw validationError(`Exactly one of ${path}.MetricStat and ${path}.Expression must be specified.`);
  if (stat.Metric.Namespace === undefined || stat.Metric.MetricName === undefined) {
    throw validationError(`The parameters ${path}.MetricStat.Metric.Namespace and ${path}.MetricStat.Metric.MetricName are required.`);
  }
  const statistic = parseStatistic(stat.Stat);
  if (!statistic) {
    throw validationError(
      `The value ${stat.Stat} for parameter ${path}.MetricStat.Stat is not supported: the rehearsal simulator models SampleCount, Average, Sum, Minimum, Maximum and percentiles pNN.NN.`,
    );
  }
  if (!isValidPeriod(stat.Period)) {
    throw validationError(
      `The value ${stat.Period} for parameter ${path}.MetricStat.Period is invalid: valid values are 1, 5, 10, 20, 30 and any multiple of 60.`,
    );
  }
  return {
    id: query.Id,
    label: query.Label ?? stat.Metric.MetricName,
    returnData: query.ReturnData ?? true,
    identity: { namespace: stat.Metric.Namespace, metricName: stat.Metric.MetricName, dimensions: stat.Metric.Dimensions ?? [] },
    period: stat.Period,
    statistic,
    unit: stat.Unit,
  };
}

function datapointOutput(aggregate: PeriodAggregate, statistics: readonly string[], extended: readonly ParsedStatistic[]): Record<string, unknown> {
  const output: Record<string, unknown> = { Timestamp: epochSeconds(aggregate.timestamp), Unit: aggregate.unit };
  for (const name of statistics) {
    const parsed = parseStatistic(name);
    if (parsed) output[name] = statisticValue(aggregate, parsed);
  }
  if (extended.length > 0) {
    const values: Record<string, number> = {};
    for (const statistic of extended) {
      const value = statisticValue(aggregate, statistic);
      if (value !== undefined) values[statistic.name] = value;
    }
    // Percentiles are not available for statistic sets with several values or for negative values.
    if (Object.keys(values).length > 0) output.ExtendedStatistics = values;
  }
  return output;
}

/** 1, 5, 10, 20, 30 or any multiple of 60 (high-resolution periods are accepted for any metric). */
function isValidPeriod(period: number): boolean {
  return [1, 5, 10, 20, 30].includes(period) || period % 60 === 0;
}

// ---------------------------------------------------------------------------------
// Errors and small helpers.

function validationError(message: string): SimulatedServiceError {
  return new SimulatedServiceError('ValidationException', message, { queryErrorCode: 'ValidationError' });
}

function invalidParameterValue(message: string): SimulatedServiceError {
  return new SimulatedServiceError('InvalidParameterValueException', message, { queryErrorCode: 'InvalidParameterValue' });
}

function invalidParameterCombination(message: string): SimulatedServiceError {
  return new SimulatedServiceError('InvalidParameterCombinationException', message, { queryErrorCode: 'InvalidParameterCombination' });
}

function missingParameter(message: string): SimulatedServiceError {
  return new SimulatedServiceError('MissingRequiredParameterException', message, { queryErrorCode: 'MissingParameter' });
}

function hasActionWithPrefix(alarm: AlarmRecord, prefix: string): boolean {
  const actions = [...(alarm.config.OKActions ?? []), ...(alarm.config.AlarmActions ?? []), ...(alarm.config.InsufficientDataActions ?? [])];
  return actions.some((action) => action.startsWith(prefix));
}

function resourceNotFound(message: string): SimulatedServiceError {
  // ResourceNotFound is modelled with HTTP 404 (and Query code ResourceNotFound).
  return new SimulatedServiceError('ResourceNotFound', message, {
    statusCode: 404,
    queryErrorCode: 'ResourceNotFound',
  });
}

// NextToken is opaque to clients; an offset is enough for an in-memory list.
function encodeNextToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64');
}

function decodeNextToken(token: string): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
  if (!match?.[1]) {
    throw new SimulatedServiceError('InvalidNextToken', 'The next token specified is invalid.', {
      queryErrorCode: 'InvalidNextToken',
    });
  }
  return Number(match[1]);
}

function epochSeconds(epochMs: number): number {
  return epochMs / 1000;
}

function truncate(epochMs: number, resolutionMs: number): number {
  return Math.floor(epochMs / resolutionMs) * resolutionMs;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
