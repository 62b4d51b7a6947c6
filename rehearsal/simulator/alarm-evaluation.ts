/**
 * Pure evaluation of one CloudWatch metric alarm, as the "Evaluating an alarm" and
 * "Configuring how CloudWatch alarms treat missing data" sections of the CloudWatch User
 * Guide describe it:
 *
 * - CloudWatch retrieves more datapoints than EvaluationPeriods: the evaluation range.
 *   The simulator's range is the EvaluationPeriods + 2 most recent complete periods (the
 *   guide's example retrieves 5 datapoints for 3 evaluation periods; the real number
 *   depends on the period and the resolution: Simplified).
 * - If the range holds at least EvaluationPeriods real datapoints, the most recent
 *   EvaluationPeriods of them are evaluated and TreatMissingData is not used.
 * - Otherwise `breaching` / `notBreaching` fill in as few missing datapoints as needed to
 *   evaluate EvaluationPeriods datapoints, every real datapoint of the range included.
 *   `missing` evaluates the real datapoints alone (the alarm needs min(DatapointsToAlarm,
 *   real datapoints) breaching ones) and goes to INSUFFICIENT_DATA only when every
 *   datapoint of the range is missing. `ignore` keeps the current state when every
 *   datapoint is missing, or when the real ones alone would make it ALARM; it goes to OK
 *   as `missing` does. These reproduce the outcomes in the guide's two tables row by row.
 * - ALARM when at least DatapointsToAlarm of the evaluated datapoints breach, OK otherwise.
 *
 * The caller applies the outcome only when its state differs from the current one.
 */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export const TREAT_MISSING_DATA = ['missing', 'notBreaching', 'breaching', 'ignore'] as const;
export type TreatMissingData = (typeof TREAT_MISSING_DATA)[number];

export const STATIC_COMPARISON_OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
] as const;
export type StaticComparisonOperator = (typeof STATIC_COMPARISON_OPERATORS)[number];

/** How many periods beyond EvaluationPeriods the evaluation range covers (Simplified: documented as "a higher number"). */
export const EXTRA_EVALUATION_RANGE_PERIODS = 2;

export interface AlarmEvaluationConfig {
  /** Statistic or extended statistic, as configured ("Average", "p99"). */
  readonly statistic: string;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparisonOperator: StaticComparisonOperator;
  readonly treatMissingData: TreatMissingData;
  readonly unit?: string;
}

/** One period of the evaluation range; `value` is undefined when the period has no datapoint. */
export interface RangeDatapoint {
  /** Start of the period, epoch ms. */
  readonly timestamp: number;
  readonly value?: number;
  readonly sampleCount?: number;
}

export interface AlarmEvaluationInput {
  readonly config: AlarmEvaluationConfig;
  /** Every period of the evaluation range (see `evaluationRangeStarts`), oldest first. */
  readonly range: readonly RangeDatapoint[];
  readonly currentState: AlarmState;
  /** Evaluation time, epoch ms. */
  readonly at: number;
}

export interface AlarmEvaluationOutcome {
  /** The state the alarm should be in; equal to the current state when nothing changes. */
  readonly state: AlarmState;
  readonly reason: string;
  /** StateReasonData JSON; undefined when the state is kept. */
  readonly reasonData: string | undefined;
}

export function evaluationRangeLength(evaluationPeriods: number): number {
  return evaluationPeriods + EXTRA_EVALUATION_RANGE_PERIODS;
}

/**
 * Starts (epoch ms) of the periods of the evaluation range at time `at`, oldest first: the
 * most recent periods that are complete (end at or before `at`), aligned to multiples of
 * the period since the epoch.
 */
export function evaluationRangeStarts(at: number, periodSeconds: number, evaluationPeriods: number): number[] {
  const periodMs = periodSeconds * 1000;
  const lastEnd = Math.floor(at / periodMs) * periodMs;
  const length = evaluationRangeLength(evaluationPeriods);
  return Array.from({ length }, (_, index) => lastEnd - (length - index) * periodMs);
}

