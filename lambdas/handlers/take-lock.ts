/**
 * Task "Take the endpoint lock": one release per endpoint at a time. A registry approval
 * first waits lock.settleSeconds for newer approvals; then the task takes the lock, or
 * returns how long to wait (exponential backoff, bounded by lock.waitTimeoutSeconds).
 * A lock whose holder has ended (stopped, failed, timed out) or whose lease expired is
 * taken over; if its release changed the endpoint, the task returns it to be recovered.
 * A `rollback` request with a release in flight asks that release to roll back instead.
 */
import { LEASE_SECONDS_DEFAULT, ReleaseSchema, TakeLockInputSchema, type ExecutionContext, type Release, type TakeLockOutput } from '../contracts';
import { ledger } from '../aws/ledger';
import { publishLifecycleEvents } from '../aws/events';
import { describeEndpoint, observe } from '../aws/sagemaker';
import { completeTask, executionStatus } from '../aws/sfn';
import type { ReleaseManagerConfig, TargetConfig } from '../domain/config';
import { LIFECYCLE_DETAIL_TYPES } from '../domain/events';
import { InvalidReleaseInputError, LockHeldError, LockNotHeldError } from '../domain/errors';
import { leaseExpired, toEpochSeconds, type Lock, type ReleaseRecord } from '../domain/ledger';
import { releaseNames, shortHash } from '../domain/names';
import { parseExecutionRequest, targetOfRequest, versionOfPackageArn, type EndpointRequest } from '../domain/request';
import { configuredHandler, logger, parseTaskInput } from './common';
import { executionNameOf, recordEvent, setLastKnownGoodOf } from './ledger-support';

/** Step Functions statuses of an execution that may still act on the endpoint. */
const LIVE_STATUSES = new Set(['RUNNING', 'PENDING_REDRIVE']);

/** Exponential backoff with deterministic jitter (50-100 %), so a burst of waiters spreads out and a rehearsal repeats exactly. */
export function backoffSeconds(lock: TargetConfig['lock'], attempts: number, executionName: string): number {
  const base = Math.min(lock.backoffSeconds * 2 ** Math.min(attempts, 20), lock.maxBackoffSeconds);
  const jitter = 0.5 + (parseInt(shortHash(`${executionName}#${attempts}`), 16) / 0xffffffff) * 0.5;
  return Math.max(1, Math.round(base * jitter));
}

