/**
 * roll-back: one reconciliation step per call toward the endpoint as it was before the
 * release: weights back to the baseline, then the baseline config, then the candidate's
 * resources deleted. `done` only once the baseline has been read back. The fixture's
 * maxPolls is 4, so a rollback may take 12 attempts.
 */
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { Failure, Release } from '../../lambdas/contracts';
import { handler, rollBack, type RollbackStepOutput } from '../../lambdas/handlers/roll-back';
import { ENDPOINT_NAME, HAND_MADE_BASELINE, NAMES, makeNewEndpointRelease, makeRelease } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { endpointState, expectNoMutation, mutations, notFound, sentCommands } from './helpers/sagemaker';

const sm = mockClient(SageMakerClient);

const BASELINE = HAND_MADE_BASELINE.variantName;
const CANDIDATE = NAMES.candidateVariantName;

const UNHEALTHY: Failure = { Error: 'CandidateUnhealthy', Cause: 'alarm churn-5xx is in ALARM' };
const FIRST_ATTEMPT = { attempt: 0 };

function input(release: Release = makeRelease(), previous: Record<string, unknown> = FIRST_ATTEMPT, failure: Failure = UNHEALTHY) {
  return { release, failure, previous };
}

const halfway = (status: 'InService' | 'Updating' = 'InService'): DescribeEndpointOutput =>
  endpointState({
    status,
    configName: NAMES.deployConfigName,
    variants: [
      { name: BASELINE, weight: 50 },
      { name: CANDIDATE, weight: 50 },
    ],
  });
const trafficRestored = (status: 'InService' | 'Updating' = 'InService'): DescribeEndpointOutput =>
  endpointState({
    status,
    configName: NAMES.deployConfigName,
    variants: [
      { name: BASELINE, weight: 1 },
      { name: CANDIDATE, weight: 0 },
    ],
  });
const baselineAlone = (): DescribeEndpointOutput => endpointState({ configName: HAND_MADE_BASELINE.configName, variants: [{ name: BASELINE, weight: 1 }] });

function givenMutationsSucceed(): void {
  sm.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn' });
  sm.on(UpdateEndpointCommand).resolves({ EndpointArn: 'arn' });
  sm.on(DeleteEndpointCommand).resolves({});
  sm.on(DeleteEndpointConfigCommand).resolves({});
  sm.on(DeleteModelCommand).resolves({});
}

const CLEANUP = `endpoint configs: ${NAMES.deployConfigName} deleted, ${NAMES.promotedConfigName} deleted; model ${NAMES.modelName} deleted`;

beforeEach(() => {
  sm.reset();
  givenMutationsSucceed();
});