export function isBreaching(value: number, operator: StaticComparisonOperator, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

interface Evaluated {
  readonly timestamp: number;
  readonly value: number | undefined;
  readonly sampleCount: number | undefined;
  readonly breaching: boolean;
  /** A missing datapoint filled in by TreatMissingData. */
  readonly filled: boolean;
}

export function evaluateMetricAlarm(input: AlarmEvaluationInput): AlarmEvaluationOutcome {
  const { config, currentState } = input;
  const range = [...input.range].sort((a, b) => a.timestamp - b.timestamp);
  const n = config.evaluationPeriods;
  const m = config.datapointsToAlarm;
  const real: Evaluated[] = range.flatMap((datapoint) =>
    datapoint.value === undefined
      ? []
      : [
          {
            timestamp: datapoint.timestamp,
            value: datapoint.value,
            sampleCount: datapoint.sampleCount,
            breaching: isBreaching(datapoint.value, config.comparisonOperator, config.threshold),
            filled: false,
          },
        ],
  );
  const keep: AlarmEvaluationOutcome = { state: currentState, reason: '', reasonData: undefined };

  // Enough real datapoints: the most recent N of them, missing data treatment unused.
  if (real.length >= n) {
    const evaluated = real.slice(real.length - n);
    const breaching = evaluated.filter((datapoint) => datapoint.breaching).length;
    return thresholdOutcome(input, range, evaluated, breaching >= m ? 'ALARM' : 'OK', m);
  }

  const treatment = config.treatMissingData;
  if (real.length === 0) {
    switch (treatment) {
      case 'ignore':
        return keep;
      case 'missing':
        if (currentState === 'INSUFFICIENT_DATA') return keep;
        return {
          state: 'INSUFFICIENT_DATA',
          reason: `Insufficient Data: ${n} datapoint${n === 1 ? ' was' : 's were'} unknown.`,
          reasonData: reasonData(input, range, undefined),
        };
      case 'breaching':
      case 'notBreaching': {
        const state: AlarmState = treatment === 'breaching' ? 'ALARM' : 'OK';
        if (state === currentState) return keep;
        const label = treatment === 'breaching' ? 'Breaching' : 'NonBreaching';
        return {
          state,
          reason: `Threshold Crossed: no datapoints were received for ${n} period${n === 1 ? '' : 's'} and ${n} missing datapoint${n === 1 ? ' was' : 's were'} treated as [${label}].`,
          reasonData: reasonData(input, range, fill(range, [], n, treatment === 'breaching')),
        };
      }
    }
  }

  // Some real datapoints, fewer than N.
  if (treatment === 'breaching' || treatment === 'notBreaching') {
    const filled = fill(range, real, n - real.length, treatment === 'breaching');
    const evaluated = [...real, ...filled].sort((a, b) => a.timestamp - b.timestamp);
    const breaching = evaluated.filter((datapoint) => datapoint.breaching).length;
    return thresholdOutcome(input, range, evaluated, breaching >= m ? 'ALARM' : 'OK', m);
  }
  // `missing` and `ignore`: the real datapoints alone, each of them able to count.
  const required = Math.min(m, real.length);
  const breaching = real.filter((datapoint) => datapoint.breaching).length;
  const state: AlarmState = breaching >= required ? 'ALARM' : 'OK';
  if (treatment === 'ignore' && state === 'ALARM') return keep;
  return thresholdOutcome(input, range, real, state, required);
}

/** The most recent missing periods of the range, `count` of them, filled in as breaching or not. */
function fill(range: readonly RangeDatapoint[], real: readonly Evaluated[], count: number, breaching: boolean): Evaluated[] {
  const present = new Set(real.map((datapoint) => datapoint.timestamp));
  const missing = range.filter((datapoint) => datapoint.value === undefined && !present.has(datapoint.timestamp));
  return missing.slice(Math.max(0, missing.length - count)).map((datapoint) => ({
    timestamp: datapoint.timestamp,
    value: undefined,
    sampleCount: undefined,
    breaching,
    filled: true,
  }));
}

function thresholdOutcome(
  input: AlarmEvaluationInput,
  range: readonly RangeDatapoint[],
  evaluated: readonly Evaluated[],
  state: 'ALARM' | 'OK',
  datapointsToAlarm: number,
): AlarmEvaluationOutcome {
  if (state === input.currentState) return { state, reason: '', reasonData: undefined };
  const { config } = input;
  const toAlarm = state === 'ALARM';
  const realEvaluated = evaluated.filter((datapoint) => !datapoint.filled);
  const filled = evaluated.filter((datapoint) => datapoint.filled);
  // The datapoints that support the new state, newest first.
  const supporting = realEvaluated.filter((datapoint) => datapoint.breaching === toAlarm).reverse();
  const phrase = `${toAlarm ? '' : 'not '}${COMPARISON_PHRASES[config.comparisonOperator]}`;
  const threshold = javaDouble(config.threshold);
  const list = formatDatapointList(supporting);
  let reason: string;
  if (realEvaluated.length === 1 && filled.length === 0 && config.evaluationPeriods === 1) {
    reason = `Threshold Crossed: 1 datapoint ${list} was ${phrase} the threshold (${threshold}).`;
  } else {
    const count = supporting.length;
    // To go to OK, fewer than M datapoints may breach: N - M + 1 must not.
    const minimum = toAlarm ? datapointsToAlarm : evaluated.length - datapointsToAlarm + 1;
    const fillNote =
      filled.length === 0
        ? ''
        : ` and ${filled.length} missing datapoint${filled.length === 1 ? ' was' : 's were'} treated as [${filled[0]?.breaching ? 'Breaching' : 'NonBreaching'}]`;
    reason =
      `Threshold Crossed: ${count} out of the last ${realEvaluated.length} datapoints ${list} ${count === 1 ? 'was' : 'were'} ${phrase} the threshold (${threshold})` +
      `${fillNote} (minimum ${minimum} datapoint${minimum === 1 ? '' : 's'} for ${input.currentState} -> ${state} transition).`;
  }
  return { state, reason, reasonData: reasonData(input, range, evaluated) };
}

const COMPARISON_PHRASES: Record<StaticComparisonOperator, string> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

const MAX_LISTED_DATAPOINTS = 20;

function formatDatapointList(datapoints: readonly Evaluated[]): string {
  const shown = datapoints.slice(0, MAX_LISTED_DATAPOINTS).map((datapoint) => `${javaDouble(datapoint.value ?? 0)} (${reasonDate(datapoint.timestamp)})`);
  if (datapoints.length > MAX_LISTED_DATAPOINTS) shown.push('...');
  return `[${shown.join(', ')}]`;
}

function reasonData(input: AlarmEvaluationInput, range: readonly RangeDatapoint[], evaluated: readonly Evaluated[] | undefined): string {
  const { config } = input;
  const percentile = config.statistic.startsWith('p');
  const data: Record<string, unknown> = {
    version: '1.0',
    queryDate: isoDate(input.at),
    startDate: isoDate(range[0]?.timestamp ?? input.at),
    ...(percentile ? { extendedStatistic: config.statistic } : { statistic: config.statistic }),
    ...(config.unit !== undefined ? { unit: config.unit } : {}),
    period: config.periodSeconds,
    recentDatapoints: range.flatMap((datapoint) => (datapoint.value === undefined ? [] : [datapoint.value])),
    threshold: config.threshold,
  };
  if (evaluated) {
    data.evaluatedDatapoints = [...evaluated]
      .sort((a, b) => b.timestamp - a.timestamp)
      .map((datapoint) => ({
        timestamp: isoDate(datapoint.timestamp),
        ...(datapoint.sampleCount !== undefined ? { sampleCount: datapoint.sampleCount } : {}),
        ...(datapoint.value !== undefined ? { value: datapoint.value } : {}),
      }));
  }
  return JSON.stringify(data);
}

/** "2026-01-01T09:05:00.000+0000", the form CloudWatch uses in StateReasonData. */
function isoDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

/** "01/01/26 09:05:00" (dd/MM/yy HH:mm:ss, UTC), the form CloudWatch uses in StateReason. */
export function reasonDate(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCFullYear() % 100)} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** A double as Java's Double.toString prints it, as CloudWatch's reasons show values: 5.0, 0.25, 1.0E7. */
export function javaDouble(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = String(value);
    return text.includes('.') || text.includes('e') ? text : `${text}.0`;
  }
  const [mantissa = '', exponent = '0'] = value.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}
