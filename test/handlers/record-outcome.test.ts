/**
 * record-outcome: the end of every path that holds the endpoint lock. Finishes the
 * release record (dynalite), sets the last known good version after a promotion, notes a
 * recovery on the interrupted record, releases the lock unless told to keep it, and
 * emits the lifecycle event. A retried call changes nothing more.
 */
import type { FinalOutcome, RecordOutcomeInput } from '../../lambdas/contracts';
import { handler, recordOutcome } from '../../lambdas/handlers/record-outcome';
import { ENDPOINT_NAME, NAMES, makeNewEndpointRelease, makeRelease } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { execution, publishedEvents, publishedTypes, recordOf, seedLock, useLedger, useServiceMocks } from './helpers/ledger';

const { eventBridge } = useServiceMocks();
const db = useLedger();

const ME = execution('churn-models-v7-0000aaaa', '2025-06-01T10:00:00.000Z');
const release = makeRelease({ requestedBy: 'alice' });
const record = recordOf(release, ME);

function input(outcome: FinalOutcome, extra: Partial<RecordOutcomeInput> = {}): RecordOutcomeInput {
  return { outcome, execution: ME, endpointName: ENDPOINT_NAME, ...extra };
}

beforeEach(async () => {
  await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: ME.arn, releaseId: release.releaseId });
});

describe('a release that ran', () => {
  beforeEach(async () => {
    await db.ledger.startRelease(record);
  });

  it('It should record a promotion as succeeded, set the last known good version, free the lock and emit Succeeded', async () => {
    const result = await recordOutcome(input('succeeded', { release }));

    expect(result).toEqual({ status: 'succeeded', lock: 'released', event: 'Release Succeeded' });
    const stored = await db.ledger.release(record);
    expect(stored).toMatchObject({ status: 'succeeded', endedAt: expect.any(String) });
    expect(stored).not.toHaveProperty('reason');
    expect(await db.ledger.lastKnownGood(ENDPOINT_NAME)).toEqual({
      endpointName: ENDPOINT_NAME,
      version: 7,
      modelPackageArn: release.modelPackageArn,
      variantName: NAMES.candidateVariantName,
      endpointConfigName: NAMES.promotedConfigName,
      releasedAt: stored!.endedAt,
      executionArn: ME.arn,
    });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toBeUndefined();
    expect(publishedEvents(eventBridge)).toEqual([
      {
        source: 'sagemaker-release-manager',
        detailType: 'Release Succeeded',
        busName: 'default',
        detail: {
          schemaVersion: '1',
          eventId: `${release.releaseId}:${ME.name}:release-succeeded`,
          endpointName: ENDPOINT_NAME,
          targetName: 'churn',
          executionArn: ME.arn,
          releaseId: release.releaseId,
          modelPackageArn: release.modelPackageArn,
          modelVersion: 7,
          requestedBy: 'alice',
          status: 'succeeded',
          at: expect.any(String),
        },
      },
    ]);
  });

  it('It should record a rollback with its reason, keep the last known good version and emit Rolled Back', async () => {
    const result = await recordOutcome(input('rolled-back', { release, reason: 'CandidateUnhealthy: alarm churn-5xx is in ALARM' }));

    expect(result).toEqual({ status: 'rolled-back', lock: 'released', event: 'Release Rolled Back' });
    expect(await db.ledger.release(record)).toMatchObject({ status: 'rolled-back', reason: 'CandidateUnhealthy: alarm churn-5xx is in ALARM' });
    expect(await db.ledger.lastKnownGood(ENDPOINT_NAME)).toBeUndefined();
    expect(publishedEvents(eventBridge)[0]!.detail).toMatchObject({ status: 'rolled-back', reason: 'CandidateUnhealthy: alarm churn-5xx is in ALARM' });
  });

  it('It should keep the lock after a rollback that could not be completed, so the next release recovers first', async () => {
    const result = await recordOutcome(input('failed', { release, reason: 'RollbackFailed: endpoint Failed', keepLock: true }));

    expect(result).toEqual({ status: 'failed', lock: 'kept', event: 'Release Failed' });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toMatchObject({ owner: ME.arn, releaseId: release.releaseId });
    expect(await db.ledger.release(record)).toMatchObject({ status: 'failed', reason: 'RollbackFailed: endpoint Failed' });
  });

  it('It should set the config a created endpoint keeps as the last known good one', async () => {
    const created = makeNewEndpointRelease();

    await recordOutcome(input('succeeded', { release: created }));

    expect(await db.ledger.lastKnownGood(ENDPOINT_NAME)).toMatchObject({ endpointConfigName: NAMES.deployConfigName });
  });

  it('It should be idempotent: a retry keeps the record as first written and emits the same event id', async () => {
    const first = await recordOutcome(input('succeeded', { release }));
    const stored = await db.ledger.release(record);

    const retried = await recordOutcome(input('succeeded', { release }));

    expect(first.lock).toBe('released');
    expect(retried).toEqual({ status: 'succeeded', lock: 'absent', event: 'Release Succeeded' });
    expect(await db.ledger.release(record)).toEqual(stored);
    expect(await db.ledger.history(ENDPOINT_NAME, { limit: 5 })).toHaveLength(1);
    const [a, b] = publishedEvents(eventBridge);
    expect(b!.detail.eventId).toBe(a!.detail.eventId);
  });

  it('It should leave a lock that another execution took over alone', async () => {
    const successor = execution('successor');
    await db.ledger.takeOverLock({ endpointName: ENDPOINT_NAME, owner: successor.arn, previousOwner: ME.arn, leaseSeconds: 600, now: new Date() });

    const result = await recordOutcome(input('failed', { release, reason: 'LockNotHeld: lost the lock' }));

    expect(result).toEqual({ status: 'failed', lock: 'absent', event: 'Release Failed' });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(successor.arn);
  });

  it('It should not overwrite a record another execution finished, nor call it last known good', async () => {
    await db.ledger.finishRelease({ ...record, status: 'failed', reason: 'recovered by successor', endedAt: new Date().toISOString() });

    const result = await recordOutcome(input('succeeded', { release }));

    expect(result.status).toBe('failed');
    expect(await db.ledger.release(record)).toMatchObject({ status: 'failed', reason: 'recovered by successor' });
    expect(await db.ledger.lastKnownGood(ENDPOINT_NAME)).toBeUndefined();
    expect(publishedEvents(eventBridge)[0]).toMatchObject({ detailType: 'Release Succeeded', detail: { status: 'failed' } });
  });
});

