/**
 * take-lock: one release per endpoint. Waits for newer approvals (registry events only),
 * then takes the lock or backs off while a live execution holds it; takes over the lock
 * of an execution that ended (or hangs past its lease) and says what its release left
 * behind; a rollback asks the release in flight to roll back. The ledger is dynalite.
 */
import './helpers/targets-file';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, SendTaskFailureCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { TakeLockOutput } from '../../lambdas/contracts';
import { parseConfig } from '../../lambdas/domain/config';
import { toEpochSeconds } from '../../lambdas/domain/ledger';
import { releaseNames } from '../../lambdas/domain/names';
import { backoffSeconds, configured, handler } from '../../lambdas/handlers/take-lock';
import {
  CANARY_STEPS,
  ENDPOINT_NAME,
  GROUP_NAME,
  HAND_MADE_BASELINE,
  NAMES,
  approvalEvent,
  makeNewEndpointRelease,
  makeRelease,
  modelPackageArn,
} from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { execution, givenExecutions, publishedEvents, publishedTypes, recordOf, seedLock, useLedger, useServiceMocks } from './helpers/ledger';
import { endpointState, expectNoMutation } from './helpers/sagemaker';
import targets from './helpers/targets.json';

const sm = mockClient(SageMakerClient);
const { sfn, eventBridge } = useServiceMocks();
const db = useLedger();
const config = parseConfig(targets, 'test targets');
const takeLock = configured(config);
const LOCK_POLICY = config.targets[0]!.lock;

/** This execution: a manual release of version 8. */
const ME = execution('churn-models-v8-0000aaaa', '2025-06-01T11:00:00.000Z');
const V8 = modelPackageArn(GROUP_NAME, 8);
const V8_RELEASE_ID = releaseNames(ENDPOINT_NAME, V8, 8).releaseId;
/** The execution that holds (or held) the lock: a release of version 7 (the fixture's release). */
const OTHER = execution('churn-models-v7-0000bbbb', '2025-06-01T10:00:00.000Z');

const BASELINE = HAND_MADE_BASELINE.variantName;
const CANDIDATE = NAMES.candidateVariantName;

const manualRelease = { action: 'release', modelPackageArn: V8, requestedBy: 'alice' };
const rollback = { action: 'rollback', endpointName: ENDPOINT_NAME, reason: 'p99 latency doubled', requestedBy: 'bob' };
const recover = { action: 'recover', endpointName: ENDPOINT_NAME, requestedBy: 'carol' };

function call(input: unknown, previous: Record<string, unknown> = { attempts: 0 }, exec = ME): Promise<TakeLockOutput> {
  return takeLock({ input, execution: exec, previous });
}

/** The lock of churn-endpoint held by OTHER's release of version 7, with a live lease unless told otherwise. */
async function givenOtherHolds(options: { leaseSeconds?: number; now?: Date } = {}) {
  return seedLock(db.ledger, {
    endpointName: ENDPOINT_NAME,
    owner: OTHER.arn,
    releaseId: NAMES.releaseId,
    modelPackageArn: makeRelease().modelPackageArn,
    ...options,
  });
}

/** OTHER planned its release (the fixture's plan, or another) and the ledger records it running. */
async function givenOtherPlanned(release = makeRelease(), overrides: Parameters<typeof recordOf>[2] = {}) {
  const record = recordOf(release, OTHER, overrides);
  await db.ledger.startRelease(record);
  return record;
}

const HALF_DONE = endpointState({
  configName: NAMES.deployConfigName,
  variants: [
    { name: BASELINE, weight: 90 },
    { name: CANDIDATE, weight: 10 },
  ],
});
const PROMOTED = endpointState({ configName: NAMES.promotedConfigName, variants: [{ name: CANDIDATE, weight: 1 }] });
const UNTOUCHED = endpointState({ configName: HAND_MADE_BASELINE.configName, variants: [{ name: BASELINE, weight: 1 }] });

beforeEach(() => {
  sm.reset();
});

