/**
 * The state machine payload: what each task reads and returns. lib/release-workflow.ts
 * wires these paths, the handlers validate them with the schemas below, and the
 * rehearsal reads them for its timeline. Keep names here and in the workflow in step.
 */
import { z } from 'zod';

export const VerdictSchema = z.object({
  status: z.enum(['healthy', 'unhealthy', 'inconclusive']),
  reason: z.string(),
});
export type Verdict = z.infer<typeof VerdictSchema>;

export const PlannedStepSchema = z.object({
  weightPercent: z.number().int().min(1).max(100),
  bakeSeconds: z.number().int().min(0),
  checks: z.number().int().min(1),
  checkIntervalSeconds: z.number().int().min(0),
});

/** Everything a release needs, frozen by the plan so later config changes do not affect it. */
export const ReleaseSchema = z.object({
  releaseId: z.string(),
  targetName: z.string(),
  endpointName: z.string(),
  modelPackageGroupName: z.string(),
  modelPackageArn: z.string(),
  modelVersion: z.number().int().min(1),
  /** `create-endpoint` when the endpoint did not exist: the release creates it with the candidate alone. */
  mode: z.enum(['create-endpoint', 'update-endpoint']),
  candidate: z.object({
    modelName: z.string(),
    variantName: z.string(),
    deployConfigName: z.string(),
    promotedConfigName: z.string(),
    instanceType: z.string(),
    instanceCount: z.number().int().min(1),
    executionRoleArn: z.string(),
  }),
  baseline: z
    .object({
      configName: z.string(),
      variantName: z.string(),
      modelName: z.string(),
      /** The variant's weight before the release, restored on roll back. */
      weight: z.number().min(0),
    })
    .nullable(),
  steps: z.array(PlannedStepSchema).min(1),
  alarms: z.array(z.string()),
  onInsufficientData: z.enum(['proceed', 'roll-back']),
  endpointWait: z.object({ pollSeconds: z.number().int().min(0), maxPolls: z.number().int().min(1) }),
});
export type Release = z.infer<typeof ReleaseSchema>;

/** What the endpoint must look like once a change has been applied. */
export const EndpointExpectationSchema = z.object({
  /** Names the change (`deploy`, `step-2`, `promote`, ...); a new id restarts the poll count. */
  id: z.string(),
  endpointName: z.string(),
  /** The endpoint must not exist (it was deleted). */
  absent: z.boolean().default(false),
  configName: z.string().optional(),
  /** Exact set of variants and each one's share of traffic in percent. */
  weights: z.record(z.string(), z.number().min(0).max(100)).optional(),
});
export type EndpointExpectation = z.infer<typeof EndpointExpectationSchema>;

export const ObservedEndpointSchema = z.object({
  status: z.string(),
  configName: z.string().optional(),
  failureReason: z.string().optional(),
  variants: z.array(
    z.object({
      name: z.string(),
      currentWeight: z.number().optional(),
      desiredWeight: z.number().optional(),
      instances: z.number().optional(),
    }),
  ),
});
export type ObservedEndpoint = z.infer<typeof ObservedEndpointSchema>;

// ---- Execution input -------------------------------------------------------

/** The EventBridge event SageMaker emits; only the fields the release manager reads are required. */
export const ModelPackageStateChangeEventSchema = z.object({
  source: z.literal('aws.sagemaker'),
  'detail-type': z.literal('SageMaker Model Package State Change'),
  id: z.string().optional(),
  account: z.string().optional(),
  region: z.string().optional(),
  time: z.string().optional(),
  detail: z.object({
    ModelPackageGroupName: z.string({ error: 'expected detail.ModelPackageGroupName' }),
    ModelPackageArn: z.string({ error: 'expected detail.ModelPackageArn' }).startsWith('arn:', 'expected detail.ModelPackageArn to be an ARN'),
    ModelPackageVersion: z.number().int().optional(),
    ModelApprovalStatus: z.string().optional(),
  }),
});

