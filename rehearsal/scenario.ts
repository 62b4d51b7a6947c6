/**
 * A rehearsal scenario: the endpoint as it is before the release, the model version
 * being released, the traffic the endpoint serves, how the team's alarms are defined,
 * and the faults to inject from the catalogue. JSON or YAML, validated with zod;
 * errors name the field. The format is documented in docs/rehearsal.md.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../lambdas/domain/config';

const AlarmStateSchema = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
const rate = (what: string) =>
  z
    .number({ error: `expected ${what} as a number between 0 and 1` })
    .min(0, 'expected a rate >= 0')
    .max(1, 'expected a rate <= 1');
const atStep = z.number().int().min(1, 'expected a step number >= 1 (steps count from 1)').optional();
const afterSeconds = z.number().int().min(0, 'expected seconds >= 0').optional();
const forSeconds = z.number().int().min(1, 'expected seconds >= 1').optional();
const Role = z.enum(['candidate', 'baseline'], { error: "expected 'candidate' or 'baseline'" });

const LatencySchema = z
  .strictObject({
    p50: z.number().positive('expected a p50 latency > 0 ms'),
    p99: z.number().positive('expected a p99 latency > 0 ms'),
  })
  .refine((l) => l.p99 >= l.p50, { message: 'expected p99 >= p50', path: ['p99'] });

const BehaviourFields = {
  /** Share of requests answered 4xx (client errors). */
  errorRate4xx: rate('errorRate4xx'),
  /** Share of requests answered 5xx (model errors). */
  errorRate5xx: rate('errorRate5xx'),
  /** ModelLatency distribution (lognormal through p50 and p99), milliseconds. */
  latencyMs: LatencySchema,
  /** OverheadLatency distribution, milliseconds. */
  overheadLatencyMs: LatencySchema,
};

export const DEFAULT_BEHAVIOUR = {
  errorRate4xx: 0.002,
  errorRate5xx: 0.0005,
  latencyMs: { p50: 40, p99: 150 },
  overheadLatencyMs: { p50: 3, p99: 8 },
} as const;

export const TrafficSchema = z.strictObject({
  /** Requests per second the endpoint receives, split across variants by their current weight. */
  requestsPerSecond: z.number().min(0, 'expected requests per second >= 0').max(100_000, 'expected at most 100000 requests per second').default(20),
  /** Seed of the deterministic random draws (request counts, errors, latencies). */
  seed: z.number().int().default(1),
  baseline: z
    .strictObject({
      errorRate4xx: BehaviourFields.errorRate4xx.default(DEFAULT_BEHAVIOUR.errorRate4xx),
      errorRate5xx: BehaviourFields.errorRate5xx.default(DEFAULT_BEHAVIOUR.errorRate5xx),
      latencyMs: BehaviourFields.latencyMs.default({ ...DEFAULT_BEHAVIOUR.latencyMs }),
      overheadLatencyMs: BehaviourFields.overheadLatencyMs.default({ ...DEFAULT_BEHAVIOUR.overheadLatencyMs }),
    })
    // Parsed like a given {}, so the field defaults above fill it in.
    .prefault({}),
  /** The candidate's behaviour; each field unset is the baseline's. */
  candidate: z.strictObject(BehaviourFields).partial().default({}),
});
export type Traffic = z.infer<typeof TrafficSchema>;

export const METRIC_NAMES = ['Invocations', 'Invocation4XXErrors', 'Invocation5XXErrors', 'ModelLatency', 'OverheadLatency', 'InvocationsPerInstance'] as const;
const COMPARISONS = ['GreaterThanThreshold', 'GreaterThanOrEqualToThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'] as const;

/** How one of the target's alarms is defined in CloudWatch: the rehearsal creates it with PutMetricAlarm's semantics and evaluates it from the simulated metrics. */
export const AlarmDefinitionSchema = z
  .strictObject({
    /** A metric SageMaker publishes in AWS/SageMaker per EndpointName and VariantName. Latencies are in microseconds, as SageMaker publishes them. */
    metric: z.enum(METRIC_NAMES, { error: `expected one of ${METRIC_NAMES.join(', ')}` }),
    /** Which variant's metric: the release's candidate variant, the baseline variant, or a literal variant name. */
    variant: z.string().min(1).default('candidate'),
    /** Average, Sum, SampleCount, Minimum, Maximum, or a percentile such as p99. */
    statistic: z
      .string()
      .regex(
        /^(Average|Sum|SampleCount|Minimum|Maximum|p(\d{1,2}(\.\d{1,2})?|100))$/,
        'expected Average, Sum, SampleCount, Minimum, Maximum or a percentile like p99',
      )
      .default('Average'),
    comparison: z.enum(COMPARISONS, { error: `expected one of ${COMPARISONS.join(', ')}` }).default('GreaterThanThreshold'),
    threshold: z.number({ error: 'expected a threshold as a number' }),
    /** SageMaker publishes invocation metrics once a minute, so shorter periods would never see a datapoint. */
    periodSeconds: z
      .number()
      .int()
      .refine((p) => p >= 60 && p % 60 === 0, 'expected a multiple of 60 seconds (SageMaker publishes invocation metrics once a minute)')
      .default(60),
    evaluationPeriods: z.number().int().min(1).default(1),
    datapointsToAlarm: z.number().int().min(1).optional(),
    treatMissingData: z
      .enum(['missing', 'notBreaching', 'breaching', 'ignore'], { error: 'expected missing, notBreaching, breaching or ignore' })
      .default('missing'),
  })
  .refine((a) => a.datapointsToAlarm === undefined || a.datapointsToAlarm <= a.evaluationPeriods, {
    message: 'expected datapointsToAlarm <= evaluationPeriods',
    path: ['datapointsToAlarm'],
  })
  .refine((a) => a.periodSeconds * a.evaluationPeriods <= 86_400, {
    message: 'expected periodSeconds x evaluationPeriods <= 86400 (CloudWatch evaluates at most one day)',
    path: ['evaluationPeriods'],
  });