describe('waiting for newer approvals', () => {
  it('It should wait lock.settleSeconds before a registry approval takes the lock, without touching anything', async () => {
    const result = await call(approvalEvent());

    expect(result).toEqual({
      outcome: 'wait',
      reason: `waiting 30 s for newer approvals in group ${GROUP_NAME}`,
      endpointName: ENDPOINT_NAME,
      attempts: 0,
      settled: true,
      waitSeconds: 30,
      waitedSeconds: 0,
      recover: null,
    });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toBeUndefined();
    expect(sfn.calls()).toHaveLength(0);
  });

  it('It should take the lock once settled, naming the release it is for', async () => {
    const result = await call(approvalEvent(), { attempts: 0, settled: true, waitedSeconds: 0 });

    expect(result).toMatchObject({ outcome: 'acquired', settled: true, attempts: 0, waitSeconds: 0, recover: null });
    const lock = await db.ledger.readLock(ENDPOINT_NAME);
    expect(lock).toMatchObject({ owner: ME.arn, action: 'release', releaseId: NAMES.releaseId, modelPackageArn: makeRelease().modelPackageArn });
    expect(lock!.leaseExpiresAt - toEpochSeconds(new Date())).toBeGreaterThan(3500);
  });

  it.each([
    ['a manual release', manualRelease, 'release'],
    ['a rollback', rollback, 'rollback'],
  ])('It should not wait to settle for %s', async (_what, input, action) => {
    const result = await call(input);

    expect(result).toMatchObject({ outcome: 'acquired', settled: true, waitSeconds: 0 });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toMatchObject({ owner: ME.arn, action });
  });

  it('It should not wait for a target whose settleSeconds is 0', async () => {
    const quick = configured(parseConfig({ targets: [{ ...targets.targets[0], lock: { settleSeconds: 0 } }] }, 'quick targets'));

    const result = await quick({ input: approvalEvent(), execution: ME, previous: { attempts: 0 } });

    expect(result.outcome).toBe('acquired');
  });
});