describe('a release next to a baseline', () => {
  it('It should first set absolute weights back to the baseline', async () => {
    sm.on(DescribeEndpointCommand).resolves(halfway());

    const result = await rollBack(input());

    expect(sm.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT_NAME,
      DesiredWeightsAndCapacities: [
        { VariantName: BASELINE, DesiredWeight: 1 },
        { VariantName: CANDIDATE, DesiredWeight: 0 },
      ],
    });
    expect(mutations(sm)).toEqual(['UpdateEndpointWeightsAndCapacitiesCommand']);
    expect(result).toEqual({
      attempt: 1,
      done: false,
      action: `shifting all traffic back to ${BASELINE}`,
      reason: 'CandidateUnhealthy: alarm churn-5xx is in ALARM',
      observed: {
        status: 'InService',
        configName: NAMES.deployConfigName,
        variants: [
          { name: BASELINE, currentWeight: 50, desiredWeight: 50, instances: 2 },
          { name: CANDIDATE, currentWeight: 50, desiredWeight: 50, instances: 2 },
        ],
      },
    });
  });

  it("It should restore the baseline's planned weight, and 1 when it was planned at 0", async () => {
    sm.on(DescribeEndpointCommand).resolves(halfway());

    await rollBack(input(makeRelease({ baseline: { ...HAND_MADE_BASELINE, weight: 3 } })));
    await rollBack(input(makeRelease({ baseline: { ...HAND_MADE_BASELINE, weight: 0 } })));

    expect(sm).toHaveReceivedNthSpecificCommandWith(1, UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [
        { VariantName: BASELINE, DesiredWeight: 3 },
        { VariantName: CANDIDATE, DesiredWeight: 0 },
      ],
    });
    expect(sm).toHaveReceivedNthSpecificCommandWith(2, UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [
        { VariantName: BASELINE, DesiredWeight: 1 },
        { VariantName: CANDIDATE, DesiredWeight: 0 },
      ],
    });
  });

  it('It should move the endpoint back to the baseline config once the baseline has all traffic', async () => {
    sm.on(DescribeEndpointCommand).resolves(trafficRestored());

    const result = await rollBack(input(makeRelease(), { attempt: 2, reason: 'CandidateUnhealthy: alarm churn-5xx is in ALARM' }));

    expect(sm.commandCalls(UpdateEndpointCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT_NAME,
      EndpointConfigName: HAND_MADE_BASELINE.configName,
    });
    expect(mutations(sm)).toEqual(['UpdateEndpointCommand']);
    expect(result).toMatchObject({ attempt: 3, done: false, action: `removing ${CANDIDATE}: endpoint moves back to ${HAND_MADE_BASELINE.configName}` });
  });

  it('It should move back to the baseline config from the promoted config', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: NAMES.promotedConfigName, variants: [{ name: CANDIDATE, weight: 1 }] }));

    const result = await rollBack(input(makeRelease(), FIRST_ATTEMPT, { Error: 'PromotionFailed', Cause: 'timed out after 4 polls waiting for promote' }));

    expect(sm).toHaveReceivedCommandWith(UpdateEndpointCommand, { EndpointName: ENDPOINT_NAME, EndpointConfigName: HAND_MADE_BASELINE.configName });
    expect(sm).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(result.done).toBe(false);
  });

  it.each(['Updating', 'SystemUpdating', 'RollingBack'] as const)('It should wait and change nothing while the endpoint is %s', async (status) => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ status, configName: NAMES.deployConfigName, variants: [{ name: BASELINE, weight: 1 }] }));

    const result = await rollBack(input());

    expect(result).toMatchObject({ attempt: 1, done: false, action: `waiting: endpoint is ${status}` });
    expectNoMutation(sm);
  });

  it("It should be done once the baseline is read back, and delete the candidate's configs and model", async () => {
    sm.on(DescribeEndpointCommand).resolves(baselineAlone());

    const result = await rollBack(input(makeRelease(), { attempt: 4, reason: 'CandidateUnhealthy: alarm churn-5xx is in ALARM' }));

    expect(result).toMatchObject({
      attempt: 5,
      done: true,
      action: `endpoint runs the baseline config ${HAND_MADE_BASELINE.configName} with ${BASELINE} alone; ${CLEANUP}`,
    });
    expect(sm).toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName });
    expect(sm).toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: NAMES.promotedConfigName });
    expect(sm).toHaveReceivedCommandWith(DeleteModelCommand, { ModelName: NAMES.modelName });
    expect(sm).not.toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: HAND_MADE_BASELINE.configName });
    expect(sm).not.toHaveReceivedCommandWith(DeleteModelCommand, { ModelName: HAND_MADE_BASELINE.modelName });
    expect(sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
  });

  it('It should count candidate resources that never existed or are gone as cleaned up', async () => {
    sm.on(DescribeEndpointCommand).resolves(baselineAlone());
    sm.on(DeleteEndpointConfigCommand).callsFake((request: { EndpointConfigName: string }) => {
      throw notFound('endpoint-config', request.EndpointConfigName);
    });
    sm.on(DeleteModelCommand).rejects(notFound('model', NAMES.modelName));

    const result = await rollBack(input(makeRelease(), FIRST_ATTEMPT, { Error: 'ResourceLimitExceeded', Cause: 'limit for models' }));

    expect(result.done).toBe(true);
    expect(result.action).toContain(`endpoint configs: ${NAMES.deployConfigName} absent, ${NAMES.promotedConfigName} absent; model ${NAMES.modelName} absent`);
  });

  it('It should go weights -> config -> cleanup -> done, feeding each output into the next call', async () => {
    sm.on(DescribeEndpointCommand)
      .resolvesOnce(halfway())
      .resolvesOnce(halfway('Updating'))
      .resolvesOnce(trafficRestored())
      .resolvesOnce(trafficRestored('Updating'))
      .resolvesOnce(baselineAlone());

    const outputs: RollbackStepOutput[] = [];
    let previous: Record<string, unknown> = FIRST_ATTEMPT;
    for (let i = 0; i < 5; i++) {
      const output = await rollBack(input(makeRelease(), previous, i === 0 ? UNHEALTHY : { Error: 'SomethingElse' }));
      outputs.push(output);
      previous = { ...output };
    }

    expect(outputs.map((o) => [o.attempt, o.done])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, false],
      [5, true],
    ]);
    // The reason of the first attempt is kept to the end.
    expect(new Set(outputs.map((o) => o.reason))).toEqual(new Set(['CandidateUnhealthy: alarm churn-5xx is in ALARM']));
    expect(sentCommands(sm)).toEqual([
      'DescribeEndpointCommand',
      'UpdateEndpointWeightsAndCapacitiesCommand',
      'DescribeEndpointCommand',
      'DescribeEndpointCommand',
      'UpdateEndpointCommand',
      'DescribeEndpointCommand',
      'DescribeEndpointCommand',
      'DeleteEndpointConfigCommand',
      'DeleteEndpointConfigCommand',
      'DeleteModelCommand',
    ]);
  });
});