export function configured(config: ReleaseManagerConfig): (event: unknown) => Promise<TakeLockOutput> {
  return async function takeLock(event) {
    const { input, execution, previous } = parseTaskInput(TakeLockInputSchema, event);
    const request = parseExecutionRequest(input);
    if (request.kind === 'approve' || request.kind === 'reject') {
      throw new InvalidReleaseInputError(`Action ${request.kind} answers an approval gate; it does not take the endpoint lock`);
    }
    const target = targetOfRequest(config, request);
    const endpointName = target.endpointName;
    const attempts = previous.attempts;
    const waitedSeconds = previous.waitedSeconds ?? 0;
    const base = { endpointName, attempts, settled: previous.settled ?? false, waitSeconds: 0, waitedSeconds, recover: null };

    if (request.kind === 'release' && request.origin === 'event' && !base.settled && target.lock.settleSeconds > 0) {
      return {
        ...base,
        outcome: 'wait',
        settled: true,
        waitSeconds: target.lock.settleSeconds,
        reason: `waiting ${target.lock.settleSeconds} s for newer approvals in group ${target.modelPackageGroupName}`,
      };
    }
    const settled = { ...base, settled: true };

    const now = new Date();
    const version = request.kind === 'release' ? versionOfPackageArn(request.modelPackageArn) : undefined;
    const identity =
      request.kind === 'release' && version !== undefined
        ? { releaseId: releaseNames(endpointName, request.modelPackageArn, version).releaseId, modelPackageArn: request.modelPackageArn }
        : {};
    // A lock held by another execution is looked at first, whatever its lease: acquireLock would silently
    // overwrite an expired one and skip the holder's status and the recovery of what it left behind.
    let holder = await ledger().readLock(endpointName);
    if (!holder || holder.owner === execution.arn) {
      try {
        await ledger().acquireLock({ endpointName, owner: execution.arn, action: request.kind, leaseSeconds: LEASE_SECONDS_DEFAULT, now, ...identity });
        if (request.kind === 'recover') return recoverWithoutStaleLock(target, execution, settled);
        return afterAcquire(target, execution, settled);
      } catch (error) {
        if (!(error instanceof LockHeldError)) throw error;
        holder = await ledger().readLock(endpointName);
        if (!holder)
          return { ...settled, outcome: 'wait', attempts: attempts + 1, waitSeconds: 1, reason: 'the lock was released while we looked; trying again' };
      }
    }

    const ownerStatus = await executionStatus(holder.owner);
    const expired = leaseExpired(holder, toEpochSeconds(now));
    if (LIVE_STATUSES.has(ownerStatus) && !expired) {
      const who = `${holder.action} ${holder.releaseId ?? ''} by ${executionNameOf(holder.owner)}`.replace(/ +/g, ' ');
      if (request.kind === 'rollback') return abortInFlight(holder, request, settled, who);
      if (request.kind === 'recover') {
        return { ...settled, outcome: 'nothing-to-recover', reason: `${who} is running; use the rollback action to stop it. Nothing was changed` };
      }
      if (waitedSeconds >= target.lock.waitTimeoutSeconds) {
        return {
          ...settled,
          outcome: 'gave-up',
          reason: `endpoint ${endpointName} stayed locked by ${who} for ${waitedSeconds} s (lock.waitTimeoutSeconds); nothing was changed`,
        };
      }
      const wait = Math.min(backoffSeconds(target.lock, attempts, execution.name), Math.max(1, target.lock.waitTimeoutSeconds - waitedSeconds));
      return {
        ...settled,
        outcome: 'wait',
        attempts: attempts + 1,
        waitSeconds: wait,
        waitedSeconds: waitedSeconds + wait,
        reason: `endpoint ${endpointName} is locked by ${who}`,
      };
    }

    // The holder has ended (or hangs past its lease): take over, then look at what it left behind.
    try {
      await ledger().takeOverLock({
        endpointName,
        owner: execution.arn,
        previousOwner: holder.owner,
        action: request.kind,
        leaseSeconds: LEASE_SECONDS_DEFAULT,
        now,
        ...identity,
      });
    } catch (error) {
      // Another successor took it first, or the holder let it go meanwhile: look again.
      if (!(error instanceof LockHeldError) && !(error instanceof LockNotHeldError)) throw error;
      return {
        ...settled,
        outcome: 'wait',
        attempts: attempts + 1,
        waitSeconds: 1,
        reason: `the stale lock changed hands while we took it over (${error.message}); trying again`,
      };
    }
    const why =
      expired && LIVE_STATUSES.has(ownerStatus)
        ? `its lease expired at ${new Date(holder.leaseExpiresAt * 1000).toISOString()}`
        : `its execution is ${ownerStatus}`;
    logger.warn('Took over a stale endpoint lock', { endpointName, previousOwner: holder.owner, ownerStatus, expired });
    const record = await ledger().releaseByExecution(endpointName, executionNameOf(holder.owner));
    const assessed = await assessInterrupted(target, execution, settled, record, {
      owner: holder.owner,
      ownerStatus: expired && LIVE_STATUSES.has(ownerStatus) ? `${ownerStatus} (lease expired)` : ownerStatus,
      why,
    });
    // A recover action that found nothing to restore is done; a release goes on with the lock.
    return request.kind === 'recover' && assessed.outcome === 'acquired' ? { ...assessed, outcome: 'nothing-to-recover' } : assessed;
  };
}

type Base = Omit<TakeLockOutput, 'outcome' | 'reason'>;