describe('a lock held by a live release', () => {
  beforeEach(() => {
    givenExecutions(sfn, { [OTHER.arn]: 'RUNNING' });
  });

  it('It should wait with a backoff, counting attempts and the time waited, and leave the lock alone', async () => {
    const holder = await givenOtherHolds();

    const first = await call(manualRelease);

    const wait0 = backoffSeconds(LOCK_POLICY, 0, ME.name);
    expect(first).toEqual({
      outcome: 'wait',
      reason: `endpoint ${ENDPOINT_NAME} is locked by release ${NAMES.releaseId} by ${OTHER.name}`,
      endpointName: ENDPOINT_NAME,
      attempts: 1,
      settled: true,
      waitSeconds: wait0,
      waitedSeconds: wait0,
      recover: null,
    });
    expect(wait0).toBeGreaterThanOrEqual(15);
    expect(wait0).toBeLessThanOrEqual(30);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: OTHER.arn });

    const second = await call(manualRelease, first as unknown as Record<string, unknown>);
    const third = await call(manualRelease, second as unknown as Record<string, unknown>);

    expect(second).toMatchObject({ outcome: 'wait', attempts: 2, waitSeconds: backoffSeconds(LOCK_POLICY, 1, ME.name) });
    expect(third).toMatchObject({ outcome: 'wait', attempts: 3, waitSeconds: backoffSeconds(LOCK_POLICY, 2, ME.name) });
    expect(third.waitedSeconds).toBe(first.waitSeconds + second.waitSeconds + third.waitSeconds);
    expect(third.waitSeconds).toBeGreaterThanOrEqual(60); // the base doubled twice: 120 s, at least half of it
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toEqual(holder);
  });

  it('It should not wait past lock.waitTimeoutSeconds', async () => {
    await givenOtherHolds();

    const result = await call(manualRelease, { attempts: 30, settled: true, waitedSeconds: 14_390 });

    expect(result).toMatchObject({ outcome: 'wait', waitSeconds: 10, waitedSeconds: 14_400 });
  });

  it('It should give up once it has waited lock.waitTimeoutSeconds, changing nothing', async () => {
    const holder = await givenOtherHolds();

    const result = await call(manualRelease, { attempts: 31, settled: true, waitedSeconds: 14_400 });

    expect(result).toMatchObject({
      outcome: 'gave-up',
      attempts: 31,
      waitSeconds: 0,
      reason: `endpoint ${ENDPOINT_NAME} stayed locked by release ${NAMES.releaseId} by ${OTHER.name} for 14400 s (lock.waitTimeoutSeconds); nothing was changed`,
    });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toEqual(holder);
  });

  it('It should ask the release in flight to roll back at its next check', async () => {
    const holder = await givenOtherHolds();

    const result = await call(rollback);

    expect(result).toMatchObject({
      outcome: 'abort-requested',
      reason: `asked release ${NAMES.releaseId} by ${OTHER.name} to roll back at its next check`,
      recover: null,
    });
    const lock = await db.ledger.readLock(ENDPOINT_NAME);
    expect(lock).toEqual({ ...holder, abortRequested: { reason: 'p99 latency doubled', requestedBy: 'bob', at: expect.any(String) } });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('It should fail the approval gate of a release waiting there with ReleaseAborted', async () => {
    await givenOtherHolds();
    const now = new Date();
    await db.ledger.updateLock({
      endpointName: ENDPOINT_NAME,
      owner: OTHER.arn,
      now,
      approval: {
        taskToken: 'gate-token',
        releaseId: NAMES.releaseId,
        requestedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 3600_000).toISOString(),
      },
    });
    sfn.on(SendTaskFailureCommand).resolves({});

    const result = await call(rollback);

    expect(result.outcome).toBe('abort-requested');
    expect(result.reason).toContain('(it was waiting for approval)');
    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'gate-token',
      error: 'ReleaseAborted',
      cause: 'rollback requested by bob: p99 latency doubled',
    });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.abortRequested).toMatchObject({ requestedBy: 'bob' });
  });

  it('It should not recover an endpoint whose release is running', async () => {
    const holder = await givenOtherHolds();

    const result = await call(recover);

    expect(result).toMatchObject({ outcome: 'nothing-to-recover', reason: expect.stringContaining('is running; use the rollback action to stop it') });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toEqual(holder);
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('a lock whose holder has ended', () => {
  it('It should take over the lock of an execution that never planned, and go on', async () => {
    await givenOtherHolds();
    givenExecutions(sfn, { [OTHER.arn]: 'ABORTED' });

    const result = await call(manualRelease);

    expect(result).toMatchObject({
      outcome: 'acquired',
      recover: null,
      reason: `took over the lock of ${OTHER.name} (its execution is ABORTED), which had not planned a release: the endpoint was not changed by it`,
    });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toMatchObject({ owner: ME.arn, action: 'release', releaseId: V8_RELEASE_ID, modelPackageArn: V8 });
    expect(sm.calls()).toHaveLength(0);
  });

  it("It should return the interrupted release's plan to be recovered when the endpoint shows both variants", async () => {
    await givenOtherHolds();
    const record = await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'FAILED' });
    sm.on(DescribeEndpointCommand).resolves(HALF_DONE);

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'recover', settled: true });
    expect(result.reason).toBe(
      `took over the lock of ${OTHER.name} (its execution is FAILED); its release ${NAMES.releaseId} left endpoint ${ENDPOINT_NAME} InService with ${BASELINE}, ${CANDIDATE}: restoring the baseline`,
    );
    expect(result.recover).toEqual({
      release: makeRelease(),
      owner: OTHER.arn,
      ownerStatus: 'FAILED',
      record: { startedAt: record.startedAt, executionName: OTHER.name },
    });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(ME.arn);
    // The recovery's record task finishes the interrupted record once the baseline is back.
    expect((await db.ledger.release(record))?.status).toBe('running');
    expectNoMutation(sm);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('It should record an interrupted release whose promotion had applied as succeeded, with its last known good version', async () => {
    await givenOtherHolds();
    const record = await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'ABORTED' });
    sm.on(DescribeEndpointCommand).resolves(PROMOTED);

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'acquired', recover: null });
    expect(result.reason).toContain('interrupted after its promotion had applied (its execution is ABORTED)');
    const stored = await db.ledger.release(record);
    expect(stored).toMatchObject({
      status: 'succeeded',
      reason: expect.stringContaining(`recorded as succeeded by ${ME.name}`),
      recovery: { by: ME.arn, ownerStatus: 'ABORTED', action: 'completed-promotion' },
    });
    expect(await db.ledger.lastKnownGood(ENDPOINT_NAME)).toMatchObject({
      version: 7,
      modelPackageArn: makeRelease().modelPackageArn,
      variantName: CANDIDATE,
      endpointConfigName: NAMES.promotedConfigName,
      executionArn: OTHER.arn,
    });
    const events = publishedEvents(eventBridge);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'sagemaker-release-manager',
      detailType: 'Release Recovered',
      busName: 'default',
      detail: { endpointName: ENDPOINT_NAME, targetName: 'churn', releaseId: NAMES.releaseId, executionArn: OTHER.arn, status: 'succeeded', modelVersion: 7 },
    });
    expectNoMutation(sm);
  });

  it('It should record an interrupted release that left the endpoint untouched as failed, with nothing to undo', async () => {
    await givenOtherHolds();
    const record = await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'TIMED_OUT' });
    sm.on(DescribeEndpointCommand).resolves(UNTOUCHED);

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'acquired', recover: null });
    expect(await db.ledger.release(record)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('before it changed the endpoint, or after its rollback applied; nothing to undo'),
      recovery: { by: ME.arn, ownerStatus: 'TIMED_OUT', action: 'nothing-to-undo' },
    });
    expect(await db.ledger.lastKnownGood(ENDPOINT_NAME)).toBeUndefined();
    expect(publishedTypes(eventBridge)).toEqual(['Release Recovered']);
    expect(publishedEvents(eventBridge)[0]!.detail.status).toBe('failed');
    expectNoMutation(sm);
  });

  it('It should treat an execution Step Functions does not know as ended', async () => {
    await givenOtherHolds();
    givenExecutions(sfn, {});

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'acquired', reason: expect.stringContaining('its execution is MISSING') });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(ME.arn);
  });

  it('It should not undo a release that ended on its own before its lock was freed', async () => {
    await givenOtherHolds();
    const record = await givenOtherPlanned(makeRelease(), { status: 'superseded', reason: 'v8 was approved', endedAt: new Date().toISOString() });
    givenExecutions(sfn, { [OTHER.arn]: 'ABORTED' });
    sm.on(DescribeEndpointCommand).resolves(HALF_DONE);

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'acquired', recover: null, reason: expect.stringContaining('had ended superseded: nothing to undo') });
    expect(await db.ledger.release(record)).toEqual(record);
    expect(sm.calls()).toHaveLength(0);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('It should back off when another successor takes the stale lock first', async () => {
    await givenOtherHolds();
    const rival = execution('rival');
    sfn.on(DescribeExecutionCommand).callsFake(async () => {
      // While this task asks about the holder, a rival takes the lock over.
      await db.ledger.takeOverLock({ endpointName: ENDPOINT_NAME, owner: rival.arn, previousOwner: OTHER.arn, leaseSeconds: 3600, now: new Date() });
      return { status: 'ABORTED' };
    });

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'wait', attempts: 1, waitSeconds: 1, reason: expect.stringContaining('the stale lock changed hands') });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(rival.arn);
  });
});

