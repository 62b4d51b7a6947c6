/**
 * The ledger's single-table model: per endpoint one partition (`pk` = `endpoint#<name>`)
 * that holds the endpoint's lock, one record per release and the last known good
 * version. Pure: the key builders, the item schemas and the lease arithmetic; the
 * DynamoDB calls live in lambdas/aws/ledger.ts.
 */
import { z } from 'zod';
import { VerdictSchema } from '../contracts';
import { formatIssues } from './config';
import { CorruptLedgerItemError } from './errors';

/** Key attributes of the ledger table, shared by the CDK table and the tests (`S` = string, as CDK's AttributeType.STRING). */
export const LEDGER_KEY_SCHEMA = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
} as const;

export const LOCK_SK = 'lock';
export const LAST_KNOWN_GOOD_SK = 'last-known-good';
export const RELEASE_SK_PREFIX = 'release#';

export interface LedgerKey {
  readonly pk: string;
  readonly sk: string;
}

export function endpointPk(endpointName: string): string {
  if (!endpointName) throw new Error('The ledger needs an endpoint name');
  return `endpoint#${endpointName}`;
}

export const lockKey = (endpointName: string): LedgerKey => ({ pk: endpointPk(endpointName), sk: LOCK_SK });

export const lastKnownGoodKey = (endpointName: string): LedgerKey => ({ pk: endpointPk(endpointName), sk: LAST_KNOWN_GOOD_SK });

/**
 * A release's sort key. ISO timestamps of one format sort as text in time order, so a
 * Query on `release#` with ScanIndexForward=false lists the newest release first; the
 * execution name makes two releases started in the same millisecond distinct.
 */
export function releaseSk(startedAt: string, executionName: string): string {
  if (!IsoTimestamp.safeParse(startedAt).success) throw new Error(`A release's startedAt must be an ISO timestamp, got "${startedAt}"`);
  if (!executionName) throw new Error('A release needs an execution name');
  return `${RELEASE_SK_PREFIX}${startedAt}#${executionName}`;
}

export const releaseKey = (ref: ReleaseRef): LedgerKey => ({ pk: endpointPk(ref.endpointName), sk: releaseSk(ref.startedAt, ref.executionName) });

/** Identifies one release record. */
export interface ReleaseRef {
  readonly endpointName: string;
  readonly startedAt: string;
  readonly executionName: string;
}

/** UTC with milliseconds, as Date.toISOString() writes it: one format, so timestamps sort and compare as text. */
const IsoTimestamp = z.iso.datetime({ precision: 3 });
const EpochSeconds = z.number().int().min(0);

export const LockSchema = z.object({
  endpointName: z.string().min(1),
  /** The execution ARN that holds the lock. */
  owner: z.string().min(1),
  /** What the holder does: a release, a rollback to the last known good version, or a recovery. */
  action: z.enum(['release', 'rollback', 'recover']).default('release'),
  /** Set once the holder has planned its release. */
  releaseId: z.string().min(1).optional(),
  modelPackageArn: z.string().min(1).optional(),
  acquiredAt: IsoTimestamp,
  /** Epoch seconds; once past, another execution may take the lock over. */
  leaseExpiresAt: EpochSeconds,
  /** An operator's rollback of the release in flight: its next check rolls back. */
  abortRequested: z.object({ reason: z.string(), requestedBy: z.string(), at: IsoTimestamp }).optional(),
  /** The holder waits at its approval gate for this task token. */
  approval: z.object({ taskToken: z.string().min(1), releaseId: z.string(), requestedAt: IsoTimestamp, expiresAt: IsoTimestamp }).optional(),
});
export type Lock = z.infer<typeof LockSchema>;

export const RELEASE_STATUSES = ['running', 'succeeded', 'rolled-back', 'failed', 'superseded', 'nothing-to-do'] as const;
export const ReleaseStatusSchema = z.enum(RELEASE_STATUSES);
export type ReleaseStatus = z.infer<typeof ReleaseStatusSchema>;
export type FinalReleaseStatus = Exclude<ReleaseStatus, 'running'>;

