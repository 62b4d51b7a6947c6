/**
 * create-candidate: the candidate model from the model package, and the deploy config
 * (baseline as it serves now + candidate at weight 0). Retries must find their own
 * earlier work; a same-named resource that differs is a conflict.
 */
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointConfigCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  SageMakerClient,
  type DescribeEndpointConfigOutput,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createCandidate, handler } from '../../lambdas/handlers/create-candidate';
import {
  BASELINE_PACKAGE_ARN,
  CANDIDATE_PACKAGE_ARN,
  EXECUTION_ROLE_ARN,
  HAND_MADE_BASELINE,
  NAMES,
  RELEASE_TAGS,
  makeNewEndpointRelease,
  makeRelease,
} from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { alreadyExists, endpointState, expectNoMutation, mutations, notFound, sagemakerArn, sagemakerError } from './helpers/sagemaker';

const sm = mockClient(SageMakerClient);

const DATA_CAPTURE = {
  EnableCapture: true,
  InitialSamplingPercentage: 20,
  DestinationS3Uri: 's3://churn-capture/endpoint',
  CaptureOptions: [{ CaptureMode: 'Input' as const }, { CaptureMode: 'Output' as const }],
};
const KMS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The baseline variant as the hand-made config defines it. */
const BASELINE_SPEC: ProductionVariant = {
  VariantName: HAND_MADE_BASELINE.variantName,
  ModelName: HAND_MADE_BASELINE.modelName,
  InstanceType: 'ml.c5.xlarge',
  InitialInstanceCount: 2,
  InitialVariantWeight: 1,
  VolumeSizeInGB: 30,
};

const CANDIDATE_SPEC: ProductionVariant = {
  VariantName: NAMES.candidateVariantName,
  ModelName: NAMES.modelName,
  InstanceType: 'ml.m5.large',
  InitialInstanceCount: 2,
  InitialVariantWeight: 0,
};

function config(name: string, variants: ProductionVariant[], extra: Partial<DescribeEndpointConfigOutput> = {}): DescribeEndpointConfigOutput {
  return {
    EndpointConfigName: name,
    EndpointConfigArn: sagemakerArn('endpoint-config', name),
    ProductionVariants: variants,
    CreationTime: new Date('2024-05-01T09:00:00Z'),
    ...extra,
  };
}

/** The endpoint serves the hand-made baseline; autoscaling has grown it from 2 to 3 instances. */
function givenBaselineEndpoint(): void {
  sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: HAND_MADE_BASELINE.configName }).resolves(
    config(HAND_MADE_BASELINE.configName, [BASELINE_SPEC], { DataCaptureConfig: DATA_CAPTURE, KmsKeyId: KMS_KEY }),
  );
  sm.on(DescribeEndpointCommand).resolves(
    endpointState({ configName: HAND_MADE_BASELINE.configName, variants: [{ name: HAND_MADE_BASELINE.variantName, weight: 1, instances: 3 }] }),
  );
  sm.on(CreateModelCommand).resolves({ ModelArn: sagemakerArn('model', NAMES.modelName) });
  sm.on(CreateEndpointConfigCommand).resolves({ EndpointConfigArn: sagemakerArn('endpoint-config', NAMES.deployConfigName) });
}

/** What the deploy config must contain for the default release. */
const DEPLOY_VARIANTS: ProductionVariant[] = [{ ...BASELINE_SPEC, InitialInstanceCount: 3 }, CANDIDATE_SPEC];

beforeEach(() => {
  sm.reset();
});