describe('a release that created the endpoint, interrupted', () => {
  const created = makeNewEndpointRelease();
  const CANDIDATE_ALONE = endpointState({ configName: NAMES.deployConfigName, variants: [{ name: CANDIDATE, weight: 1 }] });
  const baked = CANARY_STEPS.map((step, index) => ({
    index,
    weightPercent: step.weightPercent,
    startedAt: '2025-06-01T10:10:00.000Z',
    endedAt: '2025-06-01T10:20:00.000Z',
    verdict: { status: 'healthy' as const, reason: 'all 2 alarms OK' },
  }));

  beforeEach(async () => {
    await givenOtherHolds();
    givenExecutions(sfn, { [OTHER.arn]: 'ABORTED' });
  });

  it('It should count it as promoted once every step baked healthy, with the deploy config as last known good', async () => {
    const record = await givenOtherPlanned(created, { steps: baked });
    sm.on(DescribeEndpointCommand).resolves(CANDIDATE_ALONE);

    const result = await call(manualRelease);

    expect(result.outcome).toBe('acquired');
    expect((await db.ledger.release(record))?.status).toBe('succeeded');
    expect(await db.ledger.lastKnownGood(ENDPOINT_NAME)).toMatchObject({ version: 7, endpointConfigName: NAMES.deployConfigName });
  });

  it('It should recover (delete) an endpoint whose release had not finished baking', async () => {
    await givenOtherPlanned(created, { steps: baked.slice(0, 1) });
    sm.on(DescribeEndpointCommand).resolves(CANDIDATE_ALONE);

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'recover', recover: { release: created, ownerStatus: 'ABORTED' } });
    expect(await db.ledger.lastKnownGood(ENDPOINT_NAME)).toBeUndefined();
  });

  it('It should find nothing to undo when the endpoint does not exist', async () => {
    const record = await givenOtherPlanned(created);
    sm.on(DescribeEndpointCommand).rejects(Object.assign(new Error(`Could not find endpoint "${ENDPOINT_NAME}".`), { name: 'ValidationException' }));

    const result = await call(manualRelease);

    expect(result.outcome).toBe('acquired');
    expect(await db.ledger.release(record)).toMatchObject({ status: 'failed', recovery: { action: 'nothing-to-undo' } });
  });
});

