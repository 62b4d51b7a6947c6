/**
 * The state machine payload: what each task reads and returns. lib/release-workflow.ts
 * wires these paths, the handlers validate them with the schemas below, and the
 * rehearsal reads them for its timeline. Keep names here and in the workflow in step.
 */
import { z } from 'zod';

/**
 * The lease tasks renew the endpoint lock with: longer than any wait between two tasks
 * (a rollback's retries included), except the approval gate, which renews for its own
 * timeout. A holder whose execution has ended is detected at once (DescribeExecution);
 * the lease only frees a lock whose holder hangs.
 */
export const LEASE_SECONDS_DEFAULT = 3600;

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
  /** The approval gate before promotion; null: promote without asking. */
  approval: z
    .object({ timeoutSeconds: z.number().int().min(1) })
    .nullable()
    .default(null),
  /** `release` for an approved version or a manual release; `rollback` re-releases the last known good version. */
  kind: z.enum(['release', 'rollback']).default('release'),
  /** Who asked: `model registry approval` for an event, else the operator's requestedBy. */
  requestedBy: z.string().default('unknown'),
  /** The lease the workflow's tasks renew the endpoint lock with. */
  leaseSeconds: z.number().int().min(60).default(LEASE_SECONDS_DEFAULT),
});
export type Release = z.infer<typeof ReleaseSchema>;

/** What every task that touches the ledger is told about its execution (from the context object `$$.Execution`). */
export const ExecutionContextSchema = z.object({
  arn: z.string().min(1),
  name: z.string().min(1),
  /** `$$.Execution.StartTime`; normalised to ISO with milliseconds, it keys the execution's release record. */
  startedAt: z.string().min(1),
});
export type ExecutionContext = z.infer<typeof ExecutionContextSchema>;

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
    /** When the approval status last changed: duplicates of one change share it, a re-approval does not. */
    LastModifiedTime: z.union([z.string(), z.number()]).optional(),
  }),
});

const requestedBy = z
  .string({ error: 'expected requestedBy as a string (who asks, for the ledger)' })
  .min(1, 'expected requestedBy to name who asks')
  .max(256, 'expected requestedBy of at most 256 characters')
  .optional();
const operatorEndpointName = z
  .string({ error: 'expected endpointName as a string' })
  .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'expected endpointName: 1-63 letters, digits or hyphens, starting with a letter or digit');
const releaseIdField = z
  .string({ error: 'expected releaseId as a string' })
  .regex(/^v\d+-[0-9a-f]{8}$/, 'expected releaseId like v3-1a2b3c4d (see `smrm status`)')
  .optional();
const note = (field: string) =>
  z
    .string({ error: `expected ${field} as a string` })
    .max(1024, `expected ${field} of at most 1024 characters`)
    .optional();

/** Documented manual input: `{ "action": "release", "modelPackageArn": "arn:aws:sagemaker:...:model-package/group/3" }`. */
export const ManualReleaseInputSchema = z.strictObject({
  action: z.literal('release'),
  modelPackageArn: z
    .string({ error: 'expected modelPackageArn as a string' })
    .regex(
      /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[^/]+\/\d+$/,
      'expected modelPackageArn of a versioned model package, like arn:aws:sagemaker:eu-west-1:123456789012:model-package/my-group/3',
    ),
  requestedBy,
});

/** `{ "action": "rollback", "endpointName": "..." }`: abort the release in flight, or re-release the last known good version. */
export const RollbackRequestSchema = z.strictObject({
  action: z.literal('rollback'),
  endpointName: operatorEndpointName,
  reason: note('reason'),
  requestedBy,
});
/** `{ "action": "approve", "endpointName": "..." }`: let the release waiting at the approval gate promote. */
export const ApproveRequestSchema = z.strictObject({
  action: z.literal('approve'),
  endpointName: operatorEndpointName,
  releaseId: releaseIdField,
  comment: note('comment'),
  requestedBy,
});
/** `{ "action": "reject", "endpointName": "..." }`: roll back the release waiting at the approval gate. */
export const RejectRequestSchema = z.strictObject({
  action: z.literal('reject'),
  endpointName: operatorEndpointName,
  releaseId: releaseIdField,
  reason: note('reason'),
  requestedBy,
});
/** `{ "action": "recover", "endpointName": "..." }`: restore the baseline after an interrupted release and free the lock. */
export const RecoverRequestSchema = z.strictObject({
  action: z.literal('recover'),
  endpointName: operatorEndpointName,
  requestedBy,
});