async function abortInFlight(holder: Lock, request: EndpointRequest, base: Base, who: string): Promise<TakeLockOutput> {
  const reason = request.note ?? 'rollback requested';
  try {
    await ledger().requestAbort({ endpointName: holder.endpointName, owner: holder.owner, reason, requestedBy: request.requestedBy, now: new Date() });
  } catch (error) {
    // The release ended (or lost its lock) meanwhile: look at the lock again.
    if (!(error instanceof LockNotHeldError)) throw error;
    return { ...base, outcome: 'wait', attempts: base.attempts + 1, waitSeconds: 1, reason: `${who} let go of the lock meanwhile; trying again` };
  }
  // A release waiting at its approval gate checks nothing: fail its task so it rolls back now.
  if (holder.approval) {
    await completeTask({ taskToken: holder.approval.taskToken, error: 'ReleaseAborted', cause: `rollback requested by ${request.requestedBy}: ${reason}` });
  }
  return {
    ...base,
    outcome: 'abort-requested',
    reason: `asked ${who} to roll back${holder.approval ? ' (it was waiting for approval)' : ' at its next check'}`,
  };
}

/** Statuses of a release that ended by itself: the workflow read the endpoint back (promoted, rolled back) or never touched it. */
const ENDED_ON_ITS_OWN: ReadonlySet<string> = new Set(['succeeded', 'rolled-back', 'nothing-to-do', 'superseded']);

/**
 * `recover` with a free lock: the newest release may still have left two variants behind (its
 * lock was freed by hand, or a record task failed). Only a release still `running`, or one that
 * `failed`, may have left the endpoint half changed.
 */
async function recoverWithoutStaleLock(target: TargetConfig, execution: ExecutionContext, base: Base): Promise<TakeLockOutput> {
  const [newest] = await ledger().history(target.endpointName, { limit: 1 });
  if (!newest || newest.executionArn === execution.arn) {
    return { ...base, outcome: 'nothing-to-recover', reason: `endpoint ${target.endpointName} has no release in its ledger to recover` };
  }
  if (ENDED_ON_ITS_OWN.has(newest.status)) {
    return {
      ...base,
      outcome: 'nothing-to-recover',
      reason: `the newest release of endpoint ${target.endpointName}, ${newest.releaseId} (${newest.executionName}), ended ${newest.status}; nothing to recover`,
    };
  }
  const status = await executionStatus(newest.executionArn);
  if (LIVE_STATUSES.has(status)) {
    return {
      ...base,
      outcome: 'nothing-to-recover',
      reason: `release ${newest.releaseId} is running (${executionNameOf(newest.executionArn)}); use the rollback action to stop it`,
    };
  }
  const assessed = await assessInterrupted(target, execution, base, newest, {
    owner: newest.executionArn,
    ownerStatus: status,
    why: `its execution is ${status}`,
  });
  return assessed.outcome === 'acquired' ? { ...assessed, outcome: 'nothing-to-recover' } : assessed;
}

/**
 * A release or rollback that took a free lock (or holds it already: a retried task) checks the
 * newest release: one still `running` whose execution has ended was interrupted without a lock
 * left to show it (freed by hand, or this task took it over and failed before it finished).
 */
async function afterAcquire(target: TargetConfig, execution: ExecutionContext, base: Base): Promise<TakeLockOutput> {
  const acquired: TakeLockOutput = { ...base, outcome: 'acquired', reason: `took the lock on endpoint ${target.endpointName}` };
  const [newest] = await ledger().history(target.endpointName, { limit: 1 });
  if (!newest || newest.status !== 'running' || newest.executionArn === execution.arn) return acquired;
  const status = await executionStatus(newest.executionArn);
  if (LIVE_STATUSES.has(status)) return acquired;
  return assessInterrupted(target, execution, base, newest, { owner: newest.executionArn, ownerStatus: status, why: `its execution is ${status}` });
}

/**
 * Compares the interrupted release's plan with the endpoint: promoted already (record it as
 * succeeded), untouched (nothing to undo), or anything in between (roll back to its baseline).
 */
