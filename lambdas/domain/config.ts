/**
 * The release manager's configuration: which model package groups release to which
 * endpoints, and with what policy. Validated with zod when the CDK app synthesizes
 * and again when the plan function loads it, so a bad file never reaches AWS.
 */
import { z } from 'zod';

/** SageMaker's pattern for model, endpoint, endpoint config and variant names. */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const IAM_ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const INSTANCE_TYPE_PATTERN = /^ml\.[a-z0-9-]+\.[a-z0-9]+$/;
/** CloudWatch alarm names: 1-255 printable characters. */
const ALARM_NAME_PATTERN = /^\P{Cc}{1,255}$/u;
/** Target names appear in logs and the CLI; keep them short and shell-friendly. */
const TARGET_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9-_.]{0,62}$/;

/** SageMaker's longest instance wait is hours; a year is the Step Functions execution limit. */
const MAX_SECONDS = 7 * 24 * 3600;

const sagemakerName = (what: string) =>
  z
    .string({ error: `expected ${what} as a string` })
    .regex(SAGEMAKER_NAME_PATTERN, `expected ${what}: 1-63 letters, digits or hyphens, starting with a letter or digit`);

const seconds = (what: string, min = 0) =>
  z
    .number({ error: `expected ${what} in seconds, as a number` })
    .int(`expected ${what} as whole seconds`)
    .min(min, `expected ${what} >= ${min} seconds`)
    .max(MAX_SECONDS, `expected ${what} <= ${MAX_SECONDS} seconds (7 days)`);

const weightPercent = z
  .number({ error: 'expected a traffic weight in percent, as a number' })
  .int('expected a whole percentage')
  .min(1, 'expected a weight of at least 1 %')
  .max(100, 'expected a weight of at most 100 %');

export const AllAtOnceStrategySchema = z.strictObject({
  type: z.literal('all-at-once'),
  /** How long the candidate serves 100 % of traffic, alarms watched, before the baseline is retired. */
  bakeSeconds: seconds('bakeSeconds'),
});

export const CanaryStrategySchema = z
  .strictObject({
    type: z.literal('canary'),
    steps: z
      .array(z.strictObject({ weightPercent, bakeSeconds: seconds('bakeSeconds') }), {
        error: 'expected a list of { weightPercent, bakeSeconds } steps',
      })
      .min(1, 'expected at least one canary step'),
    /**
     * Bake after the final shift to 100 %, when the last step is below 100 %.
     * @default the last step's bakeSeconds
     */
    finalBakeSeconds: seconds('finalBakeSeconds').optional(),
  })
  .superRefine((strategy, ctx) => {
    strategy.steps.forEach((step, i) => {
      const previous = strategy.steps[i - 1];
      if (previous && step.weightPercent <= previous.weightPercent) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'weightPercent'],
          message: `expected canary weights to increase strictly, but step ${i} (${step.weightPercent} %) follows ${previous.weightPercent} %`,
        });
      }
    });
  });

export const LinearStrategySchema = z.strictObject({
  type: z.literal('linear'),
  /** Traffic added to the candidate at each step; the last step is capped at 100 %. */
  stepPercent: weightPercent.max(99, 'expected stepPercent below 100 (use all-at-once for a single shift)'),
  /** Bake after every step. */
  intervalSeconds: seconds('intervalSeconds'),
});

export const StrategySchema = z.discriminatedUnion('type', [AllAtOnceStrategySchema, CanaryStrategySchema, LinearStrategySchema], {
  error: "expected strategy.type to be one of 'all-at-once', 'canary', 'linear'",
});