export const OPERATOR_ACTIONS = ['release', 'rollback', 'approve', 'reject', 'recover'] as const;
export const OperatorInputSchema = z.discriminatedUnion('action', [
  ManualReleaseInputSchema,
  RollbackRequestSchema,
  ApproveRequestSchema,
  RejectRequestSchema,
  RecoverRequestSchema,
]);
export type OperatorInput = z.infer<typeof OperatorInputSchema>;
export type RollbackRequest = z.infer<typeof RollbackRequestSchema>;
export type ApproveRequest = z.infer<typeof ApproveRequestSchema>;
export type RejectRequest = z.infer<typeof RejectRequestSchema>;
export type RecoverRequest = z.infer<typeof RecoverRequestSchema>;

export type ModelPackageStateChangeEvent = z.infer<typeof ModelPackageStateChangeEventSchema>;
export type ManualReleaseInput = z.infer<typeof ManualReleaseInputSchema>;
export type ReleaseRequest = ModelPackageStateChangeEvent | ManualReleaseInput;

// ---- Task payloads ---------------------------------------------------------

export const PlanInputSchema = z.object({
  input: z.unknown(),
  attempts: z.number().int().min(0),
  execution: ExecutionContextSchema,
});
export type PlanInput = z.infer<typeof PlanInputSchema>;
export interface PlanOutput {
  /** `superseded`: a newer version of the group was approved meanwhile; it is released instead. */
  decision: 'release' | 'nothing-to-do' | 'superseded' | 'wait-for-endpoint';
  reason: string;
  attempts: number;
  /** Seconds to wait before planning again (decision `wait-for-endpoint`). */
  pollSeconds: number;
  /** Present when the decision is `release`, else null. */
  release: Release | null;
}

export const ReleaseTaskInputSchema = z.object({
  release: ReleaseSchema,
  /** Present in the workflow: a task that changes the endpoint first checks that this execution still holds its lock. */
  execution: ExecutionContextSchema.optional(),
});
export type ReleaseTaskInput = z.infer<typeof ReleaseTaskInputSchema>;

export interface ExpectationOutput {
  expect: EndpointExpectation;
  /** What the task did, for the timeline and logs. */
  action: string;
}

export const PreviousCheckSchema = z.object({ for: z.string(), attempt: z.number().int().min(0) }).passthrough();
export const CheckInputSchema = z.object({
  release: ReleaseSchema,
  expect: EndpointExpectationSchema,
  previous: PreviousCheckSchema,
  /** Present in the workflow: the check renews the endpoint lock and honours an operator's rollback. */
  execution: ExecutionContextSchema.optional(),
});
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
  /** When the step's shift was asked for (ISO); the ledger's step record starts there. */
  startedAt: z.string().optional(),
  expect: EndpointExpectationSchema.optional(),
});
export type Progress = z.infer<typeof ProgressSchema>;
export const ShiftInputSchema = z.object({ release: ReleaseSchema, progress: ProgressSchema, execution: ExecutionContextSchema.optional() });
export type ShiftInput = z.infer<typeof ShiftInputSchema>;
export type ShiftOutput = Required<Omit<Progress, 'expect'>> & { expect: EndpointExpectation; action: string };

export const PreviousBakeSchema = z.object({ stepIndex: z.number().int(), checksDone: z.number().int().min(0) }).passthrough();
export const EvaluateInputSchema = z.object({
  release: ReleaseSchema,
  progress: ProgressSchema,
  previous: PreviousBakeSchema,
  execution: ExecutionContextSchema.optional(),
});
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
export const RollbackInputSchema = z.object({ release: ReleaseSchema, failure: FailureSchema, execution: ExecutionContextSchema.optional() });
export type RollbackInput = z.infer<typeof RollbackInputSchema>;
export interface RollbackOutput extends ExpectationOutput {
  /** Human-readable reason, used as the execution's failure cause. */
  reason: string;
}

