/**
 * Tasks "Record ...": the end of every path that holds the endpoint lock. Writes the
 * release's final status to the ledger (the plan wrote it already for nothing-to-do and
 * superseded), sets the last known good version after a promotion, notes a recovery on
 * the interrupted release's record, releases the lock (unless told to keep it: a
 * rollback that could not be completed leaves it for the next release to recover), and
 * emits the lifecycle event. Every write is idempotent, so a retried task is harmless.
 */
import { RecordOutcomeInputSchema, type FinalOutcome, type RecordOutcomeOutput } from '../contracts';
import { publishLifecycleEvents } from '../aws/events';
import { ledger } from '../aws/ledger';
import { LockNotHeldError, ReleaseAlreadyFinishedError } from '../domain/errors';
import { LIFECYCLE_DETAIL_TYPES, lifecycleEvent, type LifecycleDetailType } from '../domain/events';
import type { FinalReleaseStatus, ReleaseRecord } from '../domain/ledger';
import { lambdaHandler, logger, parseTaskInput } from './common';
import { recordEvent, recordRef, setLastKnownGoodOf } from './ledger-support';

const EVENT_OF: Record<FinalOutcome, LifecycleDetailType> = {
  succeeded: LIFECYCLE_DETAIL_TYPES.succeeded,
  'rolled-back': LIFECYCLE_DETAIL_TYPES.rolledBack,
  failed: LIFECYCLE_DETAIL_TYPES.failed,
  'gave-up': LIFECYCLE_DETAIL_TYPES.failed,
  superseded: LIFECYCLE_DETAIL_TYPES.superseded,
  'nothing-to-do': LIFECYCLE_DETAIL_TYPES.nothingToDo,
  recovered: LIFECYCLE_DETAIL_TYPES.recovered,
};

export async function recordOutcome(event: unknown): Promise<RecordOutcomeOutput> {
  const input = parseTaskInput(RecordOutcomeInputSchema, event);
  const { outcome, execution, endpointName } = input;
  const now = new Date().toISOString();
  const reason = input.reason;
  let record: ReleaseRecord | undefined;

  if (outcome === 'recovered' && input.recovered) {
    const interrupted = input.recovered;
    const ref = { endpointName, ...interrupted.record };
    const why = `interrupted (its execution is ${interrupted.ownerStatus}); ${execution.name} restored the baseline`;
    await finish(ref, 'failed', why, now);
    record = await ledger().annotateRelease({ ...ref, recovery: { by: execution.arn, at: now, ownerStatus: interrupted.ownerStatus, action: 'rolled-back' } });
  } else {
    const ref = recordRef(execution, endpointName);
    // `recovered` without what was recovered has no release of its own to finish ('recovered' is no record status).
    const status: FinalReleaseStatus | undefined = outcome === 'gave-up' ? 'failed' : outcome === 'recovered' ? undefined : outcome;
    record = await ledger().release(ref);
    if (status && record?.status === 'running') record = await finish(ref, status, reason, now);
    // A record that another execution finished otherwise (it took the lock over and recovered) does not make a last known good version.
    if (outcome === 'succeeded' && input.release && (!record || record.status === 'succeeded')) {
      const release = input.release;
      const kept = await setLastKnownGoodOf(release, execution.arn, now);
      if (kept === 'kept-newer') logger.warn('A newer last known good version is recorded already', { endpointName });
    }
  }

  let lock: RecordOutcomeOutput['lock'] = 'kept';
  if (!input.keepLock) {
    try {
      lock = await ledger().releaseLock({ endpointName, owner: execution.arn });
    } catch (error) {
      // Another execution holds it (it took over a lock it found stale): not ours to release.
      if (!(error instanceof LockNotHeldError)) throw error;
      logger.warn('The endpoint lock is held by another execution; left as it is', { endpointName, holder: error.message });
      lock = 'absent';
    }
  }

  const detailType = EVENT_OF[outcome];
  const lifecycle = record
    ? recordEvent(detailType, record, { ...(reason ? { reason } : {}), ...(input.release ? { targetName: input.release.targetName } : {}) })
    : lifecycleEvent(detailType, {
        endpointName,
        executionArn: execution.arn,
        status: outcome === 'gave-up' ? 'failed' : outcome,
        ...(reason ? { reason } : {}),
        at: now,
      });
  await publishLifecycleEvents([lifecycle]);
  return { status: record?.status ?? outcome, lock, event: detailType };
}

/** Finishes a running record; one finished already (a retried task, or a recovery racing the owner) is kept as it is. */
async function finish(
  ref: { endpointName: string; startedAt: string; executionName: string },
  status: FinalReleaseStatus,
  reason: string | undefined,
  endedAt: string,
) {
  try {
    return await ledger().finishRelease({ ...ref, status, ...(reason ? { reason } : {}), endedAt });
  } catch (error) {
    if (!(error instanceof ReleaseAlreadyFinishedError)) throw error;
    logger.warn('Release already finished; its record is kept', { ...ref, status, message: error.message });
    return ledger().release(ref);
  }
}

export const handler = lambdaHandler(recordOutcome);
