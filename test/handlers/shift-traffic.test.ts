/**
 * shift-traffic: sets absolute weights for the next step with
 * UpdateEndpointWeightsAndCapacities, only on an InService endpoint, and not again when
 * the weights are already set. The fixture's steps are 10 %, 50 %, 100 %. In the
 * workflow (with the execution) it renews the endpoint lock, honours an operator's
 * rollback and records the step's start in the ledger (dynalite).
 */
import { DescribeEndpointCommand, SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { Progress } from '../../lambdas/contracts';
import { handler, shiftTraffic } from '../../lambdas/handlers/shift-traffic';
import { ENDPOINT_NAME, HAND_MADE_BASELINE, NAMES, makeNewEndpointRelease, makeRelease } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { execution, recordOf, seedLock, useLedger } from './helpers/ledger';
import { endpointState, expectNoMutation, mutations, notFound, validationException, type VariantState } from './helpers/sagemaker';

const sm = mockClient(SageMakerClient);
const db = useLedger();
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const BASELINE = HAND_MADE_BASELINE.variantName;
const CANDIDATE = NAMES.candidateVariantName;

/** The progress the workflow starts with, before the first shift. */
const BEFORE_FIRST_STEP: Progress = { stepIndex: -1 };

function givenDeployConfig(variants: VariantState[], status: 'InService' | 'Updating' = 'InService'): void {
  sm.on(DescribeEndpointCommand).resolves(endpointState({ status, configName: NAMES.deployConfigName, variants }));
  sm.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn' });
}

/** The candidate deployed at weight 0 next to the baseline. */
const JUST_DEPLOYED: VariantState[] = [
  { name: BASELINE, weight: 1 },
  { name: CANDIDATE, weight: 0 },
];

beforeEach(() => {
  sm.reset();
});

describe('a release next to a baseline', () => {
  it('It should set absolute weights for the first step and say what to expect', async () => {
    givenDeployConfig(JUST_DEPLOYED);

    const result = await shiftTraffic({ release: makeRelease(), progress: BEFORE_FIRST_STEP });

    expect(sm).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: ENDPOINT_NAME });
    expect(sm).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, 1);
    expect(sm.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT_NAME,
      DesiredWeightsAndCapacities: [
        { VariantName: BASELINE, DesiredWeight: 90 },
        { VariantName: CANDIDATE, DesiredWeight: 10 },
      ],
    });
    expect(result).toEqual({
      stepIndex: 0,
      weightPercent: 10,
      checks: 10,
      checkIntervalSeconds: 60,
      isLastStep: false,
      startedAt: expect.stringMatching(ISO_MS),
      expect: { id: 'step-1', endpointName: ENDPOINT_NAME, absent: false, configName: NAMES.deployConfigName, weights: { [BASELINE]: 90, [CANDIDATE]: 10 } },
      action: `shifting 10 % of traffic to ${CANDIDATE}`,
    });
    expect(mutations(sm)).toEqual(['UpdateEndpointWeightsAndCapacitiesCommand']);
  });

  it('It should move all traffic to the candidate on the last step and mark it last', async () => {
    givenDeployConfig([
      { name: BASELINE, weight: 50 },
      { name: CANDIDATE, weight: 50 },
    ]);

    const result = await shiftTraffic({
      release: makeRelease(),
      progress: { stepIndex: 1, weightPercent: 50, checks: 10, checkIntervalSeconds: 60, isLastStep: false },
    });

    expect(sm).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      EndpointName: ENDPOINT_NAME,
      DesiredWeightsAndCapacities: [
        { VariantName: BASELINE, DesiredWeight: 0 },
        { VariantName: CANDIDATE, DesiredWeight: 100 },
      ],
    });
    expect(result).toMatchObject({
      stepIndex: 2,
      weightPercent: 100,
      checks: 5,
      isLastStep: true,
      expect: { id: 'step-3', weights: { [BASELINE]: 0, [CANDIDATE]: 100 } },
    });
  });

  it('It should not send weights that are already set (a retry after success)', async () => {
    givenDeployConfig([
      { name: BASELINE, weight: 90 },
      { name: CANDIDATE, weight: 10 },
    ]);

    const result = await shiftTraffic({ release: makeRelease(), progress: BEFORE_FIRST_STEP });

    expect(sm).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(result).toMatchObject({ stepIndex: 0, action: `traffic already at 10 % for ${CANDIDATE}` });
  });

  it('It should recognise the weights as set when SageMaker normalised them', async () => {
    givenDeployConfig([
      { name: BASELINE, weight: 0.9 },
      { name: CANDIDATE, weight: 0.1 },
    ]);

    await shiftTraffic({ release: makeRelease(), progress: BEFORE_FIRST_STEP });

    expectNoMutation(sm);
  });

  it('It should not send weights again while SageMaker is applying the same weights', async () => {
    givenDeployConfig(
      [
        { name: BASELINE, weight: 1, desiredWeight: 90 },
        { name: CANDIDATE, weight: 0, desiredWeight: 10 },
      ],
      'Updating',
    );

    const result = await shiftTraffic({ release: makeRelease(), progress: BEFORE_FIRST_STEP });

    expect(sm).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(result.expect.weights).toEqual({ [BASELINE]: 90, [CANDIDATE]: 10 });
  });

  it('It should raise EndpointNotInService while the endpoint is Updating toward other weights', async () => {
    givenDeployConfig(JUST_DEPLOYED, 'Updating');

    await expect(shiftTraffic({ release: makeRelease(), progress: BEFORE_FIRST_STEP })).rejects.toMatchObject({
      name: 'EndpointNotInService',
      message: `Endpoint ${ENDPOINT_NAME} is Updating; traffic is shifted once it is InService`,
    });
    expectNoMutation(sm);
  });

  it('It should turn "Cannot update in-progress endpoint" into EndpointNotInService, which the workflow retries', async () => {
    givenDeployConfig(JUST_DEPLOYED);
    // Something else (autoscaling, an operator) started a change between the read and the write.
    sm.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(
      validationException(`Cannot update in-progress endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/${ENDPOINT_NAME}".`),
    );

    await expect(shiftTraffic({ release: makeRelease(), progress: BEFORE_FIRST_STEP })).rejects.toMatchObject({
      name: 'EndpointNotInService',
      message: expect.stringMatching(/started another change first: Cannot update in-progress endpoint/),
    });
  });

  it('It should raise EndpointChanged when the endpoint was deleted during the release', async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    await expect(shiftTraffic({ release: makeRelease(), progress: BEFORE_FIRST_STEP })).rejects.toMatchObject({
      name: 'EndpointChanged',
      message: `Endpoint ${ENDPOINT_NAME} was deleted during the release`,
    });
    expectNoMutation(sm);
  });

  it('It should raise InvalidTaskInput when the release has no next step, before any SDK call', async () => {
    await expect(shiftTraffic({ release: makeRelease(), progress: { stepIndex: 2 } })).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: 'progress.stepIndex 2 has no next step (release has 3)',
    });
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('a release that created the endpoint', () => {
  it('It should not touch the endpoint: the candidate already serves all traffic', async () => {
    const result = await shiftTraffic({ release: makeNewEndpointRelease(), progress: BEFORE_FIRST_STEP });

    expect(sm.calls()).toHaveLength(0);
    expect(result).toEqual({
      stepIndex: 0,
      weightPercent: 10,
      checks: 10,
      checkIntervalSeconds: 60,
      isLastStep: false,
      startedAt: expect.stringMatching(ISO_MS),
      expect: { id: 'step-1', endpointName: ENDPOINT_NAME, absent: false, configName: NAMES.deployConfigName, weights: { [CANDIDATE]: 100 } },
      action: `endpoint ${ENDPOINT_NAME} was created with ${CANDIDATE} alone: it already serves 100 %`,
    });
  });
});