// ---- Endpoint lock, outcomes, approval gate, operator decisions ------------------

/** `$.lock`: the lock loop's state; `{ attempts: 0 }` before the first attempt. */
export const PreviousLockSchema = z
  .object({
    attempts: z.number().int().min(0),
    settled: z.boolean().optional(),
    waitedSeconds: z.number().min(0).optional(),
  })
  .passthrough();
export const TakeLockInputSchema = z.object({ input: z.unknown(), execution: ExecutionContextSchema, previous: PreviousLockSchema });
export type TakeLockInput = z.infer<typeof TakeLockInputSchema>;

/** The interrupted release a new holder of the lock must undo first. */
export const RecoverySchema = z.object({
  /** The interrupted release's plan: the rollback reconciles the endpoint toward its baseline. */
  release: ReleaseSchema,
  /** Execution ARN that held the lock, and what Step Functions says about it. */
  owner: z.string(),
  ownerStatus: z.string(),
  /** The interrupted release's record (its execution start time and name). */
  record: z.object({ startedAt: z.string(), executionName: z.string() }),
});
export type Recovery = z.infer<typeof RecoverySchema>;

export interface TakeLockOutput {
  /**
   * `acquired`: this execution holds the lock, go on. `wait`: wait waitSeconds and try again.
   * `recover`: the lock was taken over from an interrupted release whose endpoint must be restored first.
   * `abort-requested`: (rollback) the release in flight was asked to roll back; this execution is done.
   * `gave-up`: the lock stayed held for lock.waitTimeoutSeconds.
   * `nothing-to-recover`: (recover) the endpoint has no interrupted release.
   */
  outcome: 'acquired' | 'wait' | 'recover' | 'abort-requested' | 'gave-up' | 'nothing-to-recover';
  reason: string;
  endpointName: string;
  attempts: number;
  settled: boolean;
  waitSeconds: number;
  waitedSeconds: number;
  recover: Recovery | null;
}

export const FINAL_OUTCOMES = ['succeeded', 'rolled-back', 'failed', 'superseded', 'nothing-to-do', 'recovered', 'gave-up'] as const;
export type FinalOutcome = (typeof FINAL_OUTCOMES)[number];
export const RecordOutcomeInputSchema = z.object({
  outcome: z.enum(FINAL_OUTCOMES),
  execution: ExecutionContextSchema,
  endpointName: z.string().min(1),
  /** The release's plan when there is one (absent before the plan). */
  release: ReleaseSchema.nullable().optional(),
  /** For `recovered`: what was recovered. */
  recovered: RecoverySchema.nullable().optional(),
  reason: z.string().optional(),
  /** Keep the lock (a rollback that could not be completed: the next release must recover first). */
  keepLock: z.boolean().default(false),
});
export type RecordOutcomeInput = z.input<typeof RecordOutcomeInputSchema>;
export interface RecordOutcomeOutput {
  status: string;
  lock: 'released' | 'kept' | 'absent';
  event: string;
}

export const RequestApprovalInputSchema = z.object({ release: ReleaseSchema, execution: ExecutionContextSchema, taskToken: z.string().min(1) });
export type RequestApprovalInput = z.infer<typeof RequestApprovalInputSchema>;
/** What approve sends with SendTaskSuccess, and the gate's result in `$.approval`. */
export interface ApprovalDecision {
  approvedBy: string;
  comment?: string;
  at: string;
}

export const OperatorActionInputSchema = z.object({ input: z.unknown(), execution: ExecutionContextSchema });
export interface OperatorActionOutput {
  action: 'approve' | 'reject';
  endpointName: string;
  releaseId: string;
  /** The execution waiting at the gate. */
  releaseExecutionArn: string;
  reason: string;
}

/** Errors the approval gate ends with, for Catch and docs. */
export const GATE_ERRORS = { rejected: 'ReleaseRejected', aborted: 'ReleaseAborted', timeout: 'States.Timeout' } as const;