describe('a lease that expired', () => {
  const longAgo = () => new Date(Date.now() - 2 * 3600_000);

  it('It should take over from a RUNNING holder whose lease expired', async () => {
    await givenOtherHolds({ now: longAgo(), leaseSeconds: 60 });
    givenExecutions(sfn, { [OTHER.arn]: 'RUNNING' });

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'acquired', reason: expect.stringContaining('its lease expired at') });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(ME.arn);
  });

  it('It should recover what a hung holder left behind, saying its lease expired', async () => {
    await givenOtherHolds({ now: longAgo(), leaseSeconds: 60 });
    await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'RUNNING' });
    sm.on(DescribeEndpointCommand).resolves(HALF_DONE);

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'recover', recover: { owner: OTHER.arn, ownerStatus: 'RUNNING (lease expired)' } });
  });

  it('It should still ask an ended holder whose lease expired what it left behind', async () => {
    await givenOtherHolds({ now: longAgo(), leaseSeconds: 60 });
    await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'ABORTED' });
    sm.on(DescribeEndpointCommand).resolves(HALF_DONE);

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'recover', recover: { owner: OTHER.arn, ownerStatus: 'ABORTED' } });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: OTHER.arn });
  });
});

describe('a free lock', () => {
  it('It should check a release still running in the ledger and recover it when its execution has ended', async () => {
    // The lock is already this execution's: a retry of a take-over that failed before it answered.
    await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: ME.arn });
    await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'ABORTED' });
    sm.on(DescribeEndpointCommand).resolves(HALF_DONE);

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'recover', recover: { release: makeRelease(), owner: OTHER.arn } });
  });

  it('It should leave a running release alone when its execution is still live', async () => {
    await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'RUNNING' });

    const result = await call(manualRelease);

    expect(result).toMatchObject({ outcome: 'acquired', reason: `took the lock on endpoint ${ENDPOINT_NAME}` });
    expect(sm.calls()).toHaveLength(0);
  });

  it('It should not look at the endpoint when the newest release ended', async () => {
    await givenOtherPlanned(makeRelease(), { status: 'succeeded', endedAt: new Date().toISOString() });

    const result = await call(manualRelease);

    expect(result.outcome).toBe('acquired');
    expect(sfn.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('the recover action', () => {
  it('It should find nothing to recover on an endpoint without releases, holding the lock for its record task', async () => {
    const result = await call(recover);

    expect(result).toMatchObject({ outcome: 'nothing-to-recover', reason: `endpoint ${ENDPOINT_NAME} has no release in its ledger to recover` });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toMatchObject({ owner: ME.arn, action: 'recover' });
  });

  it('It should recover the newest release when it is still running and its execution ended', async () => {
    const record = await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'FAILED' });
    sm.on(DescribeEndpointCommand).resolves(HALF_DONE);

    const result = await call(recover);

    expect(result).toMatchObject({
      outcome: 'recover',
      recover: { release: makeRelease(), owner: OTHER.arn, ownerStatus: 'FAILED', record: { startedAt: record.startedAt, executionName: OTHER.name } },
    });
  });

  it.each(['succeeded', 'rolled-back', 'nothing-to-do'] as const)(
    'It should find nothing to recover after a release that ended %s, and note nothing',
    async (status) => {
      const record = await givenOtherPlanned(makeRelease(), { status, endedAt: new Date().toISOString() });
      sm.on(DescribeEndpointCommand).resolves(status === 'succeeded' ? PROMOTED : UNTOUCHED);

      const result = await call(recover);

      expect(result).toMatchObject({ outcome: 'nothing-to-recover', reason: expect.stringContaining(`ended ${status}; nothing to recover`) });
      expect(await db.ledger.release(record)).toEqual(record);
      expect(eventBridge.calls()).toHaveLength(0);
      expect(sm.calls()).toHaveLength(0);
    },
  );

  it('It should take over a stale lock and, with nothing to restore, record the interrupted release and say nothing to recover', async () => {
    await givenOtherHolds();
    const record = await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'ABORTED' });
    sm.on(DescribeEndpointCommand).resolves(UNTOUCHED);

    const result = await call(recover);

    expect(result.outcome).toBe('nothing-to-recover');
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toMatchObject({ owner: ME.arn, action: 'recover' });
    expect((await db.ledger.release(record))?.status).toBe('failed');
  });

  it('It should take over a stale lock and return what must be restored', async () => {
    await givenOtherHolds();
    await givenOtherPlanned();
    givenExecutions(sfn, { [OTHER.arn]: 'ABORTED' });
    sm.on(DescribeEndpointCommand).resolves(HALF_DONE);

    const result = await call(recover);

    expect(result).toMatchObject({ outcome: 'recover', recover: { owner: OTHER.arn, ownerStatus: 'ABORTED' } });
  });
});