export type AlarmDefinition = z.infer<typeof AlarmDefinitionSchema>;

export const FAULT_TYPES = [
  'error-spike',
  'latency-regression',
  'candidate-never-healthy',
  'insufficient-capacity',
  'throttling-burst',
  'endpoint-stuck-updating',
  'endpoint-failed',
  'endpoint-busy',
  'missing-alarm',
  'no-traffic-to-candidate',
  'silent-revert',
  'alarm',
] as const;

/** The fault catalogue; each entry is documented in docs/rehearsal.md. */
export const FaultSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      /** The candidate (or baseline) starts answering with more errors. */
      type: z.literal('error-spike'),
      version: Role.default('candidate'),
      errorRate5xx: rate('errorRate5xx').default(0.25),
      errorRate4xx: rate('errorRate4xx').optional(),
      atStep,
      afterSeconds,
      forSeconds,
    }),
    z.strictObject({
      /** The candidate (or baseline) gets slower: latencies times `factor`, or the given latencies. */
      type: z.literal('latency-regression'),
      version: Role.default('candidate'),
      /** Multiplies the p50 and p99 latencies. @default 3 (when latencyMs is not given) */
      factor: z.number().min(1, 'expected a factor >= 1').optional(),
      latencyMs: LatencySchema.optional(),
      atStep,
      afterSeconds,
      forSeconds,
    }),
    z.strictObject({
      /** Updates to a config with the candidate fail; SageMaker reverts to the old config and reports InService. */
      type: z.literal('candidate-never-healthy'),
      reportFailureReason: z.boolean().default(false),
    }),
    z.strictObject({
      /** SageMaker cannot provision the candidate's instances: its deployment fails with a capacity FailureReason. */
      type: z.literal('insufficient-capacity'),
    }),
    z.strictObject({
      /** The next `times` calls of each operation are throttled, from a step or a time on (default: from the start). */
      type: z.literal('throttling-burst'),
      service: z.enum(['sagemaker', 'cloudwatch']).default('sagemaker'),
      operations: z.array(z.string().regex(/^[A-Z][A-Za-z]+$/, 'expected an API operation name such as DescribeEndpoint')).min(1),
      times: z.number().int().min(1).max(100),
      atStep,
      afterSeconds,
    }),
    z.strictObject({
      /** The candidate's deployment takes this long: the endpoint stays Updating (or Creating). */
      type: z.literal('endpoint-stuck-updating'),
      forSeconds: z.number().int().min(1),
    }),
    z.strictObject({
      /** The endpoint goes Failed at a step or a time. */
      type: z.literal('endpoint-failed'),
      atStep,
      afterSeconds,
      reason: z.string().min(1).default('Rehearsal: the endpoint failed (injected fault)'),
    }),
    z.strictObject({
      /** The endpoint is busy (for example another update) when the release starts. */
      type: z.literal('endpoint-busy'),
      status: z.enum(['Updating', 'Creating', 'SystemUpdating']).default('Updating'),
      forSeconds: z.number().int().min(1),
    }),
    z.strictObject({
      /** A configured alarm that does not exist in CloudWatch. */
      type: z.literal('missing-alarm'),
      alarm: z.string().min(1),
    }),
    z.strictObject({
      /** Clients pin every request to the other variants (TargetVariant): the candidate serves nothing. */
      type: z.literal('no-traffic-to-candidate'),
    }),
    z.strictObject({
      /** The weight change of a step is accepted, then silently reverted: InService with the old weights. */
      type: z.literal('silent-revert'),
      atStep: z.number().int().min(1).default(1),
    }),
    z.strictObject({
      /** Forces an alarm's state (SetAlarmState) at a step or a time; an alarm evaluated from metrics returns to its computed state at the next evaluation. */
      type: z.literal('alarm'),
      alarm: z.string().min(1),
      state: AlarmStateSchema.default('ALARM'),
      atStep,
      afterSeconds,
      reason: z.string().optional(),
    }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `expected a fault type: ${FAULT_TYPES.join(', ')}` : undefined) },
);
export type Fault = z.infer<typeof FaultSchema>;
// Every fault type has a schema, and every schema is listed.
const _faultTypesComplete: Fault['type'] extends (typeof FAULT_TYPES)[number] ? ((typeof FAULT_TYPES)[number] extends Fault['type'] ? true : never) : never =
  true;
