/**
 * plan-release: validates the request, checks the model package and the endpoint, and
 * decides. It only reads SageMaker: every rejection must leave AWS untouched.
 */
import './helpers/targets-file';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  type DescribeEndpointConfigOutput,
  type DescribeModelPackageOutput,
  type ModelApprovalStatus,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parseConfig } from '../../lambdas/domain/config';
import { handler, makePlanRelease } from '../../lambdas/handlers/plan-release';
import {
  BASELINE_PACKAGE_ARN,
  CANDIDATE_PACKAGE_ARN,
  ENDPOINT_NAME,
  GROUP_NAME,
  HAND_MADE_BASELINE,
  makeNewEndpointRelease,
  makeRelease,
  modelPackageArn,
  releaseMadeBaseline,
} from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { endpointState, expectNoMutation, notFound, sagemakerArn, sagemakerError, validationException } from './helpers/sagemaker';
import targets from './helpers/targets.json';

const sm = mockClient(SageMakerClient);
const planRelease = makePlanRelease(parseConfig(targets, 'test targets'));

function approvedEvent(arn = CANDIDATE_PACKAGE_ARN, group = GROUP_NAME): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    account: '123456789012',
    time: '2025-06-01T10:00:00Z',
    region: 'eu-west-1',
    resources: [arn],
    detail: {
      ModelPackageGroupName: group,
      ModelPackageVersion: Number(arn.split('/').pop()),
      ModelPackageArn: arn,
      ModelApprovalStatus: 'Approved',
      ModelPackageStatus: 'Completed',
    },
  };
}

function modelPackage(arn: string, group: string, status: ModelApprovalStatus = 'Approved'): DescribeModelPackageOutput {
  return {
    ModelPackageName: group,
    ModelPackageGroupName: group,
    ModelPackageVersion: Number(arn.split('/').pop()),
    ModelPackageArn: arn,
    ModelApprovalStatus: status,
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [] },
    CreationTime: new Date('2025-06-01T09:00:00Z'),
  };
}

function endpointConfig(name: string, variants: Array<{ variantName: string; modelName: string }>): DescribeEndpointConfigOutput {
  return {
    EndpointConfigName: name,
    EndpointConfigArn: sagemakerArn('endpoint-config', name),
    ProductionVariants: variants.map((v) => ({
      VariantName: v.variantName,
      ModelName: v.modelName,
      InstanceType: 'ml.c5.xlarge',
      InitialInstanceCount: 2,
      InitialVariantWeight: 1,
    })),
    CreationTime: new Date('2024-05-01T09:00:00Z'),
  };
}

/** The churn endpoint serving version 6 from a hand-made config. */
function givenLiveEndpoint(livePackageArn = BASELINE_PACKAGE_ARN): void {
  sm.on(DescribeModelPackageCommand).resolves(modelPackage(CANDIDATE_PACKAGE_ARN, GROUP_NAME));
  sm.on(DescribeEndpointCommand).resolves(
    endpointState({ configName: HAND_MADE_BASELINE.configName, variants: [{ name: HAND_MADE_BASELINE.variantName, weight: 1 }] }),
  );
  sm.on(DescribeEndpointConfigCommand).resolves(
    endpointConfig(HAND_MADE_BASELINE.configName, [{ variantName: HAND_MADE_BASELINE.variantName, modelName: HAND_MADE_BASELINE.modelName }]),
  );
  sm.on(DescribeModelCommand).resolves({
    ModelName: HAND_MADE_BASELINE.modelName,
    ModelArn: sagemakerArn('model', HAND_MADE_BASELINE.modelName),
    PrimaryContainer: { ModelPackageName: livePackageArn },
    CreationTime: new Date('2024-05-01T09:00:00Z'),
  });
}

beforeEach(() => {
  sm.reset();
});