describe('rejected requests', () => {
  it('It should refuse an endpoint that is not a target with UnknownTarget, writing nothing', async () => {
    const error = await call({ action: 'rollback', endpointName: 'other-endpoint' }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'UnknownTarget', message: expect.stringContaining('Endpoint other-endpoint is not a configured target') });
    expect(await db.ledger.readLock('other-endpoint')).toBeUndefined();
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toBeUndefined();
    expect(sfn.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
  });

  it.each(['approve', 'reject'])('It should refuse %s, which answers a gate instead of taking the lock', async (action) => {
    await expect(call({ action, endpointName: ENDPOINT_NAME })).rejects.toMatchObject({
      name: 'InvalidReleaseInput',
      message: `Action ${action} answers an approval gate; it does not take the endpoint lock`,
    });
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toBeUndefined();
  });

  it('It should refuse a task payload without the execution with InvalidTaskInput', async () => {
    await expect(takeLock({ input: manualRelease, previous: { attempts: 0 } })).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: expect.stringContaining('execution'),
    });
  });

  it('It should refuse an invalid execution input with InvalidReleaseInput before any call', async () => {
    await expect(call({ action: 'rollback', endpointName: 'bad name' })).rejects.toMatchObject({ name: 'InvalidReleaseInput' });
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('the Lambda handler', () => {
  it('It should take the lock through the middy wrapper with the targets file', async () => {
    const result = await handler({ input: manualRelease, execution: ME, previous: { attempts: 0 } }, lambdaContext('smrm-take-lock'));

    expect(result).toMatchObject({ outcome: 'acquired', endpointName: ENDPOINT_NAME });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(ME.arn);
  });
});