export const ReleaseStepRecordSchema = z.object({
  /** 0-based, as the workflow's progress.stepIndex. */
  index: z.number().int().min(0),
  weightPercent: z.number().min(0).max(100),
  startedAt: IsoTimestamp,
  endedAt: IsoTimestamp.optional(),
  verdict: VerdictSchema.optional(),
});
export type ReleaseStepRecord = z.infer<typeof ReleaseStepRecordSchema>;

export const ReleaseRecordSchema = z.object({
  endpointName: z.string().min(1),
  executionArn: z.string().min(1),
  executionName: z.string().min(1),
  releaseId: z.string().min(1),
  modelPackageArn: z.string().min(1),
  version: z.number().int().min(1),
  /** `event` (a model package approval), `operator` (a manual input), or who else asked. */
  requestedBy: z.string().min(1),
  policy: z.record(z.string(), z.unknown()),
  status: ReleaseStatusSchema,
  steps: z.array(ReleaseStepRecordSchema),
  reason: z.string().optional(),
  startedAt: IsoTimestamp,
  endedAt: IsoTimestamp.optional(),
  /** The frozen plan (lambdas/contracts.ts Release): what a recovery rolls back. */
  plan: z.record(z.string(), z.unknown()).optional(),
  /** Set when another execution restored the endpoint after this release was interrupted. */
  recovery: z
    .object({ by: z.string(), at: IsoTimestamp, ownerStatus: z.string(), action: z.enum(['rolled-back', 'completed-promotion', 'nothing-to-undo']) })
    .optional(),
  /** The answer at the approval gate. */
  approval: z
    .object({ decision: z.enum(['approved', 'rejected', 'timed-out', 'aborted']), by: z.string(), at: IsoTimestamp, note: z.string().optional() })
    .optional(),
});
export type ReleaseRecord = z.infer<typeof ReleaseRecordSchema>;

export const LastKnownGoodSchema = z.object({
  endpointName: z.string().min(1),
  version: z.number().int().min(1),
  modelPackageArn: z.string().min(1),
  variantName: z.string().min(1),
  endpointConfigName: z.string().min(1),
  releasedAt: IsoTimestamp,
  executionArn: z.string().min(1),
});
export type LastKnownGood = z.infer<typeof LastKnownGoodSchema>;

export const toEpochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** A lease has expired once its expiry lies strictly before now. */
export function leaseExpired(lock: Pick<Lock, 'leaseExpiresAt'>, nowEpochSeconds: number): boolean {
  return lock.leaseExpiresAt < nowEpochSeconds;
}

/** Can `owner` take this lock now? Yes if nobody holds it, the lease expired, or `owner` holds it already. */
export function lockAvailableTo(lock: Pick<Lock, 'owner' | 'leaseExpiresAt'> | undefined, owner: string, nowEpochSeconds: number): boolean {
  return lock === undefined || lock.owner === owner || leaseExpired(lock, nowEpochSeconds);
}

/** A lease is a whole number of seconds, at least one. */
export function assertLeaseSeconds(leaseSeconds: number): void {
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) throw new Error(`A lease must last at least 1 whole second, got ${leaseSeconds}`);
}

export function newLock(
  input: Pick<Lock, 'endpointName' | 'owner'> & Partial<Pick<Lock, 'releaseId' | 'modelPackageArn' | 'action'>> & { leaseSeconds: number; now: Date },
): Lock {
  assertLeaseSeconds(input.leaseSeconds);
  return LockSchema.parse({
    endpointName: input.endpointName,
    owner: input.owner,
    action: input.action ?? 'release',
    releaseId: input.releaseId,
    modelPackageArn: input.modelPackageArn,
    acquiredAt: input.now.toISOString(),
    leaseExpiresAt: toEpochSeconds(input.now) + input.leaseSeconds,
  });
}

export const isFinal = (status: ReleaseStatus): status is FinalReleaseStatus => status !== 'running';

/** Validates an item read from the table; a corrupt item raises CorruptLedgerItem naming its key and fields. */
export function parseLedgerItem<S extends z.ZodType>(schema: S, item: Record<string, unknown>): z.infer<S> {
  const result = schema.safeParse(item);
  if (!result.success) {
    const issues = formatIssues(result.error);
    throw new CorruptLedgerItemError(`Ledger item ${String(item.pk)} / ${String(item.sk)} is corrupt: ${issues.join('; ')}`, issues);
  }
  return result.data;
}
