/**
 * What the workflow's tasks share about the ledger: the key of the execution's release
 * record, the lock guard every forward task runs (the lock is still ours, its lease is
 * renewed, and an operator's rollback is honoured), and building lifecycle events from
 * a release.
 */
import type { ExecutionContext, Release } from '../contracts';
import { ledger } from '../aws/ledger';
import { lifecycleEvent, type LifecycleDetail, type LifecycleDetailType, type LifecycleEvent } from '../domain/events';
import type { Lock, ReleaseRecord, ReleaseRef } from '../domain/ledger';

/** `$$.Execution.StartTime` as the ledger keys it: ISO with milliseconds. */
export function isoOf(time: string): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw new Error(`Execution start time ${time} is not a timestamp`);
  return date.toISOString();
}

export function recordRef(execution: ExecutionContext, endpointName: string): ReleaseRef {
  return { endpointName, startedAt: isoOf(execution.startedAt), executionName: execution.name };
}

/** The execution ARN's last part is its name. */
export const executionNameOf = (executionArn: string): string => executionArn.split(':').pop() ?? executionArn;

/**
 * Renews the lease of the lock this execution holds and returns it. LockNotHeld when
 * another execution has taken it over: the caller must stop without touching the endpoint.
 */
export async function guardLock(release: Pick<Release, 'endpointName' | 'leaseSeconds'>, execution: ExecutionContext): Promise<Lock> {
  return ledger().updateLock({ endpointName: release.endpointName, owner: execution.arn, leaseSeconds: release.leaseSeconds, now: new Date() });
}

/** The config the endpoint runs once the release is promoted: a release that created the endpoint keeps its deploy config. */
export function promotedConfigOf(release: Pick<Release, 'baseline' | 'candidate'>): string {
  return release.baseline ? release.candidate.promotedConfigName : release.candidate.deployConfigName;
}

/** "aborted by alice: bad canary" for a lock whose holder an operator asked to roll back. */
export function abortReason(lock: Lock): string | undefined {
  const abort = lock.abortRequested;
  return abort && `rollback requested by ${abort.requestedBy}${abort.reason ? `: ${abort.reason}` : ''}`;
}

/** A lifecycle event about a release (its plan), for the execution that runs it. */
export function releaseEvent(
  detailType: LifecycleDetailType,
  release: Release,
  execution: ExecutionContext,
  extra: Partial<Pick<LifecycleDetail, 'reason' | 'step' | 'approval' | 'status'>> = {},
): LifecycleEvent {
  return lifecycleEvent(detailType, {
    endpointName: release.endpointName,
    targetName: release.targetName,
    executionArn: execution.arn,
    releaseId: release.releaseId,
    modelPackageArn: release.modelPackageArn,
    modelVersion: release.modelVersion,
    requestedBy: release.requestedBy,
    status: 'running',
    at: new Date().toISOString(),
    ...extra,
  });
}

/** A lifecycle event about a release as the ledger records it. */
export function recordEvent(
  detailType: LifecycleDetailType,
  record: ReleaseRecord,
  extra: Partial<Pick<LifecycleDetail, 'reason' | 'targetName'>> = {},
): LifecycleEvent {
  return lifecycleEvent(detailType, {
    endpointName: record.endpointName,
    executionArn: record.executionArn,
    releaseId: record.releaseId,
    modelPackageArn: record.modelPackageArn,
    modelVersion: record.version,
    requestedBy: record.requestedBy,
    status: record.status,
    ...(record.reason ? { reason: record.reason } : {}),
    at: new Date().toISOString(),
    ...extra,
  });
}

/** Records a promoted release as the endpoint's last known good version (unless a newer one is recorded). */
export async function setLastKnownGoodOf(release: Release, executionArn: string, releasedAt: string): Promise<'updated' | 'kept-newer'> {
  return ledger().setLastKnownGood({
    endpointName: release.endpointName,
    version: release.modelVersion,
    modelPackageArn: release.modelPackageArn,
    variantName: release.candidate.variantName,
    endpointConfigName: promotedConfigOf(release),
    releasedAt,
    executionArn,
  });
}
