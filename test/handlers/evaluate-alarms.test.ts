/**
 * evaluate-alarms: one health check during a bake. ALARM and a missing alarm are
 * unhealthy; INSUFFICIENT_DATA follows the target's policy; checks are counted per step
 * so the workflow knows when the bake is over.
 */
import { CloudWatchClient, DescribeAlarmsCommand, type CompositeAlarm, type MetricAlarm, type StateValue } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { Progress } from '../../lambdas/contracts';
import { evaluateAlarms, handler } from '../../lambdas/handlers/evaluate-alarms';
import { ENDPOINT_NAME, makeRelease, type ReleaseOverrides } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { execution, publishedEvents, recordOf, seedLock, useLedger, useServiceMocks } from './helpers/ledger';

const cw = mockClient(CloudWatchClient);
const { eventBridge } = useServiceMocks();
const db = useLedger();

const ALARMS = ['churn-5xx', 'churn-latency-p99'];
/** Step 1 (10 %) after its shift: 10 checks, 60 s apart. */
const FIRST_STEP: Progress = { stepIndex: 0, weightPercent: 10, checks: 10, checkIntervalSeconds: 60, isLastStep: false };
const NO_CHECK_YET = { stepIndex: -1, checksDone: 0 };

function metricAlarm(name: string, state: StateValue, reason?: string): MetricAlarm {
  return {
    AlarmName: name,
    AlarmArn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${name}`,
    StateValue: state,
    ...(reason ? { StateReason: reason } : {}),
  };
}

function givenAlarms(...alarms: MetricAlarm[]): void {
  cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: alarms, CompositeAlarms: [] });
}

function input(overrides: ReleaseOverrides = {}, progress: Progress = FIRST_STEP, previous: Record<string, unknown> = NO_CHECK_YET) {
  return { release: makeRelease(overrides), progress, previous };
}

beforeEach(() => {
  cw.reset();
});

describe('the verdict', () => {
  it("It should read the release's alarms, metric and composite, and judge the step healthy when all are OK", async () => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'), metricAlarm('churn-latency-p99', 'OK'));

    const result = await evaluateAlarms(input());

    expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 1);
    expect(cw.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input).toEqual({
      AlarmNames: ALARMS,
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
      MaxRecords: 100,
    });
    expect(result).toEqual({
      stepIndex: 0,
      checksDone: 1,
      verdict: { status: 'healthy', reason: 'all 2 alarms OK' },
      alarms: [
        { name: 'churn-5xx', state: 'OK' },
        { name: 'churn-latency-p99', state: 'OK' },
      ],
      bakeComplete: false,
      moreSteps: true,
    });
  });

  it("It should judge the step unhealthy when an alarm is in ALARM, with CloudWatch's reason", async () => {
    const reason = 'Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (5.0).';
    givenAlarms(metricAlarm('churn-5xx', 'ALARM', reason), metricAlarm('churn-latency-p99', 'OK'));

    const result = await evaluateAlarms(input());

    expect(result.verdict).toEqual({ status: 'unhealthy', reason: `alarm churn-5xx is in ALARM (${reason})` });
    expect(result.alarms[0]).toEqual({ name: 'churn-5xx', state: 'ALARM', reason });
  });

  it('It should judge the step unhealthy when an alarm does not exist: it watches nothing', async () => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'));

    const result = await evaluateAlarms(input());

    expect(result.alarms).toEqual([
      { name: 'churn-5xx', state: 'OK' },
      { name: 'churn-latency-p99', state: 'MISSING' },
    ]);
    expect(result.verdict).toEqual({ status: 'unhealthy', reason: 'alarm churn-latency-p99 does not exist' });
  });

  it('It should call INSUFFICIENT_DATA inconclusive when the policy proceeds', async () => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'), metricAlarm('churn-latency-p99', 'INSUFFICIENT_DATA'));

    const result = await evaluateAlarms(input({ onInsufficientData: 'proceed' }));

    expect(result.verdict).toEqual({
      status: 'inconclusive',
      reason: 'alarm churn-latency-p99 in INSUFFICIENT_DATA; proceeding (onInsufficientData: proceed)',
    });
  });

  it('It should call INSUFFICIENT_DATA unhealthy when the policy rolls back', async () => {
    givenAlarms(metricAlarm('churn-5xx', 'INSUFFICIENT_DATA'), metricAlarm('churn-latency-p99', 'INSUFFICIENT_DATA'));

    const result = await evaluateAlarms(input({ onInsufficientData: 'roll-back' }));

    expect(result.verdict).toEqual({
      status: 'unhealthy',
      reason: "alarms churn-5xx, churn-latency-p99 in INSUFFICIENT_DATA; the target's policy (onInsufficientData: roll-back) fails closed",
    });
  });

  it('It should read composite alarms as well as metric alarms', async () => {
    const composite: CompositeAlarm = { AlarmName: 'churn-latency-p99', StateValue: 'ALARM', StateReason: 'churn-p99-a or churn-p99-b' };
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('churn-5xx', 'OK')], CompositeAlarms: [composite] });

    const result = await evaluateAlarms(input());

    expect(result.verdict).toEqual({ status: 'unhealthy', reason: 'alarm churn-latency-p99 is in ALARM (churn-p99-a or churn-p99-b)' });
  });

  it('It should follow NextToken until CloudWatch has returned every alarm', async () => {
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [metricAlarm('churn-5xx', 'OK')], NextToken: 'page-2' })
      .resolvesOnce({ MetricAlarms: [metricAlarm('churn-latency-p99', 'OK')] });

    const result = await evaluateAlarms(input());

    expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 2);
    expect(cw).toHaveReceivedNthCommandWith(2, DescribeAlarmsCommand, { AlarmNames: ALARMS, NextToken: 'page-2' });
    expect(result.verdict.status).toBe('healthy');
  });

  it('It should call a release without alarms inconclusive without asking CloudWatch', async () => {
    const result = await evaluateAlarms(input({ alarms: [] }));

    expect(cw.calls()).toHaveLength(0);
    expect(result.verdict).toEqual({
      status: 'inconclusive',
      reason: 'no alarms are configured, so nothing was watched; proceeding (onInsufficientData: proceed)',
    });
  });
});

describe('the bake', () => {
  beforeEach(() => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'), metricAlarm('churn-latency-p99', 'OK'));
  });

  it("It should count checks within a step and complete the bake at the step's check count", async () => {
    const ninth = await evaluateAlarms(input({}, FIRST_STEP, { stepIndex: 0, checksDone: 8 }));
    const tenth = await evaluateAlarms(input({}, FIRST_STEP, { ...ninth }));

    expect(ninth).toMatchObject({ stepIndex: 0, checksDone: 9, bakeComplete: false, moreSteps: true });
    expect(tenth).toMatchObject({ stepIndex: 0, checksDone: 10, bakeComplete: true, moreSteps: true });
  });

  it('It should restart the count on a new step', async () => {
    const result = await evaluateAlarms(input({}, { ...FIRST_STEP, stepIndex: 1, weightPercent: 50 }, { stepIndex: 0, checksDone: 10 }));

    expect(result).toMatchObject({ stepIndex: 1, checksDone: 1, bakeComplete: false });
  });

  it('It should report no more steps once the last step has baked', async () => {
    const lastStep: Progress = { stepIndex: 2, weightPercent: 100, checks: 5, checkIntervalSeconds: 60, isLastStep: true };

    const result = await evaluateAlarms(input({}, lastStep, { stepIndex: 2, checksDone: 4 }));

    expect(result).toMatchObject({ stepIndex: 2, checksDone: 5, bakeComplete: true, moreSteps: false });
  });

  it('It should complete a zero-length bake with its single check', async () => {
    const result = await evaluateAlarms(input({}, { stepIndex: 0, weightPercent: 100, checks: 1, checkIntervalSeconds: 0, isLastStep: true }));

    expect(result).toMatchObject({ checksDone: 1, bakeComplete: true, moreSteps: false });
  });
});

describe('input validation', () => {
  it('It should reject a payload without the previous bake with InvalidTaskInput, before any CloudWatch call', async () => {
    await expect(evaluateAlarms({ release: makeRelease(), progress: FIRST_STEP })).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: expect.stringContaining('previous'),
    });
    expect(cw.calls()).toHaveLength(0);
  });
});

describe('the Lambda handler', () => {
  it('It should evaluate the alarms through the middy wrapper', async () => {
    givenAlarms(metricAlarm('churn-5xx', 'ALARM'), metricAlarm('churn-latency-p99', 'OK'));

    const result = await handler(input(), lambdaContext('smrm-evaluate-alarms'));

    expect(result.verdict).toEqual({ status: 'unhealthy', reason: 'alarm churn-5xx is in ALARM' });
  });
});

describe('in the workflow, with the execution', () => {
  const ME = execution('churn-models-v7-0000aaaa');
  const release = makeRelease();
  const record = recordOf(release, ME);
  const STARTED = '2025-06-01T10:10:00.000Z';
  const STEP: Progress = { ...FIRST_STEP, startedAt: STARTED };
  /** The check that ends step 1's bake: the 10th. */
  const LAST_CHECK = { stepIndex: 0, checksDone: 9 };
  const run = (previous: Record<string, unknown>, progress: Progress = STEP) => evaluateAlarms({ release, progress, previous, execution: ME });

  beforeEach(async () => {
    await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: ME.arn, leaseSeconds: 60 });
    await db.ledger.startRelease(record);
    await db.ledger.recordStep({ ...record, step: { index: 0, weightPercent: 10, startedAt: STARTED } });
  });

  it('It should renew the lease on every check and record nothing mid-bake', async () => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'), metricAlarm('churn-latency-p99', 'OK'));
    const before = await db.ledger.readLock(ENDPOINT_NAME);

    const result = await run(NO_CHECK_YET);

    expect(result).toMatchObject({ checksDone: 1, bakeComplete: false, verdict: { status: 'healthy' } });
    expect((await db.ledger.readLock(ENDPOINT_NAME))!.leaseExpiresAt).toBeGreaterThanOrEqual(before!.leaseExpiresAt + release.leaseSeconds - 120);
    expect((await db.ledger.release(record))?.steps).toEqual([{ index: 0, weightPercent: 10, startedAt: STARTED }]);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it("It should record the step's verdict and emit Step Completed when the bake completes healthy", async () => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'), metricAlarm('churn-latency-p99', 'OK'));

    const result = await run(LAST_CHECK);

    expect(result).toMatchObject({ checksDone: 10, bakeComplete: true, moreSteps: true });
    const steps = (await db.ledger.release(record))?.steps;
    expect(steps).toEqual([
      { index: 0, weightPercent: 10, startedAt: STARTED, endedAt: expect.any(String), verdict: { status: 'healthy', reason: 'all 2 alarms OK' } },
    ]);
    const events = publishedEvents(eventBridge);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      detailType: 'Release Step Completed',
      detail: {
        eventId: `${release.releaseId}:${ME.name}:release-step-completed:step-0`,
        releaseId: release.releaseId,
        status: 'running',
        step: { index: 0, weightPercent: 10, verdict: { status: 'healthy', reason: 'all 2 alarms OK' }, stepsTotal: 3 },
      },
    });
  });

  it('It should complete the step on an inconclusive verdict the policy proceeds on', async () => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'), metricAlarm('churn-latency-p99', 'INSUFFICIENT_DATA'));

    await run(LAST_CHECK);

    expect((await db.ledger.release(record))?.steps[0]?.verdict?.status).toBe('inconclusive');
    expect(publishedEvents(eventBridge).map((e) => e.detail.step?.verdict?.status)).toEqual(['inconclusive']);
  });

  it('It should record an unhealthy verdict at once, mid-bake, without Step Completed', async () => {
    givenAlarms(metricAlarm('churn-5xx', 'ALARM', 'Threshold Crossed'), metricAlarm('churn-latency-p99', 'OK'));

    const result = await run({ stepIndex: 0, checksDone: 2 });

    expect(result).toMatchObject({ checksDone: 3, bakeComplete: false, verdict: { status: 'unhealthy' } });
    expect((await db.ledger.release(record))?.steps[0]).toMatchObject({ endedAt: expect.any(String), verdict: result.verdict });
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it("It should turn an operator's rollback into an unhealthy verdict, whatever the alarms say", async () => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'), metricAlarm('churn-latency-p99', 'OK'));
    await db.ledger.requestAbort({ endpointName: ENDPOINT_NAME, owner: ME.arn, reason: 'customer complaints', requestedBy: 'bob', now: new Date() });

    const result = await run(NO_CHECK_YET);

    expect(result.verdict).toEqual({ status: 'unhealthy', reason: 'rollback requested by bob: customer complaints' });
    expect((await db.ledger.release(record))?.steps[0]?.verdict).toEqual(result.verdict);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('It should write the same step once when the completing check is retried', async () => {
    givenAlarms(metricAlarm('churn-5xx', 'OK'), metricAlarm('churn-latency-p99', 'OK'));

    await run(LAST_CHECK);
    await run(LAST_CHECK);

    expect((await db.ledger.release(record))?.steps).toHaveLength(1);
    const [a, b] = publishedEvents(eventBridge);
    expect(b!.detail.eventId).toBe(a!.detail.eventId);
  });

  it('It should stop with LockNotHeld, before reading alarms, when another execution took the lock', async () => {
    const successor = execution('successor');
    await db.ledger.takeOverLock({ endpointName: ENDPOINT_NAME, owner: successor.arn, previousOwner: ME.arn, leaseSeconds: 600, now: new Date() });

    await expect(run(LAST_CHECK)).rejects.toMatchObject({ name: 'LockNotHeld' });
    expect(cw.calls()).toHaveLength(0);
    expect((await db.ledger.release(record))?.steps[0]).not.toHaveProperty('verdict');
  });
});