export const TargetSchema = z.strictObject({
  /** @default the endpoint name */
  name: z.string().regex(TARGET_NAME_PATTERN, 'expected a target name: 1-63 letters, digits, hyphens, dots or underscores').optional(),
  modelPackageGroupName: sagemakerName('a model package group name'),
  endpointName: sagemakerName('an endpoint name'),
  /** The role SageMaker assumes to run the model (CreateModel ExecutionRoleArn). */
  modelExecutionRoleArn: z
    .string({ error: 'expected an IAM role ARN as a string' })
    .regex(IAM_ROLE_ARN_PATTERN, 'expected an IAM role ARN like arn:aws:iam::123456789012:role/name'),
  candidate: z.strictObject({
    instanceType: z.string({ error: 'expected an instance type' }).regex(INSTANCE_TYPE_PATTERN, 'expected a SageMaker instance type like ml.m5.large'),
    instanceCount: z.number({ error: 'expected an instance count' }).int().min(1, 'expected at least 1 instance').max(100, 'expected at most 100 instances'),
  }),
  strategy: StrategySchema,
  /** Existing CloudWatch alarms watched during every bake. A missing alarm counts as unhealthy. */
  alarms: z
    .array(z.string().regex(ALARM_NAME_PATTERN, 'expected an alarm name of 1-255 printable characters'))
    .max(100, 'expected at most 100 alarms (DescribeAlarms limit)')
    .default([]),
  /**
   * What an alarm in INSUFFICIENT_DATA means during a bake: `proceed` treats it as
   * inconclusive but not failing (SageMaker deployment guardrails behave this way);
   * `roll-back` fails closed.
   * @default 'proceed'
   */
  onInsufficientData: z.enum(['proceed', 'roll-back'], { error: "expected 'proceed' or 'roll-back'" }).default('proceed'),
  /** How often alarms are checked during a bake. @default 60 */
  alarmCheckSeconds: seconds('alarmCheckSeconds', 10).default(60),
  endpointWait: z
    .strictObject({
      /** How long to wait for the endpoint to be InService after each change. @default 3600 */
      timeoutSeconds: seconds('endpointWait.timeoutSeconds', 60).default(3600),
      /** DescribeEndpoint polling interval; 30 s or more avoids throttling. @default 30 */
      pollSeconds: seconds('endpointWait.pollSeconds', 30).default(30),
    })
    .default({ timeoutSeconds: 3600, pollSeconds: 30 }),
  /**
   * An approval gate before promotion: after the last bake the release waits for an
   * operator's `approve` (or `reject`); with no answer within timeoutSeconds it rolls back.
   * Absent: no gate.
   */
  approval: z
    .strictObject({
      /** How long the release waits for an answer before it rolls back. @default 86400 (one day) */
      timeoutSeconds: seconds('approval.timeoutSeconds', 60).default(86_400),
    })
    .optional(),
  /** How a release waits for the endpoint lock while another release of the endpoint runs. */
  lock: z
    .strictObject({
      /**
       * How long an approved version waits for newer approvals of its group before it takes
       * the lock; a newer approved version then supersedes it. Registry events only. @default 30
       */
      settleSeconds: seconds('lock.settleSeconds').default(30),
      /** The longest a release waits for the lock before it gives up (EndpointLocked). @default 14400 (4 hours) */
      waitTimeoutSeconds: seconds('lock.waitTimeoutSeconds', 60).default(14_400),
      /** First backoff between lock attempts; it doubles up to maxBackoffSeconds. @default 30 */
      backoffSeconds: seconds('lock.backoffSeconds', 1).default(30),
      /** @default 300 */
      maxBackoffSeconds: seconds('lock.maxBackoffSeconds', 1).default(300),
    })
    .refine((lock) => lock.maxBackoffSeconds >= lock.backoffSeconds, {
      message: 'expected lock.maxBackoffSeconds >= lock.backoffSeconds',
      path: ['maxBackoffSeconds'],
    })
    .default({ settleSeconds: 30, waitTimeoutSeconds: 14_400, backoffSeconds: 30, maxBackoffSeconds: 300 }),
});

export const ReleaseManagerConfigSchema = z
  .strictObject({
    targets: z.array(TargetSchema, { error: 'expected targets to be a list' }).min(1, 'expected at least one target'),
  })
  .superRefine((config, ctx) => {
    const seen = { endpointName: new Map<string, number>(), modelPackageGroupName: new Map<string, number>(), name: new Map<string, number>() };
    config.targets.forEach((target, i) => {
      for (const field of ['endpointName', 'modelPackageGroupName', 'name'] as const) {
        const value = field === 'name' ? targetName(target) : target[field];
        const first = seen[field].get(value);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['targets', i, field],
            message: `expected each ${field} once, but '${value}' is also used by targets[${first}]`,
          });
        } else {
          seen[field].set(value, i);
        }
      }
    });
  });

export type StrategyConfig = z.infer<typeof StrategySchema>;
export type TargetConfig = z.infer<typeof TargetSchema>;
export type TargetConfigInput = z.input<typeof TargetSchema>;
export type ReleaseManagerConfig = z.infer<typeof ReleaseManagerConfigSchema>;
export type ReleaseManagerConfigInput = z.input<typeof ReleaseManagerConfigSchema>;

export function targetName(target: Pick<TargetConfig, 'name' | 'endpointName'>): string {
  return target.name ?? target.endpointName;
}

/** Raised for a configuration that does not match the schema; the message lists every problem with its field. */
export class InvalidConfigurationError extends Error {
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
    this.name = 'InvalidConfigurationError';
  }
}

/** Formats zod issues as `field.path: message` lines. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '');
    return `${path || '(root)'}: ${issue.message}`;
  });
}

/** Validates a parsed configuration document; `source` names it in the error. */
export function parseConfig(document: unknown, source = 'configuration'): ReleaseManagerConfig {
  const result = ReleaseManagerConfigSchema.safeParse(document);
  if (!result.success) {
    const issues = formatIssues(result.error);
    throw new InvalidConfigurationError(`Invalid ${source}:\n  ${issues.join('\n  ')}`, issues);
  }
  return result.data;
}
