/**
 * finish-promotion: deletes the endpoint configs the promoted endpoint no longer uses,
 * but only those a release made; a hand-made baseline config and the baseline's model
 * are kept.
 */
import { DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { finishPromotion, handler } from '../../lambdas/handlers/finish-promotion';
import { ENDPOINT_NAME, HAND_MADE_BASELINE, NAMES, makeNewEndpointRelease, makeRelease, releaseMadeBaseline } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { endpointState, mutations, notFound } from './helpers/sagemaker';

const sm = mockClient(SageMakerClient);

function givenPromoted(configName = NAMES.promotedConfigName): void {
  sm.on(DescribeEndpointCommand).resolves(endpointState({ configName, variants: [{ name: NAMES.candidateVariantName, weight: 1 }] }));
  sm.on(DeleteEndpointConfigCommand).resolves({});
}

beforeEach(() => {
  sm.reset();
});

describe('after a promotion', () => {
  it('It should delete the deploy config and keep a hand-made baseline config', async () => {
    givenPromoted();

    const result = await finishPromotion({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: ENDPOINT_NAME });
    expect(sm).toHaveReceivedCommandTimes(DeleteEndpointConfigCommand, 1);
    expect(sm).toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName });
    expect(sm).not.toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: HAND_MADE_BASELINE.configName });
    expect(result).toEqual({ action: `endpoint configs: ${NAMES.deployConfigName} deleted` });
  });

  it('It should also delete a baseline config that an earlier release made', async () => {
    givenPromoted();
    const baseline = releaseMadeBaseline();

    const result = await finishPromotion({ release: makeRelease({ baseline }) });

    expect(sm).toHaveReceivedCommandTimes(DeleteEndpointConfigCommand, 2);
    expect(sm).toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName });
    expect(sm).toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: baseline.configName });
    expect(result.action).toBe(`endpoint configs: ${NAMES.deployConfigName} deleted, ${baseline.configName} deleted`);
  });

  it('It should keep the models: the baseline can be released again', async () => {
    givenPromoted();

    await finishPromotion({ release: makeRelease({ baseline: releaseMadeBaseline() }) });

    expect(sm).not.toHaveReceivedCommand(DeleteModelCommand);
    expect(mutations(sm)).toEqual(['DeleteEndpointConfigCommand', 'DeleteEndpointConfigCommand']);
  });

  it('It should never delete the config the endpoint runs', async () => {
    const baseline = releaseMadeBaseline();
    givenPromoted(baseline.configName);

    await finishPromotion({ release: makeRelease({ baseline }) });

    expect(sm).not.toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: baseline.configName });
    expect(sm).toHaveReceivedCommandTimes(DeleteEndpointConfigCommand, 1);
  });

  it('It should count a config that is already gone as cleaned up (a retry)', async () => {
    givenPromoted();
    sm.on(DeleteEndpointConfigCommand).rejects(notFound('endpoint-config', NAMES.deployConfigName));

    const result = await finishPromotion({ release: makeRelease() });

    expect(result).toEqual({ action: `endpoint configs: ${NAMES.deployConfigName} absent` });
  });

  it('It should have nothing to clean up while the endpoint runs the deploy config next to a hand-made baseline config', async () => {
    givenPromoted(NAMES.deployConfigName);

    const result = await finishPromotion({ release: makeRelease() });

    expect(result).toEqual({ action: 'nothing to clean up' });
    expect(mutations(sm)).toEqual([]);
  });
});

describe('a release that created the endpoint', () => {
  it('It should have nothing to clean up and call nothing', async () => {
    const result = await finishPromotion({ release: makeNewEndpointRelease() });

    expect(result).toEqual({ action: 'nothing to clean up' });
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('the Lambda handler', () => {
  it('It should clean up through the middy wrapper', async () => {
    givenPromoted();

    const result = await handler({ release: makeRelease() }, lambdaContext('smrm-finish-promotion'));

    expect(result).toEqual({ action: `endpoint configs: ${NAMES.deployConfigName} deleted` });
  });
});