describe('a release to an existing endpoint', () => {
  it('It should plan a release next to the live variant, frozen from the target configuration', async () => {
    givenLiveEndpoint();

    const plan = await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(plan).toEqual({
      decision: 'release',
      reason: `release version 7 to endpoint ${ENDPOINT_NAME} next to variant AllTraffic`,
      attempts: 0,
      pollSeconds: 30,
      release: makeRelease(),
    });
    expectNoMutation(sm);
  });

  it('It should read the package, the endpoint from the configuration, its config and the live model', async () => {
    givenLiveEndpoint();

    await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(sm).toHaveReceivedCommandWith(DescribeModelPackageCommand, { ModelPackageName: CANDIDATE_PACKAGE_ARN });
    expect(sm).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: ENDPOINT_NAME });
    expect(sm).toHaveReceivedCommandWith(DescribeEndpointConfigCommand, { EndpointConfigName: HAND_MADE_BASELINE.configName });
    expect(sm).toHaveReceivedCommandWith(DescribeModelCommand, { ModelName: HAND_MADE_BASELINE.modelName });
  });

  it('It should record the live variant and its weight as the baseline', async () => {
    const baseline = releaseMadeBaseline();
    sm.on(DescribeModelPackageCommand).resolves(modelPackage(CANDIDATE_PACKAGE_ARN, GROUP_NAME));
    sm.on(DescribeEndpointCommand).resolves(endpointState({ configName: baseline.configName, variants: [{ name: baseline.variantName, weight: 3 }] }));
    sm.on(DescribeEndpointConfigCommand).resolves(endpointConfig(baseline.configName, [{ variantName: baseline.variantName, modelName: baseline.modelName }]));
    sm.on(DescribeModelCommand).resolves({
      ModelName: baseline.modelName,
      ModelArn: 'arn',
      CreationTime: new Date(),
      PrimaryContainer: { ModelPackageName: BASELINE_PACKAGE_ARN },
    });

    const plan = await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(plan.release?.baseline).toEqual({ ...baseline, weight: 3 });
  });

  it('It should accept the documented manual input', async () => {
    givenLiveEndpoint();

    const plan = await planRelease({ input: { action: 'release', modelPackageArn: CANDIDATE_PACKAGE_ARN }, attempts: 0 });

    expect(plan.decision).toBe('release');
    expect(plan.release).toEqual(makeRelease());
  });

  it("It should freeze another target's policy: all-at-once, fail closed on INSUFFICIENT_DATA, default name and waits", async () => {
    const arn = modelPackageArn('fraud-models', 3);
    sm.on(DescribeModelPackageCommand).resolves(modelPackage(arn, 'fraud-models'));
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', 'fraud-endpoint'));

    const plan = await planRelease({ input: approvedEvent(arn, 'fraud-models'), attempts: 0 });

    expect(plan.pollSeconds).toBe(30);
    expect(plan.release).toMatchObject({
      targetName: 'fraud-endpoint',
      endpointName: 'fraud-endpoint',
      modelVersion: 3,
      candidate: { instanceType: 'ml.g5.xlarge', instanceCount: 1, executionRoleArn: 'arn:aws:iam::123456789012:role/fraud-model-execution' },
      steps: [{ weightPercent: 100, bakeSeconds: 900, checks: 15, checkIntervalSeconds: 60 }],
      alarms: ['fraud-5xx'],
      onInsufficientData: 'roll-back',
      endpointWait: { pollSeconds: 30, maxPolls: 120 },
    });
    expect(sm).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: 'fraud-endpoint' });
  });
});