void _faultTypesComplete;

/** Target fields a scenario (or `--policy`) may override for a what-if; merged into the target and validated like the config. */
export const PolicyOverrideSchema = z.strictObject({
  strategy: z.unknown().optional(),
  alarms: z.unknown().optional(),
  onInsufficientData: z.unknown().optional(),
  alarmCheckSeconds: z.unknown().optional(),
  endpointWait: z.unknown().optional(),
  candidate: z.unknown().optional(),
});
export type PolicyOverride = z.infer<typeof PolicyOverrideSchema>;

export const ExpectationSchema = z.strictObject({
  status: z.enum(['SUCCEEDED', 'FAILED']),
  /** The execution's error, for a FAILED one (ReleaseRolledBack, RollbackFailed, ...). */
  error: z.string().optional(),
  /** The model package version serving all traffic at the end; null: the endpoint does not exist. */
  liveVersion: z.number().int().min(1).nullable().optional(),
});
export type Expectation = z.infer<typeof ExpectationSchema>;

export const ScenarioSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/, 'expected a name of 1-80 letters, digits, dots, hyphens or underscores'),
  description: z.string().optional(),
  /** Target name from the config. @default the first target */
  target: z.string().optional(),
  /** Overrides of the target's policy, for a what-if. */
  policy: PolicyOverrideSchema.optional(),
  /** The version live before the release; null means the endpoint does not exist yet. @default 1 */
  baselineVersion: z.number().int().min(1).nullable().default(1),
  candidate: z
    .strictObject({
      version: z.number().int().min(1).default(2),
      status: z.enum(['Approved', 'Rejected', 'PendingManualApproval']).default('Approved'),
    })
    .default({ version: 2, status: 'Approved' }),
  /** How the execution is started: the approval event, the manual input, or a raw input (for malformed-input rehearsals). */
  start: z.union([z.enum(['event', 'manual']), z.strictObject({ raw: z.unknown() })]).default('event'),
  traffic: TrafficSchema.prefault({}),
  /** Definitions of the target's alarms, by name. An alarm without one exists in state OK and changes only by an `alarm` fault. */
  alarms: z.record(z.string().min(1).max(255), AlarmDefinitionSchema).default({}),
  faults: z.array(FaultSchema).default([]),
  /** What the rehearsal must end with; `rehearse` exits with status 1 when it does not. */
  expect: ExpectationSchema.optional(),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

export class InvalidScenarioError extends Error {
  override readonly name = 'InvalidScenarioError';
}

export function parseScenario(document: unknown, source = 'scenario'): Scenario {
  const result = ScenarioSchema.safeParse(document);
  if (!result.success) throw new InvalidScenarioError(`Invalid ${source}:\n  ${formatIssues(result.error).join('\n  ')}`);
  const scenario = result.data;
  const problems: string[] = [];
  for (const [i, fault] of scenario.faults.entries()) {
    if ('atStep' in fault && 'afterSeconds' in fault && fault.atStep !== undefined && fault.afterSeconds !== undefined) {
      problems.push(`faults[${i}]: expected either atStep or afterSeconds, not both`);
    }
    if (fault.type === 'latency-regression' && fault.latencyMs !== undefined && fault.factor !== undefined) {
      problems.push(`faults[${i}]: expected either factor or latencyMs, not both`);
    }
  }
  if (problems.length > 0) throw new InvalidScenarioError(`Invalid ${source}:\n  ${problems.join('\n  ')}`);
  return scenario;
}

/** Reads a scenario file: `.json`, `.yaml` or `.yml`. Errors name the file (and the line, for a syntax error). */
export function loadScenarioFile(path: string): Scenario {
  return parseScenario(readStructuredFile(path, 'scenario'), `scenario ${path}`);
}

/** Reads a JSON or YAML document by extension; syntax errors name the file and position. */
export function readStructuredFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidScenarioError(`Cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  const extension = extname(path).toLowerCase();
  try {
    if (extension === '.yaml' || extension === '.yml') return parseYaml(text) as unknown;
    if (extension === '.json') return JSON.parse(text) as unknown;
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})` : '';
    throw new InvalidScenarioError(`Cannot parse ${what} ${path}${where}: ${(error as Error).message.split('\n')[0]}`);
  }
  throw new InvalidScenarioError(`Cannot read ${what} ${path}: expected a .json, .yaml or .yml file`);
}
