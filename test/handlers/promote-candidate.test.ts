/**
 * promote-candidate: after the last bake, the endpoint moves to a config with the
 * candidate alone, so the baseline's instances are released. A retry is a no-op.
 */
import {
  CreateEndpointConfigCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler, promoteCandidate } from '../../lambdas/handlers/promote-candidate';
import { ENDPOINT_NAME, HAND_MADE_BASELINE, NAMES, RELEASE_TAGS, makeNewEndpointRelease, makeRelease } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { alreadyExists, endpointState, expectNoMutation, mutations, notFound, sagemakerArn, type VariantState } from './helpers/sagemaker';

const sm = mockClient(SageMakerClient);

const BASELINE = HAND_MADE_BASELINE.variantName;
const CANDIDATE = NAMES.candidateVariantName;

const DATA_CAPTURE = {
  EnableCapture: true,
  InitialSamplingPercentage: 20,
  DestinationS3Uri: 's3://churn-capture/endpoint',
  CaptureOptions: [{ CaptureMode: 'Input' as const }],
};
const KMS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const CANDIDATE_SPEC: ProductionVariant = {
  VariantName: CANDIDATE,
  ModelName: NAMES.modelName,
  InstanceType: 'ml.m5.large',
  InitialInstanceCount: 2,
  InitialVariantWeight: 0,
  ContainerStartupHealthCheckTimeoutInSeconds: 600,
};

/** After the last step: all traffic on the candidate, which autoscaling grew to 4 instances. */
const AFTER_LAST_STEP: VariantState[] = [
  { name: BASELINE, weight: 0, instances: 3 },
  { name: CANDIDATE, weight: 100, instances: 4 },
];

const PROMOTE_EXPECTATION = {
  id: 'promote',
  endpointName: ENDPOINT_NAME,
  absent: false,
  configName: NAMES.promotedConfigName,
  weights: { [CANDIDATE]: 100 },
};

function givenAfterLastStep(): void {
  sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: NAMES.deployConfigName, variants: AFTER_LAST_STEP }));
  sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName }).resolves({
    EndpointConfigName: NAMES.deployConfigName,
    EndpointConfigArn: sagemakerArn('endpoint-config', NAMES.deployConfigName),
    ProductionVariants: [
      { VariantName: BASELINE, ModelName: HAND_MADE_BASELINE.modelName, InstanceType: 'ml.c5.xlarge', InitialInstanceCount: 3, InitialVariantWeight: 1 },
      CANDIDATE_SPEC,
    ],
    DataCaptureConfig: DATA_CAPTURE,
    KmsKeyId: KMS_KEY,
    CreationTime: new Date('2025-06-01T10:00:00Z'),
  });
  sm.on(CreateEndpointConfigCommand).resolves({ EndpointConfigArn: sagemakerArn('endpoint-config', NAMES.promotedConfigName) });
  sm.on(UpdateEndpointCommand).resolves({ EndpointArn: sagemakerArn('endpoint', ENDPOINT_NAME) });
}

/** The promoted config: the candidate's spec from the deploy config, alone, at its live instance count. */
const PROMOTED_VARIANTS: ProductionVariant[] = [{ ...CANDIDATE_SPEC, InitialVariantWeight: 1, InitialInstanceCount: 4 }];

beforeEach(() => {
  sm.reset();
});

