/**
 * In-memory model of the CloudWatch alarm API the release manager reads (DescribeAlarms)
 * and a rehearsal drives (SetAlarmState, scheduled state changes), with the documented
 * filters, limits and errors.
 *
 * Scheduled state changes are applied lazily, when an alarm is read at or after their
 * virtual time, so a rehearsal can script "the latency alarm fires 7 minutes into the
 * canary" without timers.
 *
 * Sources for each behaviour: docs/rehearsal.md (fidelity table).
 */
import { z } from 'zod';
import type { VirtualClock } from '../clock';
import { partitionOf } from './arn';
import { SimulatedServiceError } from './errors';
import { CallRecorder, type RecordedCall } from './recorder';
import { parseInput } from './validation';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

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
  /** Virtual clock, epoch ms. */
  stateUpdatedAt: number;
}

const AlarmStateSchema = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
const AlarmName = z.string().min(1).max(255);
const ActionList = z.array(z.string().min(1).max(1024)).max(5).optional();

const DescribeAlarmsInput = z.object({
  AlarmNames: z.array(AlarmName).max(100).optional(),
  AlarmNamePrefix: z.string().min(1).max(255).optional(),
  AlarmTypes: z.array(z.enum(['CompositeAlarm', 'MetricAlarm'])).optional(),
  StateValue: AlarmStateSchema.optional(),
  ActionPrefix: z.string().min(1).max(1024).optional(),
  MaxRecords: z.number().int().min(1).max(100).optional(),
  NextToken: z.string().max(1024).optional(),
});
const SetAlarmStateInput = z.object({
  AlarmName,
  StateValue: AlarmStateSchema,
  StateReason: z.string().max(1023),
  StateReasonData: z.string().max(4000).optional(),
});
// The configuration fields echoed by DescribeAlarms; the rest of the request is ignored.
const PutMetricAlarmInput = z.object({
  AlarmName,
  AlarmDescription: z.string().max(1024).optional(),
  ActionsEnabled: z.boolean().optional(),
  OKActions: ActionList,
  AlarmActions: ActionList,
  InsufficientDataActions: ActionList,
  MetricName: z.string().min(1).max(255).optional(),
  Namespace: z.string().min(1).max(255).optional(),
  Statistic: z.enum(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']).optional(),
  ExtendedStatistic: z.string().optional(),
  Dimensions: z
    .array(z.object({ Name: z.string().min(1).max(255), Value: z.string().min(1).max(1024) }))
    .max(30)
    .optional(),
  Period: z.number().int().min(1).optional(),
  Unit: z.string().optional(),
  EvaluationPeriods: z.number().int().min(1),
  DatapointsToAlarm: z.number().int().min(1).optional(),
  Threshold: z.number().optional(),
  ComparisonOperator: z.enum([
    'GreaterThanOrEqualToThreshold',
    'GreaterThanThreshold',
    'LessThanThreshold',
    'LessThanOrEqualToThreshold',
    'LessThanLowerOrGreaterThanUpperThreshold',
    'LessThanLowerThreshold',
    'GreaterThanUpperThreshold',
  ]),
  TreatMissingData: z.string().min(1).max(255).optional(),
});
type AlarmConfiguration = Omit<z.infer<typeof PutMetricAlarmInput>, 'AlarmName'>;
const DeleteAlarmsInput = z.object({ AlarmNames: z.array(AlarmName).max(100) });

interface ScheduledState {
  at: number;
  state: AlarmState;
  reason: string;
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
  /** Pending scheduled changes, in time order. */
  schedule: ScheduledState[];
}

const DEFAULT_MAX_RECORDS = 50;

export class CloudWatchSimulator {
  readonly region: string;
  readonly accountId: string;

  private readonly clock: VirtualClock;
  private readonly recorder: CallRecorder<'cloudwatch'>;
  private readonly alarms = new Map<string, AlarmRecord>();
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
    ]);
  }

  /** Forgets every alarm, schedule and recorded call. */
  reset(): void {
    this.alarms.clear();
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

  /** Creates (or resets) a metric alarm in the given state. */
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
      schedule: [],
    });
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
      stateUpdatedAt: alarm.stateUpdatedAt,
    };
  }

  mutatingCalls(): RecordedCall<'cloudwatch'>[] {
    return this.recorder.mutatingCalls();
  }

  // -------------------------------------------------------------------------------
  // Operations.

  private describeAlarms(raw: unknown): unknown {
    const input = this.parse(DescribeAlarmsInput, raw);
    if (input.AlarmNames !== undefined && input.AlarmNamePrefix !== undefined) {
      throw new SimulatedServiceError('InvalidParameterCombinationException', 'AlarmNamePrefix and AlarmNames cannot both be specified.', {
        queryErrorCode: 'InvalidParameterCombination',
      });
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
    applyState(alarm, input.StateValue, input.StateReason, input.StateReasonData, this.clock.now());
    return {};
  }

  private putMetricAlarm(raw: unknown): unknown {
    const { AlarmName: name, ...config } = this.parse(PutMetricAlarmInput, raw);
    const now = this.clock.now();
    const existing = this.settledAlarm(name);
    if (existing) {
      // Updating an alarm replaces its configuration but leaves its state alone.
      existing.config = config;
      existing.configUpdatedAt = now;
      return {};
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
      schedule: [],
    });
    return {};
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
  // Helpers.

  private settledAlarm(name: string): AlarmRecord | undefined {
    const alarm = this.alarms.get(name);
    if (!alarm) return undefined;
    const now = this.clock.now();
    while (alarm.schedule.length > 0 && (alarm.schedule[0]?.at ?? Infinity) <= now) {
      const due = alarm.schedule.shift();
      if (due) applyState(alarm, due.state, due.reason, undefined, due.at);
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
    return parseInput(schema, input, (message) => new SimulatedServiceError('ValidationException', message, { queryErrorCode: 'ValidationError' }));
  }

  private alarmArn(name: string): string {
    return `arn:${partitionOf(this.region)}:cloudwatch:${this.region}:${this.accountId}:alarm:${name}`;
  }
}

function applyState(alarm: AlarmRecord, state: AlarmState, reason: string, reasonData: string | undefined, at: number): void {
  if (alarm.state !== state) alarm.stateTransitionedAt = at;
  alarm.state = state;
  alarm.reason = reason;
  alarm.reasonData = reasonData;
  alarm.stateUpdatedAt = at;
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