async function assessInterrupted(
  target: TargetConfig,
  execution: ExecutionContext,
  base: Base,
  record: ReleaseRecord | undefined,
  owner: { owner: string; ownerStatus: string; why: string },
): Promise<TakeLockOutput> {
  const endpointName = target.endpointName;
  const acquired = (reason: string): TakeLockOutput => ({ ...base, outcome: 'acquired', reason });
  const plan = record?.plan ? ReleaseSchema.safeParse(record.plan) : undefined;
  if (!record || !plan?.success) {
    return acquired(
      `took over the lock of ${executionNameOf(owner.owner)} (${owner.why}), which had not planned a release: the endpoint was not changed by it`,
    );
  }
  const release: Release = plan.data;
  if (ENDED_ON_ITS_OWN.has(record.status)) {
    return acquired(
      `took over the lock of ${executionNameOf(owner.owner)} (${owner.why}); its release ${release.releaseId} had ended ${record.status}: nothing to undo`,
    );
  }
  const endpoint = observe(await describeEndpoint(endpointName));
  const names = new Set(endpoint?.variants.map((v) => v.name) ?? []);
  const now = new Date().toISOString();
  const ref = { endpointName, startedAt: record.startedAt, executionName: record.executionName };
  const finalise = async (status: 'succeeded' | 'failed', reason: string, action: 'completed-promotion' | 'nothing-to-undo') => {
    if (record.status === 'running') await ledger().finishRelease({ ...ref, status, reason, endedAt: now });
    const annotated = await ledger().annotateRelease({ ...ref, recovery: { by: execution.arn, at: now, ownerStatus: owner.ownerStatus, action } });
    await publishLifecycleEvents([recordEvent(LIFECYCLE_DETAIL_TYPES.recovered, annotated, { reason, targetName: release.targetName })]);
  };

  const candidateAlone = endpoint?.status === 'InService' && names.size === 1 && names.has(release.candidate.variantName);
  // A release that created the endpoint never changes its config: it counts as promoted once every step baked healthy (and the gate approved).
  const promoted = release.baseline
    ? candidateAlone && endpoint?.configName === release.candidate.promotedConfigName
    : candidateAlone && endpoint?.configName === release.candidate.deployConfigName && bakedAndApproved(release, record);
  if (promoted) {
    const reason = `interrupted after its promotion had applied (${owner.why}); recorded as succeeded by ${execution.name}`;
    await finalise('succeeded', reason, 'completed-promotion');
    await setLastKnownGoodOf(release, record.executionArn, now);
    return acquired(`took over the lock of ${executionNameOf(owner.owner)}: ${reason}`);
  }
  const untouched = release.baseline
    ? endpoint?.status === 'InService' && names.size === 1 && names.has(release.baseline.variantName) && endpoint.configName === release.baseline.configName
    : endpoint === undefined;
  if (untouched) {
    const reason = `interrupted (${owner.why}) before it changed the endpoint, or after its rollback applied; nothing to undo`;
    await finalise('failed', reason, 'nothing-to-undo');
    return acquired(`took over the lock of ${executionNameOf(owner.owner)}: ${reason}`);
  }
  return {
    ...base,
    outcome: 'recover',
    reason: `took over the lock of ${executionNameOf(owner.owner)} (${owner.why}); its release ${release.releaseId} left endpoint ${endpointName} ${endpoint ? `${endpoint.status} with ${[...names].join(', ')}` : 'deleted'}: restoring the baseline`,
    recover: { release, owner: owner.owner, ownerStatus: owner.ownerStatus, record: { startedAt: record.startedAt, executionName: record.executionName } },
  };
}

/** Did every step of the release end with a verdict that lets it go on, and did the gate (if any) approve it? */
function bakedAndApproved(release: Release, record: ReleaseRecord): boolean {
  const steps = record.steps;
  const baked = steps.length === release.steps.length && steps.every((step) => step.verdict !== undefined && step.verdict.status !== 'unhealthy');
  return baked && (release.approval === null || record.approval?.decision === 'approved');
}

export const handler = configuredHandler(configured);