describe('a release next to a baseline', () => {
  it('It should create the promoted config with the candidate alone and move the endpoint to it', async () => {
    givenAfterLastStep();

    const result = await promoteCandidate({ release: makeRelease() });

    expect(sm.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: NAMES.promotedConfigName,
      ProductionVariants: PROMOTED_VARIANTS,
      DataCaptureConfig: DATA_CAPTURE,
      KmsKeyId: KMS_KEY,
      Tags: RELEASE_TAGS,
    });
    expect(sm.commandCalls(UpdateEndpointCommand)[0]!.args[0].input).toEqual({ EndpointName: ENDPOINT_NAME, EndpointConfigName: NAMES.promotedConfigName });
    expect(mutations(sm)).toEqual(['CreateEndpointConfigCommand', 'UpdateEndpointCommand']);
    expect(result).toEqual({ expect: PROMOTE_EXPECTATION, action: `retiring AllTraffic: endpoint moves to ${NAMES.promotedConfigName}` });
  });

  it("It should build the candidate's variant from the release when the deploy config cannot be read", async () => {
    givenAfterLastStep();
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName }).rejects(notFound('endpoint-config', NAMES.deployConfigName));

    await promoteCandidate({ release: makeRelease() });

    expect(sm.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: NAMES.promotedConfigName,
      ProductionVariants: [
        { VariantName: CANDIDATE, ModelName: NAMES.modelName, InstanceType: 'ml.m5.large', InitialInstanceCount: 4, InitialVariantWeight: 1 },
      ],
      Tags: RELEASE_TAGS,
    });
  });

  it('It should do nothing when the endpoint already runs the promoted config (a retry after success)', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: NAMES.promotedConfigName, variants: [{ name: CANDIDATE, weight: 1 }] }));

    const result = await promoteCandidate({ release: makeRelease() });

    expect(result).toEqual({ expect: PROMOTE_EXPECTATION, action: `endpoint already runs or deploys ${NAMES.promotedConfigName}` });
    expectNoMutation(sm);
  });

  it('It should do nothing when the endpoint is already moving to the promoted config', async () => {
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({ status: 'Updating', configName: NAMES.deployConfigName, pendingConfigName: NAMES.promotedConfigName, variants: AFTER_LAST_STEP }),
    );

    const result = await promoteCandidate({ release: makeRelease() });

    expect(result.expect).toEqual(PROMOTE_EXPECTATION);
    expectNoMutation(sm);
  });

  it('It should reuse the promoted config an interrupted attempt created', async () => {
    givenAfterLastStep();
    sm.on(CreateEndpointConfigCommand).rejects(alreadyExists('endpoint-config', NAMES.promotedConfigName));
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.promotedConfigName }).resolves({
      EndpointConfigName: NAMES.promotedConfigName,
      EndpointConfigArn: sagemakerArn('endpoint-config', NAMES.promotedConfigName),
      ProductionVariants: PROMOTED_VARIANTS,
      CreationTime: new Date(),
    });

    await promoteCandidate({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandWith(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.promotedConfigName });
    expect(sm).toHaveReceivedCommandWith(UpdateEndpointCommand, { EndpointName: ENDPOINT_NAME, EndpointConfigName: NAMES.promotedConfigName });
  });

  it("It should reuse its own promoted config on a retry even when autoscaling changed the candidate's instance count", async () => {
    givenAfterLastStep();
    sm.on(CreateEndpointConfigCommand).rejects(alreadyExists('endpoint-config', NAMES.promotedConfigName));
    // The first attempt wrote 3 instances; autoscaling has since grown the candidate to 4.
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.promotedConfigName }).resolves({
      EndpointConfigName: NAMES.promotedConfigName,
      EndpointConfigArn: sagemakerArn('endpoint-config', NAMES.promotedConfigName),
      ProductionVariants: [{ ...PROMOTED_VARIANTS[0]!, InitialInstanceCount: 3 }],
      CreationTime: new Date(),
    });

    await promoteCandidate({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandWith(UpdateEndpointCommand, { EndpointName: ENDPOINT_NAME, EndpointConfigName: NAMES.promotedConfigName });
  });

  it('It should raise EndpointNotInService while the endpoint is Updating, and change nothing', async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ status: 'Updating', configName: NAMES.deployConfigName, variants: AFTER_LAST_STEP }));

    await expect(promoteCandidate({ release: makeRelease() })).rejects.toMatchObject({
      name: 'EndpointNotInService',
      message: `Endpoint ${ENDPOINT_NAME} is Updating; the candidate is promoted once it is InService`,
    });
    expectNoMutation(sm);
  });

  it("It should raise EndpointChanged when the endpoint runs a config other than the release's", async () => {
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: HAND_MADE_BASELINE.configName, variants: [{ name: BASELINE, weight: 1 }] }));

    await expect(promoteCandidate({ release: makeRelease() })).rejects.toMatchObject({
      name: 'EndpointChanged',
      message: `Endpoint ${ENDPOINT_NAME} runs config ${HAND_MADE_BASELINE.configName}, not the release's ${NAMES.deployConfigName}`,
    });
    expectNoMutation(sm);
  });

  it('It should raise EndpointChanged when the endpoint was deleted', async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    await expect(promoteCandidate({ release: makeRelease() })).rejects.toMatchObject({ name: 'EndpointChanged' });
    expectNoMutation(sm);
  });
});

describe('a release that created the endpoint', () => {
  it('It should have nothing to retire and expect the deploy config, without calling SageMaker', async () => {
    const result = await promoteCandidate({ release: makeNewEndpointRelease() });

    expect(result).toEqual({ expect: { ...PROMOTE_EXPECTATION, configName: NAMES.deployConfigName }, action: 'nothing to retire' });
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('the Lambda handler', () => {
  it('It should promote through the middy wrapper', async () => {
    givenAfterLastStep();

    const result = await handler({ release: makeRelease() }, lambdaContext('smrm-promote-candidate'));

    expect(result.expect).toEqual(PROMOTE_EXPECTATION);
    expect(sm).toHaveReceivedCommandWith(CreateEndpointConfigCommand, { EndpointConfigName: NAMES.promotedConfigName, ProductionVariants: PROMOTED_VARIANTS });
  });
});