describe('nothing to do', () => {
  it('It should report nothing to do when the version is already live', async () => {
    givenLiveEndpoint(CANDIDATE_PACKAGE_ARN);

    const plan = await planRelease({ input: approvedEvent(), attempts: 2 });

    expect(plan).toEqual({
      decision: 'nothing-to-do',
      reason: `version 7 is already live on endpoint ${ENDPOINT_NAME}`,
      attempts: 2,
      pollSeconds: 30,
      release: null,
    });
    expectNoMutation(sm);
  });

  it("It should recognise the live version in a multi-container model's Containers", async () => {
    givenLiveEndpoint();
    sm.on(DescribeModelCommand).resolves({
      ModelName: HAND_MADE_BASELINE.modelName,
      ModelArn: sagemakerArn('model', HAND_MADE_BASELINE.modelName),
      Containers: [{ Image: 'preprocess:1' }, { ModelPackageName: CANDIDATE_PACKAGE_ARN }],
      CreationTime: new Date(),
    });

    const plan = await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(plan.decision).toBe('nothing-to-do');
  });
});

describe('a new endpoint', () => {
  it('It should plan a release that creates the endpoint when it does not exist', async () => {
    sm.on(DescribeModelPackageCommand).resolves(modelPackage(CANDIDATE_PACKAGE_ARN, GROUP_NAME));
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    const plan = await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(plan).toEqual({
      decision: 'release',
      reason: `endpoint ${ENDPOINT_NAME} does not exist: the release creates it with version 7`,
      attempts: 0,
      pollSeconds: 30,
      release: makeNewEndpointRelease(),
    });
    expect(sm).not.toHaveReceivedCommand(DescribeEndpointConfigCommand);
    expectNoMutation(sm);
  });
});

describe('a busy endpoint', () => {
  it.each(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting'] as const)(
    'It should wait for an endpoint that is %s and count the attempt',
    async (status) => {
      givenLiveEndpoint();
      sm.on(DescribeEndpointCommand).resolves(
        endpointState({ status, configName: HAND_MADE_BASELINE.configName, variants: [{ name: 'AllTraffic', weight: 1 }] }),
      );

      const plan = await planRelease({ input: approvedEvent(), attempts: 1 });

      expect(plan).toEqual({ decision: 'wait-for-endpoint', reason: `endpoint ${ENDPOINT_NAME} is ${status}`, attempts: 2, pollSeconds: 30, release: null });
      expectNoMutation(sm);
    },
  );

  it('It should still wait on the last poll the endpoint wait allows', async () => {
    givenLiveEndpoint();
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({ status: 'Updating', configName: HAND_MADE_BASELINE.configName, variants: [{ name: 'AllTraffic', weight: 1 }] }),
    );

    // maxPolls is 4 for the churn target (120 s / 30 s).
    const plan = await planRelease({ input: approvedEvent(), attempts: 3 });

    expect(plan).toMatchObject({ decision: 'wait-for-endpoint', attempts: 4 });
  });

  it('It should fail with EndpointNotReady once the attempts reach maxPolls', async () => {
    givenLiveEndpoint();
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({ status: 'Updating', configName: HAND_MADE_BASELINE.configName, variants: [{ name: 'AllTraffic', weight: 1 }] }),
    );

    const planning = planRelease({ input: approvedEvent(), attempts: 4 });

    await expect(planning).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringContaining(`Endpoint ${ENDPOINT_NAME} stayed Updating for 4 polls (120 s`),
    });
    expectNoMutation(sm);
  });
});