describe('the Lambda handler', () => {
  it('It should shift traffic through the middy wrapper', async () => {
    givenDeployConfig(JUST_DEPLOYED);

    const result = await handler({ release: makeRelease(), progress: BEFORE_FIRST_STEP }, lambdaContext('smrm-shift-traffic'));

    expect(result).toMatchObject({ stepIndex: 0, weightPercent: 10 });
    expect(sm).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, 1);
  });
});

describe('in the workflow, with the execution', () => {
  const ME = execution('churn-models-v7-0000aaaa');
  const release = makeRelease();
  const record = recordOf(release, ME);

  beforeEach(async () => {
    await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: ME.arn, leaseSeconds: 60 });
    await db.ledger.startRelease(record);
  });

  it("It should record the step's start, renew the lease, and shift", async () => {
    givenDeployConfig(JUST_DEPLOYED);

    const result = await shiftTraffic({ release, progress: BEFORE_FIRST_STEP, execution: ME });

    expect((await db.ledger.release(record))?.steps).toEqual([{ index: 0, weightPercent: 10, startedAt: result.startedAt }]);
    const lock = await db.ledger.readLock(ENDPOINT_NAME);
    expect(lock!.leaseExpiresAt).toBeGreaterThanOrEqual(Math.floor(Date.parse(result.startedAt) / 1000) + release.leaseSeconds - 1);
    expect(mutations(sm)).toEqual(['UpdateEndpointWeightsAndCapacitiesCommand']);
  });

  it('It should append the next step after the judged one', async () => {
    const judged = {
      index: 0,
      weightPercent: 10,
      startedAt: '2025-06-01T10:10:00.000Z',
      endedAt: '2025-06-01T10:20:00.000Z',
      verdict: { status: 'healthy' as const, reason: 'ok' },
    };
    await db.ledger.recordStep({ ...record, step: judged });
    givenDeployConfig([
      { name: BASELINE, weight: 90 },
      { name: CANDIDATE, weight: 10 },
    ]);

    const result = await shiftTraffic({ release, progress: { stepIndex: 0, weightPercent: 10, checks: 10, checkIntervalSeconds: 60 }, execution: ME });

    expect((await db.ledger.release(record))?.steps).toEqual([judged, { index: 1, weightPercent: 50, startedAt: result.startedAt }]);
  });

  it("It should stop with ReleaseAborted at an operator's rollback, before touching the endpoint or the record", async () => {
    await db.ledger.requestAbort({ endpointName: ENDPOINT_NAME, owner: ME.arn, reason: 'bad canary', requestedBy: 'bob', now: new Date() });
    givenDeployConfig(JUST_DEPLOYED);

    await expect(shiftTraffic({ release, progress: BEFORE_FIRST_STEP, execution: ME })).rejects.toMatchObject({
      name: 'ReleaseAborted',
      message: 'rollback requested by bob: bad canary; no more traffic is shifted',
    });
    expect(sm.calls()).toHaveLength(0);
    expect((await db.ledger.release(record))?.steps).toEqual([]);
  });

  it('It should stop with LockNotHeld when another execution took the lock over, touching nothing', async () => {
    const successor = execution('successor');
    await db.ledger.takeOverLock({ endpointName: ENDPOINT_NAME, owner: successor.arn, previousOwner: ME.arn, leaseSeconds: 600, now: new Date() });
    givenDeployConfig(JUST_DEPLOYED);

    await expect(shiftTraffic({ release, progress: BEFORE_FIRST_STEP, execution: ME })).rejects.toMatchObject({ name: 'LockNotHeld', holder: successor.arn });
    expect(sm.calls()).toHaveLength(0);
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(successor.arn);
  });
});
