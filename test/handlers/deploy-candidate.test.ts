/**
 * deploy-candidate: points the endpoint at the deploy config (or creates the endpoint)
 * and says what the endpoint must look like afterwards. Never sent while the endpoint is
 * not InService; a retry after success is a no-op.
 */
import { CreateEndpointCommand, DescribeEndpointCommand, SageMakerClient, UpdateEndpointCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { deployCandidate, handler } from '../../lambdas/handlers/deploy-candidate';
import { ENDPOINT_NAME, HAND_MADE_BASELINE, NAMES, RELEASE_TAGS, makeNewEndpointRelease, makeRelease } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { endpointState, expectNoMutation, mutations, notFound } from './helpers/sagemaker';

const sm = mockClient(SageMakerClient);

const BASELINE_ONLY = [{ name: HAND_MADE_BASELINE.variantName, weight: 1 }];
const DEPLOYED = [
  { name: HAND_MADE_BASELINE.variantName, weight: 1 },
  { name: NAMES.candidateVariantName, weight: 0 },
];

/** What the endpoint must look like once the candidate is deployed next to the baseline. */
const DEPLOY_EXPECTATION = {
  id: 'deploy',
  endpointName: ENDPOINT_NAME,
  absent: false,
  configName: NAMES.deployConfigName,
  weights: { [HAND_MADE_BASELINE.variantName]: 100, [NAMES.candidateVariantName]: 0 },
};

beforeEach(() => {
  sm.reset();
});

describe('a release to an existing endpoint', () => {
  it('It should point the InService endpoint at the deploy config and expect the candidate at weight 0', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: HAND_MADE_BASELINE.configName, variants: BASELINE_ONLY }));
    sm.on(UpdateEndpointCommand).resolves({ EndpointArn: 'arn' });

    const result = await deployCandidate({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: ENDPOINT_NAME });
    expect(sm).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
    expect(sm.commandCalls(UpdateEndpointCommand)[0]!.args[0].input).toEqual({ EndpointName: ENDPOINT_NAME, EndpointConfigName: NAMES.deployConfigName });
    expect(result).toEqual({ expect: DEPLOY_EXPECTATION, action: `deploying ${NAMES.candidateVariantName} at weight 0 next to AllTraffic` });
    expect(mutations(sm)).toEqual(['UpdateEndpointCommand']);
  });

  it('It should not update an endpoint that already runs the deploy config (a retry after success)', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: NAMES.deployConfigName, variants: DEPLOYED }));

    const result = await deployCandidate({ release: makeRelease() });

    expect(result).toEqual({ expect: DEPLOY_EXPECTATION, action: `endpoint ${ENDPOINT_NAME} already runs or deploys ${NAMES.deployConfigName}` });
    expectNoMutation(sm);
  });

  it('It should not update an endpoint that is already deploying the deploy config', async () => {
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({ status: 'Updating', configName: HAND_MADE_BASELINE.configName, pendingConfigName: NAMES.deployConfigName, variants: BASELINE_ONLY }),
    );

    const result = await deployCandidate({ release: makeRelease() });

    expect(result.expect).toEqual(DEPLOY_EXPECTATION);
    expect(sm).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  it.each(['Updating', 'SystemUpdating', 'RollingBack'] as const)(
    'It should raise EndpointNotInService while the endpoint is %s with another change',
    async (status) => {
      sm.on(DescribeEndpointCommand).resolves(endpointState({ status, configName: HAND_MADE_BASELINE.configName, variants: BASELINE_ONLY }));

      await expect(deployCandidate({ release: makeRelease() })).rejects.toMatchObject({
        name: 'EndpointNotInService',
        message: `Endpoint ${ENDPOINT_NAME} is ${status}; the candidate is deployed once it is InService`,
      });
      expectNoMutation(sm);
    },
  );

  it('It should raise EndpointChanged when the endpoint runs a config other than the baseline', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: 'churn-endpoint-config-hotfix', variants: BASELINE_ONLY }));

    await expect(deployCandidate({ release: makeRelease() })).rejects.toMatchObject({
      name: 'EndpointChanged',
      message: `Endpoint ${ENDPOINT_NAME} runs config churn-endpoint-config-hotfix, not the baseline ${HAND_MADE_BASELINE.configName} it ran when the release was planned`,
    });
    expectNoMutation(sm);
  });

  it('It should raise EndpointChanged when the endpoint was deleted after the plan', async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    await expect(deployCandidate({ release: makeRelease() })).rejects.toMatchObject({
      name: 'EndpointChanged',
      message: `Endpoint ${ENDPOINT_NAME} was deleted after the release was planned`,
    });
    expectNoMutation(sm);
  });
});

describe('a release that creates the endpoint', () => {
  const NEW_ENDPOINT_EXPECTATION = { ...DEPLOY_EXPECTATION, weights: { [NAMES.candidateVariantName]: 100 } };

  it('It should create the endpoint with the deploy config and the release tags', async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));
    sm.on(CreateEndpointCommand).resolves({ EndpointArn: 'arn' });

    const result = await deployCandidate({ release: makeNewEndpointRelease() });

    expect(sm.commandCalls(CreateEndpointCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT_NAME,
      EndpointConfigName: NAMES.deployConfigName,
      Tags: RELEASE_TAGS,
    });
    expect(result).toEqual({ expect: NEW_ENDPOINT_EXPECTATION, action: `creating endpoint ${ENDPOINT_NAME} with ${NAMES.candidateVariantName}` });
    expect(mutations(sm)).toEqual(['CreateEndpointCommand']);
  });

  it('It should not create the endpoint twice (a retry while it is Creating)', async () => {
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({ status: 'Creating', configName: NAMES.deployConfigName, variants: [{ name: NAMES.candidateVariantName, weight: 1 }] }),
    );

    const result = await deployCandidate({ release: makeNewEndpointRelease() });

    expect(result.expect).toEqual(NEW_ENDPOINT_EXPECTATION);
    expectNoMutation(sm);
  });

  it('It should raise EndpointChanged when someone else created the endpoint after the plan', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: 'someone-elses-config', variants: BASELINE_ONLY }));

    await expect(deployCandidate({ release: makeNewEndpointRelease() })).rejects.toMatchObject({
      name: 'EndpointChanged',
      message: `Endpoint ${ENDPOINT_NAME} was created by someone else (config someone-elses-config) after the release was planned`,
    });
    expectNoMutation(sm);
  });
});

describe('the Lambda handler', () => {
  it('It should deploy through the middy wrapper', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: HAND_MADE_BASELINE.configName, variants: BASELINE_ONLY }));
    sm.on(UpdateEndpointCommand).resolves({});

    const result = await handler({ release: makeRelease() }, lambdaContext('smrm-deploy-candidate'));

    expect(result.expect).toEqual(DEPLOY_EXPECTATION);
    expect(sm).toHaveReceivedCommandWith(UpdateEndpointCommand, { EndpointName: ENDPOINT_NAME, EndpointConfigName: NAMES.deployConfigName });
  });

  it('It should reject an invalid payload through the middy wrapper with InvalidTaskInput', async () => {
    await expect(handler({ release: { ...makeRelease(), steps: [] } }, lambdaContext('smrm-deploy-candidate'))).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: expect.stringContaining('release.steps'),
    });
    expect(sm.calls()).toHaveLength(0);
  });
});