describe('an endpoint the release manager will not touch', () => {
  it.each([
    ['Failed', 'Failed (ClientError: image not found)'],
    ['OutOfService', 'OutOfService'],
  ] as const)('It should refuse an endpoint that is %s with UnsupportedEndpointState', async (status, shown) => {
    givenLiveEndpoint();
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({
        status,
        configName: HAND_MADE_BASELINE.configName,
        variants: [{ name: 'AllTraffic', weight: 1 }],
        ...(status === 'Failed' ? { failureReason: 'ClientError: image not found' } : {}),
      }),
    );

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({
      name: 'UnsupportedEndpointState',
      message: expect.stringContaining(`Endpoint ${ENDPOINT_NAME} is ${shown}; releases only update an InService endpoint`),
    });
    expectNoMutation(sm);
  });

  it('It should refuse an endpoint with two variants, as an interrupted release leaves it', async () => {
    givenLiveEndpoint();
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({
        configName: 'churn-endpoint-v5-0badc0de-d',
        variants: [
          { name: 'AllTraffic', weight: 1 },
          { name: 'v5-0badc0de', weight: 0 },
        ],
      }),
    );

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({
      name: 'UnsupportedEndpointState',
      message: expect.stringContaining(`Endpoint ${ENDPOINT_NAME} has 2 production variants (AllTraffic, v5-0badc0de)`),
    });
    expect(sm).not.toHaveReceivedCommand(DescribeEndpointConfigCommand);
    expectNoMutation(sm);
  });

  it.each([
    ['asynchronous inference', { AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://bucket/out' } } }],
    [
      'shadow variants',
      { ShadowProductionVariants: [{ VariantName: 'shadow', ModelName: 'm', InstanceType: 'ml.m5.large' as const, InitialInstanceCount: 1 }] },
    ],
  ])('It should refuse an endpoint config with %s, which a release would drop', async (what, extra) => {
    givenLiveEndpoint();
    sm.on(DescribeEndpointConfigCommand).resolves({
      ...endpointConfig(HAND_MADE_BASELINE.configName, [{ variantName: HAND_MADE_BASELINE.variantName, modelName: HAND_MADE_BASELINE.modelName }]),
      ...extra,
    });

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({
      name: 'UnsupportedEndpointState',
      message: expect.stringContaining(`with ${what}, which releases do not carry over; nothing was changed`),
    });
    expectNoMutation(sm);
  });

  it('It should refuse an endpoint whose config cannot be read', async () => {
    givenLiveEndpoint();
    sm.on(DescribeEndpointConfigCommand).rejects(notFound('endpoint-config', HAND_MADE_BASELINE.configName));

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({
      name: 'UnsupportedEndpointState',
      message: expect.stringContaining(`runs config ${HAND_MADE_BASELINE.configName}, which cannot be read`),
    });
    expectNoMutation(sm);
  });
});