describe('a release to an existing endpoint', () => {
  it('It should create the model from the model package, with the execution role and the release tags', async () => {
    givenBaselineEndpoint();

    await createCandidate({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandTimes(CreateModelCommand, 1);
    expect(sm.commandCalls(CreateModelCommand)[0]!.args[0].input).toEqual({
      ModelName: NAMES.modelName,
      ExecutionRoleArn: EXECUTION_ROLE_ARN,
      PrimaryContainer: { ModelPackageName: CANDIDATE_PACKAGE_ARN },
      Tags: RELEASE_TAGS,
    });
  });

  it('It should create the deploy config with the baseline as it serves now and the candidate at weight 0', async () => {
    givenBaselineEndpoint();

    const result = await createCandidate({ release: makeRelease() });

    expect(sm.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: NAMES.deployConfigName,
      ProductionVariants: DEPLOY_VARIANTS,
      DataCaptureConfig: DATA_CAPTURE,
      KmsKeyId: KMS_KEY,
      Tags: RELEASE_TAGS,
    });
    expect(result).toEqual({ action: `model ${NAMES.modelName} created, endpoint config ${NAMES.deployConfigName} created` });
    expect(mutations(sm)).toEqual(['CreateModelCommand', 'CreateEndpointConfigCommand']);
  });

  it("It should read the baseline's config and the endpoint named by the release", async () => {
    givenBaselineEndpoint();

    await createCandidate({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandWith(DescribeEndpointConfigCommand, { EndpointConfigName: HAND_MADE_BASELINE.configName });
    expect(sm).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: 'churn-endpoint' });
  });

  it("It should give the baseline the weight the plan recorded and keep the config's count when the endpoint reports none", async () => {
    givenBaselineEndpoint();
    sm.on(DescribeEndpointCommand).resolves({
      ...endpointState({ configName: HAND_MADE_BASELINE.configName, variants: [] }),
      ProductionVariants: [{ VariantName: HAND_MADE_BASELINE.variantName, CurrentWeight: 3 }],
    });

    await createCandidate({ release: makeRelease({ baseline: { ...HAND_MADE_BASELINE, weight: 3 } }) });

    expect(sm).toHaveReceivedCommandWith(CreateEndpointConfigCommand, {
      ProductionVariants: [{ ...BASELINE_SPEC, InitialVariantWeight: 3, InitialInstanceCount: 2 }, CANDIDATE_SPEC],
    });
  });

  it('It should not carry data capture or a KMS key the baseline config does not have', async () => {
    givenBaselineEndpoint();
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: HAND_MADE_BASELINE.configName }).resolves(
      config(HAND_MADE_BASELINE.configName, [BASELINE_SPEC]),
    );

    await createCandidate({ release: makeRelease() });

    const input = sm.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('DataCaptureConfig');
    expect(input).not.toHaveProperty('KmsKeyId');
  });

  it('It should raise EndpointChanged when the baseline config no longer has the baseline variant', async () => {
    givenBaselineEndpoint();
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: HAND_MADE_BASELINE.configName }).resolves(
      config(HAND_MADE_BASELINE.configName, [{ ...BASELINE_SPEC, VariantName: 'Blue' }]),
    );

    await expect(createCandidate({ release: makeRelease() })).rejects.toMatchObject({
      name: 'EndpointChanged',
      message: `Baseline config ${HAND_MADE_BASELINE.configName} no longer has variant AllTraffic; the endpoint changed since the plan`,
    });
    expect(sm).not.toHaveReceivedCommand(CreateEndpointConfigCommand);
  });

  it('It should raise EndpointChanged when the baseline config was deleted', async () => {
    givenBaselineEndpoint();
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: HAND_MADE_BASELINE.configName }).rejects(
      notFound('endpoint-config', HAND_MADE_BASELINE.configName),
    );

    await expect(createCandidate({ release: makeRelease() })).rejects.toMatchObject({ name: 'EndpointChanged' });
    expect(sm).not.toHaveReceivedCommand(CreateEndpointConfigCommand);
  });
});

describe('a release that creates the endpoint', () => {
  it('It should create a config with the candidate alone at weight 1, without reading any endpoint', async () => {
    sm.on(CreateModelCommand).resolves({});
    sm.on(CreateEndpointConfigCommand).resolves({});

    const result = await createCandidate({ release: makeNewEndpointRelease() });

    expect(sm.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: NAMES.deployConfigName,
      ProductionVariants: [{ ...CANDIDATE_SPEC, InitialVariantWeight: 1 }],
      Tags: RELEASE_TAGS,
    });
    expect(sm).not.toHaveReceivedCommand(DescribeEndpointCommand);
    expect(sm).not.toHaveReceivedCommand(DescribeEndpointConfigCommand);
    expect(result.action).toBe(`model ${NAMES.modelName} created, endpoint config ${NAMES.deployConfigName} created`);
  });

  it("It should use the release's instance type and count for the candidate", async () => {
    sm.on(CreateModelCommand).resolves({});
    sm.on(CreateEndpointConfigCommand).resolves({});

    await createCandidate({ release: makeNewEndpointRelease({ candidate: { instanceType: 'ml.g5.xlarge', instanceCount: 4 } }) });

    expect(sm).toHaveReceivedCommandWith(CreateEndpointConfigCommand, {
      ProductionVariants: [{ ...CANDIDATE_SPEC, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 4, InitialVariantWeight: 1 }],
    });
  });
});