/** Documented manual input: `{ "action": "release", "modelPackageArn": "arn:aws:sagemaker:...:model-package/group/3" }`. */
export const ManualReleaseInputSchema = z.strictObject({
  action: z.literal('release'),
  modelPackageArn: z
    .string({ error: 'expected modelPackageArn as a string' })
    .regex(
      /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[^/]+\/\d+$/,
      'expected modelPackageArn of a versioned model package, like arn:aws:sagemaker:eu-west-1:123456789012:model-package/my-group/3',
    ),
});

export type ModelPackageStateChangeEvent = z.infer<typeof ModelPackageStateChangeEventSchema>;
export type ManualReleaseInput = z.infer<typeof ManualReleaseInputSchema>;
export type ReleaseRequest = ModelPackageStateChangeEvent | ManualReleaseInput;

// ---- Task payloads ---------------------------------------------------------

export const PlanInputSchema = z.object({ input: z.unknown(), attempts: z.number().int().min(0) });
export type PlanInput = z.infer<typeof PlanInputSchema>;
export interface PlanOutput {
  decision: 'release' | 'nothing-to-do' | 'wait-for-endpoint';
  reason: string;
  attempts: number;
  /** Seconds to wait before planning again (decision `wait-for-endpoint`). */
  pollSeconds: number;
  /** Present when the decision is `release`, else null. */
  release: Release | null;
}

export const ReleaseTaskInputSchema = z.object({ release: ReleaseSchema });
export type ReleaseTaskInput = z.infer<typeof ReleaseTaskInputSchema>;

export interface ExpectationOutput {
  expect: EndpointExpectation;
  /** What the task did, for the timeline and logs. */
  action: string;
}

export const PreviousCheckSchema = z.object({ for: z.string(), attempt: z.number().int().min(0) }).passthrough();
export const CheckInputSchema = z.object({ release: ReleaseSchema, expect: EndpointExpectationSchema, previous: PreviousCheckSchema });
export type CheckInput = z.infer<typeof CheckInputSchema>;
export interface CheckOutput {
  for: string;
  attempt: number;
  outcome: 'in-progress' | 'as-expected' | 'failed';
  reason: string;
  /** The endpoint as read; null when it does not exist. */
  observed: ObservedEndpoint | null;
}

export const ProgressSchema = z.object({
  stepIndex: z.number().int().min(-1),
  weightPercent: z.number().optional(),
  checks: z.number().int().optional(),
  checkIntervalSeconds: z.number().int().optional(),
  isLastStep: z.boolean().optional(),
  expect: EndpointExpectationSchema.optional(),
});
export type Progress = z.infer<typeof ProgressSchema>;
export const ShiftInputSchema = z.object({ release: ReleaseSchema, progress: ProgressSchema });
export type ShiftInput = z.infer<typeof ShiftInputSchema>;
export type ShiftOutput = Required<Omit<Progress, 'expect'>> & { expect: EndpointExpectation; action: string };

export const PreviousBakeSchema = z.object({ stepIndex: z.number().int(), checksDone: z.number().int().min(0) }).passthrough();
export const EvaluateInputSchema = z.object({ release: ReleaseSchema, progress: ProgressSchema, previous: PreviousBakeSchema });
export type EvaluateInput = z.infer<typeof EvaluateInputSchema>;
export interface AlarmObservation {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';
  reason?: string;
}
export interface EvaluateOutput {
  stepIndex: number;
  checksDone: number;
  verdict: Verdict;
  alarms: AlarmObservation[];
  bakeComplete: boolean;
  moreSteps: boolean;
}

/** `$.failure`: why the release is rolling back, as Step Functions' Catch or the workflow recorded it. */
export const FailureSchema = z.object({ Error: z.string(), Cause: z.string().optional() }).passthrough();
export type Failure = z.infer<typeof FailureSchema>;
export const RollbackInputSchema = z.object({ release: ReleaseSchema, failure: FailureSchema });
export type RollbackInput = z.infer<typeof RollbackInputSchema>;
export interface RollbackOutput extends ExpectationOutput {
  /** Human-readable reason, used as the execution's failure cause. */
  reason: string;
}