describe('a rollback that cannot be completed', () => {
  it('It should fail with RollbackFailed when the endpoint no longer exists', async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    await expect(rollBack(input())).rejects.toMatchObject({
      name: 'RollbackFailed',
      message: `Endpoint ${ENDPOINT_NAME} no longer exists; the baseline ${BASELINE} cannot be restored`,
    });
    expectNoMutation(sm);
  });

  it("It should fail with RollbackFailed and the endpoint's state when the endpoint is Failed", async () => {
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({
        status: 'Failed',
        configName: NAMES.deployConfigName,
        variants: [{ name: BASELINE, weight: 1 }],
        failureReason: 'Insufficient capacity',
      }),
    );

    await expect(rollBack(input())).rejects.toMatchObject({
      name: 'RollbackFailed',
      message: `Endpoint ${ENDPOINT_NAME} is status Failed; config ${NAMES.deployConfigName}; traffic ${BASELINE}=100%; FailureReason: Insufficient capacity; the release manager cannot restore the baseline from this state`,
    });
    expectNoMutation(sm);
  });

  it("It should fail with RollbackFailed, the endpoint's state and the reason once the attempts exceed the limit", async () => {
    sm.on(DescribeEndpointCommand).resolves(halfway('Updating'));

    const failing = rollBack(input(makeRelease(), { attempt: 12, reason: 'CandidateUnhealthy: alarm churn-5xx is in ALARM' }));

    await expect(failing).rejects.toMatchObject({
      name: 'RollbackFailed',
      message:
        `Rollback of ${NAMES.releaseId} on ${ENDPOINT_NAME} did not complete after 12 attempts. ` +
        `Endpoint: status Updating; config ${NAMES.deployConfigName}; traffic ${BASELINE}=50%, ${CANDIDATE}=50%. ` +
        'Release failed because: CandidateUnhealthy: alarm churn-5xx is in ALARM',
    });
    expectNoMutation(sm);
  });

  it('It should count a baseline read back on the attempt past the limit as done, not failed', async () => {
    sm.on(DescribeEndpointCommand).resolves(baselineAlone());
    givenMutationsSucceed();

    const result = await rollBack(input(makeRelease(), { attempt: 12 }));

    expect(result).toMatchObject({ attempt: 13, done: true });
  });

  it('It should leave alone an endpoint someone moved to a config that is neither the baseline nor the release', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: 'operator-hotfix', variants: [{ name: BASELINE, weight: 1 }] }));

    await expect(rollBack(input())).rejects.toMatchObject({
      name: 'RollbackFailed',
      message: expect.stringMatching(/runs config operator-hotfix, which is neither the baseline .* nor this release's; it was changed by someone else/),
    });
    expectNoMutation(sm);
  });

  it('It should still act on the last attempt the limit allows', async () => {
    sm.on(DescribeEndpointCommand).resolves(halfway());

    const result = await rollBack(input(makeRelease(), { attempt: 11 }));

    expect(result).toMatchObject({ attempt: 12, done: false });
    expect(sm).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, 1);
  });
});