describe('rejected requests', () => {
  it.each([
    [
      'an event without detail.ModelPackageArn',
      (() => {
        const event = approvedEvent();
        delete (event.detail as Record<string, unknown>).ModelPackageArn;
        return event;
      })(),
      'detail.ModelPackageArn: expected detail.ModelPackageArn',
    ],
    ['an event whose ModelPackageArn is not an ARN', approvedEvent('churn-models/7'), 'detail.ModelPackageArn: expected detail.ModelPackageArn to be an ARN'],
    ['an event from another source', { ...approvedEvent(), source: 'my.app' }, 'source: Invalid input: expected "aws.sagemaker"'],
    [
      'a manual input with an unversioned package ARN',
      { action: 'release', modelPackageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-models' },
      'modelPackageArn: expected modelPackageArn of a versioned model package',
    ],
    [
      'a manual input that names an endpoint',
      { action: 'release', modelPackageArn: CANDIDATE_PACKAGE_ARN, endpointName: 'other-endpoint' },
      'Unrecognized key: "endpointName"',
    ],
    ['a manual input with an unknown action', { action: 'rollback', modelPackageArn: CANDIDATE_PACKAGE_ARN }, 'action: Invalid input: expected "release"'],
    ['nothing at all', null, '(root): Invalid input: expected object'],
  ])('It should reject %s with InvalidReleaseInput naming the field, before any SDK call', async (_what, input, problem) => {
    const planning = planRelease({ input, attempts: 0 });

    await expect(planning).rejects.toMatchObject({
      name: 'InvalidReleaseInput',
      message: expect.stringMatching(/^Invalid execution input: /),
    });
    // The generic hint names every field; the problem list must name the wrong one.
    await expect(planning.catch((error: Error) => error.message.split('Problems: ')[1])).resolves.toContain(problem);
    expect(sm.calls()).toHaveLength(0);
  });

  it('It should reject a task payload without attempts with InvalidTaskInput', async () => {
    await expect(planRelease({ input: approvedEvent() })).rejects.toMatchObject({ name: 'InvalidTaskInput', message: expect.stringContaining('attempts') });
    expect(sm.calls()).toHaveLength(0);
  });

  it('It should fail with ModelPackageNotFound when the package does not exist', async () => {
    sm.on(DescribeModelPackageCommand).rejects(validationException(`Model package ${CANDIDATE_PACKAGE_ARN} does not exist.`));

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({ name: 'ModelPackageNotFound' });
    expect(sm).not.toHaveReceivedCommand(DescribeEndpointCommand);
    expectNoMutation(sm);
  });

  it.each(['PendingManualApproval', 'Rejected'] as const)(
    'It should refuse a package that is %s with ModelPackageNotApproved and change nothing',
    async (status) => {
      givenLiveEndpoint();
      sm.on(DescribeModelPackageCommand).resolves(modelPackage(CANDIDATE_PACKAGE_ARN, GROUP_NAME, status));

      await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({
        name: 'ModelPackageNotApproved',
        message: expect.stringContaining(`Model package ${CANDIDATE_PACKAGE_ARN} is ${status}, not Approved`),
      });
      expect(sm).not.toHaveReceivedCommand(DescribeEndpointCommand);
      expectNoMutation(sm);
    },
  );

  it.each([
    ['an event', approvedEvent(modelPackageArn('marketing-models', 2), 'marketing-models')],
    ['a manual input', { action: 'release', modelPackageArn: modelPackageArn('marketing-models', 2) }],
  ])('It should fail with UnknownTarget for %s from a group no target is bound to, before any SDK call', async (_what, input) => {
    await expect(planRelease({ input, attempts: 0 })).rejects.toMatchObject({
      name: 'UnknownTarget',
      message: expect.stringContaining('Model package group marketing-models is not bound to any target (configured groups: churn-models, fraud-models)'),
    });
    // The functions may only read the configured groups' packages.
    expect(sm.calls()).toHaveLength(0);
  });

  it("It should reject an event whose group is not the package's group", async () => {
    sm.on(DescribeModelPackageCommand).resolves(modelPackage(CANDIDATE_PACKAGE_ARN, GROUP_NAME));

    await expect(planRelease({ input: approvedEvent(CANDIDATE_PACKAGE_ARN, 'fraud-models'), attempts: 0 })).rejects.toMatchObject({
      name: 'InvalidReleaseInput',
      message: expect.stringMatching(new RegExp(`${CANDIDATE_PACKAGE_ARN}.*churn-models.*fraud-models`)),
    });
    expect(sm).not.toHaveReceivedCommand(DescribeEndpointCommand);
    expectNoMutation(sm);
  });

  it('It should pass on SageMaker errors other than not found', async () => {
    sm.on(DescribeModelPackageCommand).rejects(sagemakerError('ThrottlingException', 'Rate exceeded'));

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('the Lambda handler', () => {
  it('It should plan through the middy wrapper with the targets file', async () => {
    givenLiveEndpoint();

    const plan = await handler({ input: approvedEvent(), attempts: 0 }, lambdaContext('smrm-plan-release'));

    expect(plan).toEqual(await planRelease({ input: approvedEvent(), attempts: 0 }));
    expect(plan.release).toEqual(makeRelease());
  });

  it('It should pass errors through the middy wrapper unchanged', async () => {
    await expect(handler({ input: { action: 'release' }, attempts: 0 }, lambdaContext('smrm-plan-release'))).rejects.toMatchObject({
      name: 'InvalidReleaseInput',
      message: expect.stringContaining('Problems: modelPackageArn: expected modelPackageArn as a string'),
    });
    expect(sm.calls()).toHaveLength(0);
  });
});
