/**
 * request-approval: the approval gate's task (waitForTaskToken). Stores the task token on
 * the endpoint lock (dynalite) where approve / reject find it, extends the lease past the
 * gate's timeout, and emits "Release Approval Requested". A rollback requested before
 * the gate fails it at once.
 */
import { toEpochSeconds } from '../../lambdas/domain/ledger';
import { handler, requestApproval } from '../../lambdas/handlers/request-approval';
import { ENDPOINT_NAME, makeRelease } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { execution, publishedEvents, seedLock, useLedger, useServiceMocks } from './helpers/ledger';

const { eventBridge } = useServiceMocks();
const db = useLedger();

const ME = execution('churn-models-v7-0000aaaa');
const release = makeRelease({ approval: { timeoutSeconds: 7200 }, requestedBy: 'alice' });
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAXampleTaskToken';

beforeEach(async () => {
  await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: ME.arn, releaseId: release.releaseId, leaseSeconds: 600 });
});

describe('the approval gate', () => {
  it('It should store the task token on the lock, extend the lease past the timeout and emit Approval Requested', async () => {
    const before = Date.now();

    const result = await requestApproval({ release, execution: ME, taskToken: TOKEN });

    const lock = await db.ledger.readLock(ENDPOINT_NAME);
    expect(lock?.approval).toEqual({ taskToken: TOKEN, releaseId: release.releaseId, requestedAt: expect.any(String), expiresAt: result.waitingUntil });
    const requestedAt = Date.parse(lock!.approval!.requestedAt);
    expect(requestedAt).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(result.waitingUntil) - requestedAt).toBe(7200 * 1000);
    // The lease covers the whole wait and the tasks after it.
    expect(lock!.leaseExpiresAt).toBe(toEpochSeconds(new Date(requestedAt)) + 7200 + release.leaseSeconds);

    const events = publishedEvents(eventBridge);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      detailType: 'Release Approval Requested',
      detail: {
        eventId: `${release.releaseId}:${ME.name}:release-approval-requested`,
        endpointName: ENDPOINT_NAME,
        releaseId: release.releaseId,
        executionArn: ME.arn,
        requestedBy: 'alice',
        status: 'running',
        reason: 'waiting for approve or reject',
        approval: { timeoutSeconds: 7200, expiresAt: result.waitingUntil },
      },
    });
  });

  it('It should fail the gate with ReleaseAborted when an operator asked for a rollback, without an event', async () => {
    await db.ledger.requestAbort({ endpointName: ENDPOINT_NAME, owner: ME.arn, reason: 'stop it', requestedBy: 'bob', now: new Date() });

    await expect(requestApproval({ release, execution: ME, taskToken: TOKEN })).rejects.toMatchObject({
      name: 'ReleaseAborted',
      message: 'rollback requested by bob: stop it',
    });
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('It should refuse with LockNotHeld when another execution holds the lock, leaving its lock alone', async () => {
    const successor = execution('successor');
    await db.ledger.takeOverLock({ endpointName: ENDPOINT_NAME, owner: successor.arn, previousOwner: ME.arn, leaseSeconds: 600, now: new Date() });

    await expect(requestApproval({ release, execution: ME, taskToken: TOKEN })).rejects.toMatchObject({ name: 'LockNotHeld', holder: successor.arn });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).not.toHaveProperty('approval');
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('It should refuse a payload without the task token with InvalidTaskInput', async () => {
    await expect(requestApproval({ release, execution: ME })).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: expect.stringContaining('taskToken'),
    });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).not.toHaveProperty('approval');
  });

  it('It should run through the middy wrapper', async () => {
    const result = await handler({ release, execution: ME, taskToken: TOKEN }, lambdaContext('smrm-request-approval'));

    expect((await db.ledger.readLock(ENDPOINT_NAME))?.approval?.expiresAt).toBe(result.waitingUntil);
  });
});