describe('retries', () => {
  it('It should take a model that already exists from the same package as its own earlier work', async () => {
    givenBaselineEndpoint();
    sm.on(CreateModelCommand).rejects(alreadyExists('model', NAMES.modelName));
    sm.on(DescribeModelCommand).resolves({
      ModelName: NAMES.modelName,
      ModelArn: sagemakerArn('model', NAMES.modelName),
      PrimaryContainer: { ModelPackageName: CANDIDATE_PACKAGE_ARN },
      CreationTime: new Date(),
    });

    const result = await createCandidate({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandWith(DescribeModelCommand, { ModelName: NAMES.modelName });
    expect(sm).toHaveReceivedCommandTimes(CreateEndpointConfigCommand, 1);
    expect(result.action).toBe(`model ${NAMES.modelName} existed, endpoint config ${NAMES.deployConfigName} created`);
  });

  it('It should raise ResourceConflict when a model of that name comes from another package', async () => {
    givenBaselineEndpoint();
    sm.on(CreateModelCommand).rejects(alreadyExists('model', NAMES.modelName));
    sm.on(DescribeModelCommand).resolves({
      ModelName: NAMES.modelName,
      ModelArn: sagemakerArn('model', NAMES.modelName),
      PrimaryContainer: { ModelPackageName: BASELINE_PACKAGE_ARN },
      CreationTime: new Date(),
    });

    await expect(createCandidate({ release: makeRelease() })).rejects.toMatchObject({
      name: 'ResourceConflict',
      message: `model ${NAMES.modelName} already exists but was not created from ${CANDIDATE_PACKAGE_ARN}`,
    });
    expect(sm).not.toHaveReceivedCommand(CreateEndpointConfigCommand);
  });

  it('It should take an identical existing deploy config as its own earlier work', async () => {
    givenBaselineEndpoint();
    sm.on(CreateModelCommand).rejects(alreadyExists('model', NAMES.modelName));
    sm.on(DescribeModelCommand).resolves({
      ModelName: NAMES.modelName,
      ModelArn: 'arn',
      CreationTime: new Date(),
      PrimaryContainer: { ModelPackageName: CANDIDATE_PACKAGE_ARN },
    });
    sm.on(CreateEndpointConfigCommand).rejects(alreadyExists('endpoint-config', NAMES.deployConfigName));
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName }).resolves(config(NAMES.deployConfigName, DEPLOY_VARIANTS));

    const result = await createCandidate({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandWith(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName });
    expect(result.action).toBe(`model ${NAMES.modelName} existed, endpoint config ${NAMES.deployConfigName} existed`);
  });

  it('It should replace a stale deploy config of its own name that the endpoint does not use', async () => {
    givenBaselineEndpoint();
    // An earlier attempt of this release stopped after writing the config; the baseline has changed since.
    sm.on(CreateEndpointConfigCommand)
      .rejectsOnce(alreadyExists('endpoint-config', NAMES.deployConfigName))
      .resolves({ EndpointConfigArn: sagemakerArn('endpoint-config', NAMES.deployConfigName) });
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName }).resolves(
      config(NAMES.deployConfigName, [DEPLOY_VARIANTS[0]!, { ...CANDIDATE_SPEC, InstanceType: 'ml.m5.xlarge' }]),
    );
    sm.on(DeleteEndpointConfigCommand).resolves({});

    const result = await createCandidate({ release: makeRelease() });

    expect(sm).toHaveReceivedCommandWith(DeleteEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName });
    expect(sm).toHaveReceivedCommandTimes(CreateEndpointConfigCommand, 2);
    expect(result.action).toMatch(/endpoint config .*-d created \(replacing a stale one\)/);
  });

  it('It should raise ResourceConflict, deleting nothing, when the endpoint uses the conflicting deploy config', async () => {
    givenBaselineEndpoint();
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({ configName: NAMES.deployConfigName, variants: [{ name: HAND_MADE_BASELINE.variantName, weight: 1, instances: 3 }] }),
    );
    sm.on(CreateEndpointConfigCommand).rejects(alreadyExists('endpoint-config', NAMES.deployConfigName));
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName }).resolves(
      config(NAMES.deployConfigName, [DEPLOY_VARIANTS[0]!, { ...CANDIDATE_SPEC, InstanceType: 'ml.m5.xlarge' }]),
    );

    await expect(createCandidate({ release: makeRelease() })).rejects.toMatchObject({
      name: 'ResourceConflict',
      message: expect.stringContaining(`endpoint config ${NAMES.deployConfigName} already exists with other variants`),
    });
    expect(sm).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
  });

  it('It should pass on SageMaker errors other than already-exists', async () => {
    givenBaselineEndpoint();
    sm.on(CreateModelCommand).rejects(sagemakerError('ResourceLimitExceeded', 'The account-level service limit for models is 1000'));

    await expect(createCandidate({ release: makeRelease() })).rejects.toMatchObject({ name: 'ResourceLimitExceeded' });
    expect(sm).not.toHaveReceivedCommand(DescribeModelCommand);
    expect(sm).not.toHaveReceivedCommand(CreateEndpointConfigCommand);
  });
});

describe('input validation', () => {
  it('It should reject a release without its baseline field with InvalidTaskInput, before any SDK call', async () => {
    const { baseline: _baseline, ...withoutBaseline } = makeRelease();

    await expect(createCandidate({ release: withoutBaseline })).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: expect.stringContaining('release.baseline'),
    });
    expect(sm.calls()).toHaveLength(0);
    expectNoMutation(sm);
  });
});

describe('the Lambda handler', () => {
  it('It should create the candidate through the middy wrapper', async () => {
    givenBaselineEndpoint();

    const result = await handler({ release: makeRelease() }, lambdaContext('smrm-create-candidate'));

    expect(result.action).toBe(`model ${NAMES.modelName} created, endpoint config ${NAMES.deployConfigName} created`);
    expect(sm).toHaveReceivedCommandWith(CreateEndpointConfigCommand, { EndpointConfigName: NAMES.deployConfigName, ProductionVariants: DEPLOY_VARIANTS });
  });
});