describe('decisions the plan recorded already', () => {
  it.each([
    ['nothing-to-do', 'Release Not Needed'],
    ['superseded', 'Release Superseded'],
  ] as const)('It should keep the %s record as the plan wrote it, free the lock and emit %s', async (outcome, detailType) => {
    await db.ledger.startRelease(record);
    const finished = await db.ledger.finishRelease({ ...record, status: outcome, reason: 'from the plan', endedAt: '2025-06-01T10:00:05.000Z' });

    const result = await recordOutcome(input(outcome, { reason: 'from the plan' }));

    expect(result).toEqual({ status: outcome, lock: 'released', event: detailType });
    expect(await db.ledger.release(record)).toEqual(finished);
    expect(publishedTypes(eventBridge)).toEqual([detailType]);
  });
});

describe('paths without a release record', () => {
  it('It should report a release that gave up waiting for the lock as failed, naming the execution', async () => {
    await db.ledger.releaseLock({ endpointName: ENDPOINT_NAME, owner: ME.arn });

    const result = await recordOutcome(input('gave-up', { reason: 'endpoint stayed locked' }));

    expect(result).toEqual({ status: 'gave-up', lock: 'absent', event: 'Release Failed' });
    expect(publishedEvents(eventBridge)[0]!.detail).toEqual({
      schemaVersion: '1',
      eventId: `${ME.name}:release-failed`,
      endpointName: ENDPOINT_NAME,
      executionArn: ME.arn,
      status: 'failed',
      reason: 'endpoint stayed locked',
      at: expect.any(String),
    });
    expect(await db.ledger.history(ENDPOINT_NAME, { limit: 5 })).toEqual([]);
  });

  it('It should free the lock of a release that could not start', async () => {
    const result = await recordOutcome(input('failed', { reason: 'ModelPackageNotApproved: ...' }));

    expect(result).toEqual({ status: 'failed', lock: 'released', event: 'Release Failed' });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toBeUndefined();
  });

  it('It should not invent a record status for a recovery that names nothing recovered', async () => {
    const result = await recordOutcome(input('recovered', { reason: 'nothing' }));

    expect(result).toEqual({ status: 'recovered', lock: 'released', event: 'Release Recovered' });
    expect(await db.ledger.history(ENDPOINT_NAME, { limit: 5 })).toEqual([]);
  });
});

describe('a recovery', () => {
  const OTHER = execution('churn-models-v6-0000bbbb', '2025-06-01T09:00:00.000Z');
  const interrupted = recordOf(makeRelease(), OTHER);
  const recovered = {
    release: makeRelease(),
    owner: OTHER.arn,
    ownerStatus: 'ABORTED',
    record: { startedAt: interrupted.startedAt, executionName: OTHER.name },
  };

  beforeEach(async () => {
    await db.ledger.startRelease(interrupted);
  });

  it('It should finish the interrupted record as failed, note the recovery, keep the lock for the release that goes on, and emit Recovered', async () => {
    const result = await recordOutcome(input('recovered', { recovered, reason: 'took over', keepLock: true }));

    expect(result).toEqual({ status: 'failed', lock: 'kept', event: 'Release Recovered' });
    expect(await db.ledger.release(interrupted)).toMatchObject({
      status: 'failed',
      reason: `interrupted (its execution is ABORTED); ${ME.name} restored the baseline`,
      recovery: { by: ME.arn, ownerStatus: 'ABORTED', action: 'rolled-back', at: expect.any(String) },
    });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(ME.arn);
    expect(publishedEvents(eventBridge)[0]).toMatchObject({
      detailType: 'Release Recovered',
      detail: { executionArn: OTHER.arn, releaseId: interrupted.releaseId, status: 'failed', reason: 'took over' },
    });
  });

  it('It should free the lock after a recover action', async () => {
    const result = await recordOutcome(input('recovered', { recovered }));

    expect(result.lock).toBe('released');
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toBeUndefined();
  });

  it('It should keep an interrupted record that was finished already, and still note the recovery', async () => {
    await db.ledger.finishRelease({ ...interrupted, status: 'failed', reason: 'RollbackFailed', endedAt: '2025-06-01T09:30:00.000Z' });

    await recordOutcome(input('recovered', { recovered, keepLock: true }));

    expect(await db.ledger.release(interrupted)).toMatchObject({ status: 'failed', reason: 'RollbackFailed', recovery: { action: 'rolled-back' } });
  });
});

describe('rejected input and the handler', () => {
  it('It should refuse an unknown outcome with InvalidTaskInput, writing nothing', async () => {
    await expect(recordOutcome({ ...input('succeeded'), outcome: 'promoted' })).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: expect.stringContaining('outcome'),
    });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(ME.arn);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('It should record through the middy wrapper', async () => {
    await db.ledger.startRelease(record);

    const result = await handler(input('rolled-back', { release, reason: 'r' }), lambdaContext('smrm-record-outcome'));

    expect(result).toEqual({ status: 'rolled-back', lock: 'released', event: 'Release Rolled Back' });
  });
});