describe('a release that created the endpoint', () => {
  it('It should delete the endpoint the release created', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: NAMES.deployConfigName, variants: [{ name: CANDIDATE, weight: 1 }] }));

    const result = await rollBack(input(makeNewEndpointRelease()));

    expect(sm.commandCalls(DeleteEndpointCommand)[0]!.args[0].input).toEqual({ EndpointName: ENDPOINT_NAME });
    expect(mutations(sm)).toEqual(['DeleteEndpointCommand']);
    expect(result).toMatchObject({ attempt: 1, done: false, action: `deleting endpoint ${ENDPOINT_NAME} (InService), which the release created` });
  });

  it('It should not delete an endpoint that runs a config the release did not create', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: 'someone-elses-config', variants: [{ name: 'AllTraffic', weight: 1 }] }));

    const result = await rollBack(input(makeNewEndpointRelease()));

    expect(sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
    expect(result).toMatchObject({
      done: true,
      action: expect.stringMatching(/runs config someone-elses-config, which this release did not create: left alone/),
    });
  });

  it('It should delete a created endpoint that Failed', async () => {
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({ status: 'Failed', configName: NAMES.deployConfigName, variants: [{ name: CANDIDATE, weight: 1 }], failureReason: 'ping health check' }),
    );

    await rollBack(input(makeNewEndpointRelease()));

    expect(sm).toHaveReceivedCommandWith(DeleteEndpointCommand, { EndpointName: ENDPOINT_NAME });
  });

  it('It should wait while the endpoint is Creating or Deleting', async () => {
    sm.on(DescribeEndpointCommand)
      .resolvesOnce(endpointState({ status: 'Creating', configName: NAMES.deployConfigName, variants: [] }))
      .resolvesOnce(endpointState({ status: 'Deleting', configName: NAMES.deployConfigName, variants: [] }));

    const creating = await rollBack(input(makeNewEndpointRelease()));
    const deleting = await rollBack(input(makeNewEndpointRelease(), { ...creating }));

    expect([creating.action, deleting.action]).toEqual(['waiting: endpoint is Creating', 'waiting: endpoint is Deleting']);
    expectNoMutation(sm);
  });

  it("It should be done once the endpoint is gone, and delete the candidate's configs and model", async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    const result = await rollBack(input(makeNewEndpointRelease(), { attempt: 3 }));

    expect(result).toEqual({
      attempt: 4,
      done: true,
      action: `endpoint ${ENDPOINT_NAME} does not exist; ${CLEANUP}`,
      reason: 'CandidateUnhealthy: alarm churn-5xx is in ALARM',
      observed: null,
    });
    expect(sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
  });
});

describe('the reason', () => {
  beforeEach(() => {
    sm.on(DescribeEndpointCommand).resolves(baselineAlone());
  });

  it("It should read the reason from a Lambda-style JSON Cause, with the error's own type", async () => {
    const cause = JSON.stringify({
      errorType: 'ResourceConflict',
      errorMessage: `endpoint config ${NAMES.deployConfigName} already exists with other variants`,
      trace: ['ResourceConflict: endpoint config ...', '    at ensureEndpointConfig (/var/task/index.js:1:1)'],
    });

    const result = await rollBack(input(makeRelease(), FIRST_ATTEMPT, { Error: 'ResourceConflict', Cause: cause }));

    expect(result.reason).toBe(`ResourceConflict: endpoint config ${NAMES.deployConfigName} already exists with other variants`);
  });

  it('It should use the Error name when the Cause carries no errorType', async () => {
    const result = await rollBack(
      input(makeRelease(), FIRST_ATTEMPT, { Error: 'Lambda.Unknown', Cause: '{"errorMessage":"Task timed out after 90.00 seconds"}' }),
    );

    expect(result.reason).toBe('Lambda.Unknown: Task timed out after 90.00 seconds');
  });

  it('It should use the error alone when there is no cause', async () => {
    const result = await rollBack(input(makeRelease(), FIRST_ATTEMPT, { Error: 'States.Timeout' }));

    expect(result.reason).toBe('States.Timeout');
  });

  it('It should keep the reason recorded by the first attempt', async () => {
    const result = await rollBack(input(makeRelease(), { attempt: 2, reason: 'TrafficShiftFailed: endpoint reverted' }, { Error: 'States.Timeout' }));

    expect(result.reason).toBe('TrafficShiftFailed: endpoint reverted');
  });
});

describe('input validation', () => {
  it('It should reject a payload without the previous attempt with InvalidTaskInput, before any SDK call', async () => {
    await expect(rollBack({ release: makeRelease(), failure: UNHEALTHY })).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: expect.stringContaining('previous'),
    });
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('the Lambda handler', () => {
  it('It should roll back through the middy wrapper', async () => {
    sm.on(DescribeEndpointCommand).resolves(halfway());

    const result = await handler(input(), lambdaContext('smrm-roll-back'));

    expect(result).toMatchObject({ attempt: 1, done: false, action: `shifting all traffic back to ${BASELINE}` });
    expect(sm).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, 1);
  });

  it('It should pass RollbackFailed through the middy wrapper for the workflow to catch', async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    await expect(handler(input(), lambdaContext('smrm-roll-back'))).rejects.toMatchObject({ name: 'RollbackFailed' });
  });
});
