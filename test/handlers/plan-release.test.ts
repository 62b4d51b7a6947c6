/**
 * plan-release: runs under the endpoint lock; validates the request, checks the model
 * package and the endpoint, and decides. It only reads SageMaker: every rejection must
 * leave AWS untouched. It starts the release's ledger record (dynalite), names the
 * release on the lock and emits "Release Started"; a rollback plans the last known good
 * version.
 */
import './helpers/targets-file';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
  type DescribeEndpointConfigOutput,
  type DescribeModelPackageOutput,
  type ModelApprovalStatus,
} from '@aws-sdk/client-sagemaker';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { Release } from '../../lambdas/contracts';
import { parseConfig } from '../../lambdas/domain/config';
import type { ReleaseRecord } from '../../lambdas/domain/ledger';
import { releaseNames } from '../../lambdas/domain/names';
import { REGISTRY_REQUESTER, UNKNOWN_REQUESTER } from '../../lambdas/domain/request';
import { configured, handler, liveVersions } from '../../lambdas/handlers/plan-release';
import {
  BASELINE_PACKAGE_ARN,
  CANDIDATE_PACKAGE_ARN,
  ENDPOINT_NAME,
  GROUP_NAME,
  HAND_MADE_BASELINE,
  approvalEvent,
  makeNewEndpointRelease,
  makeRelease,
  modelPackageArn,
  releaseMadeBaseline,
  type ReleaseOverrides,
} from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { execution, publishedEvents, publishedTypes, recordOf, refOf, seedLock, useLedger, useServiceMocks } from './helpers/ledger';
import { endpointState, expectNoMutation, notFound, sagemakerArn, sagemakerError, validationException } from './helpers/sagemaker';
import targets from './helpers/targets.json';

const sm = mockClient(SageMakerClient);
const { eventBridge } = useServiceMocks();
const db = useLedger();
const config = parseConfig(targets, 'test targets');
const plan = configured(config);
/** The execution that plans: it holds the endpoint lock (seeded before every test). */
const ME = execution('churn-models-v7-0000aaaa', '2025-06-01T10:00:00.123Z');
const planRelease = (event: Record<string, unknown>) => plan({ execution: ME, ...event });

/** The release an approval event plans for version 7 (the fixture's), as the model registry asked. */
const fromEvent = (overrides: ReleaseOverrides = {}): Release => makeRelease({ requestedBy: REGISTRY_REQUESTER, ...overrides });

function approvedEvent(arn = CANDIDATE_PACKAGE_ARN, group = GROUP_NAME): Record<string, unknown> {
  return approvalEvent(arn, group);
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

/** ListModelPackages: the newest Approved version of the churn group. */
function givenNewestApproved(version: number, group = GROUP_NAME): void {
  sm.on(ListModelPackagesCommand, { ModelPackageGroupName: group }).resolves({
    ModelPackageSummaryList: [
      {
        ModelPackageGroupName: group,
        ModelPackageVersion: version,
        ModelPackageArn: modelPackageArn(group, version),
        ModelApprovalStatus: 'Approved',
        ModelPackageStatus: 'Completed',
        CreationTime: new Date('2025-06-01T09:00:00Z'),
      },
    ],
  });
}

beforeEach(async () => {
  sm.reset();
  givenNewestApproved(7);
  await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: ME.arn, leaseSeconds: 600 });
  await seedLock(db.ledger, { endpointName: 'fraud-endpoint', owner: ME.arn, leaseSeconds: 600 });
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
      release: fromEvent(),
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
    expect(plan.release).toEqual(makeRelease({ requestedBy: UNKNOWN_REQUESTER }));
  });

  it("It should freeze another target's policy: all-at-once, fail closed on INSUFFICIENT_DATA, default name and waits", async () => {
    const arn = modelPackageArn('fraud-models', 3);
    sm.on(DescribeModelPackageCommand).resolves(modelPackage(arn, 'fraud-models'));
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', 'fraud-endpoint'));
    givenNewestApproved(3, 'fraud-models');

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
      release: makeNewEndpointRelease({ requestedBy: REGISTRY_REQUESTER }),
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
    [
      'a rollback that names a package',
      { action: 'rollback', endpointName: ENDPOINT_NAME, modelPackageArn: CANDIDATE_PACKAGE_ARN },
      'Unrecognized key: "modelPackageArn"',
    ],
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

    const plan = await handler({ input: approvedEvent(), attempts: 0, execution: ME }, lambdaContext('smrm-plan-release'));

    expect(plan).toEqual(await planRelease({ input: approvedEvent(), attempts: 0 }));
    expect(plan.release).toEqual(fromEvent());
  });

  it('It should pass errors through the middy wrapper unchanged', async () => {
    await expect(handler({ input: { action: 'release' }, attempts: 0, execution: ME }, lambdaContext('smrm-plan-release'))).rejects.toMatchObject({
      name: 'InvalidReleaseInput',
      message: expect.stringContaining('Problems: modelPackageArn: expected modelPackageArn as a string'),
    });
    expect(sm.calls()).toHaveLength(0);
  });
});

// ---- The ledger: lock, record, events ------------------------------------------------

describe('planning under the endpoint lock', () => {
  it('It should refuse to plan without holding the lock (LockNotHeld), before any SageMaker call', async () => {
    await db.ledger.releaseLock({ endpointName: ENDPOINT_NAME, owner: ME.arn });

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({
      name: 'LockNotHeld',
      message: `${ME.arn} does not hold the lock on endpoint ${ENDPOINT_NAME}: nobody holds it`,
    });
    expect(sm.calls()).toHaveLength(0);
    expect(await db.ledger.history(ENDPOINT_NAME, { limit: 5 })).toEqual([]);
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toBeUndefined();
  });

  it('It should refuse to plan while another execution holds the lock, naming it', async () => {
    const other = execution('someone-else');
    await db.ledger.releaseLock({ endpointName: ENDPOINT_NAME, owner: ME.arn });
    await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: other.arn });

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({ name: 'LockNotHeld', holder: other.arn });
    expect(sm.calls()).toHaveLength(0);
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.owner).toBe(other.arn);
  });

  it('It should renew the lease and name the planned release on the lock', async () => {
    givenLiveEndpoint();
    const before = await db.ledger.readLock(ENDPOINT_NAME);

    await planRelease({ input: approvedEvent(), attempts: 0 });

    const lock = await db.ledger.readLock(ENDPOINT_NAME);
    expect(lock).toMatchObject({ owner: ME.arn, releaseId: fromEvent().releaseId, modelPackageArn: CANDIDATE_PACKAGE_ARN, acquiredAt: before!.acquiredAt });
    expect(lock!.leaseExpiresAt).toBeGreaterThanOrEqual(before!.leaseExpiresAt + 3000);
  });

  it("It should stop with ReleaseAborted when an operator's rollback arrived before the plan, changing nothing", async () => {
    await db.ledger.requestAbort({ endpointName: ENDPOINT_NAME, owner: ME.arn, reason: 'not today', requestedBy: 'bob', now: new Date() });
    givenLiveEndpoint();

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({
      name: 'ReleaseAborted',
      message: 'rollback requested by bob: not today; the release had not started, nothing was changed',
    });
    expect(sm.calls()).toHaveLength(0);
    expect(await db.ledger.history(ENDPOINT_NAME, { limit: 5 })).toEqual([]);
    expect(eventBridge.calls()).toHaveLength(0);
  });
});

describe('the release record and the Started event', () => {
  it('It should start a running record keyed by the execution, with the plan and the policy', async () => {
    givenLiveEndpoint();

    const result = await planRelease({ input: approvedEvent(), attempts: 0 });

    const record = await db.ledger.release(refOf(ENDPOINT_NAME, ME));
    expect(record).toEqual({
      endpointName: ENDPOINT_NAME,
      executionArn: ME.arn,
      executionName: ME.name,
      startedAt: '2025-06-01T10:00:00.123Z',
      releaseId: fromEvent().releaseId,
      modelPackageArn: CANDIDATE_PACKAGE_ARN,
      version: 7,
      requestedBy: REGISTRY_REQUESTER,
      policy: { kind: 'release', strategy: config.targets[0]!.strategy, approval: null, alarms: ['churn-5xx', 'churn-latency-p99'] },
      status: 'running',
      steps: [],
      plan: result.release,
    });
  });

  it('It should emit "Release Started" once, also when the plan is retried', async () => {
    givenLiveEndpoint();

    const first = await planRelease({ input: approvedEvent(), attempts: 0 });
    const retried = await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(retried).toEqual(first);
    const events = publishedEvents(eventBridge);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      source: 'sagemaker-release-manager',
      detailType: 'Release Started',
      busName: 'default',
      detail: {
        schemaVersion: '1',
        eventId: `${fromEvent().releaseId}:${ME.name}:release-started:step--1`,
        endpointName: ENDPOINT_NAME,
        targetName: 'churn',
        executionArn: ME.arn,
        releaseId: fromEvent().releaseId,
        modelPackageArn: CANDIDATE_PACKAGE_ARN,
        modelVersion: 7,
        requestedBy: REGISTRY_REQUESTER,
        status: 'running',
        reason: first.reason,
        step: { index: -1, weightPercent: 0, stepsTotal: 3 },
        at: expect.any(String),
      },
    });
    expect(await db.ledger.history(ENDPOINT_NAME, { limit: 5 })).toHaveLength(1);
  });

  it('It should emit "Release Started" on the retry when EventBridge rejected it the first time', async () => {
    givenLiveEndpoint();
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });

    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).rejects.toMatchObject({
      name: 'EventPublishFailed',
      message: expect.stringContaining('InternalFailure: try again'),
    });
    // Nothing is recorded before the event is out: the retry starts from scratch.
    expect(await db.ledger.release(refOf(ENDPOINT_NAME, ME))).toBeUndefined();
    const retried = await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(retried.decision).toBe('release');
    expect(publishedTypes(eventBridge)).toEqual(['Release Started', 'Release Started']);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 2);
    expect((await db.ledger.release(refOf(ENDPOINT_NAME, ME)))?.status).toBe('running');
  });

  it('It should send lifecycle events to EVENT_BUS_NAME when it is set', async () => {
    givenLiveEndpoint();
    process.env.EVENT_BUS_NAME = 'releases';
    try {
      await planRelease({ input: approvedEvent(), attempts: 0 });
    } finally {
      delete process.env.EVENT_BUS_NAME;
    }
    expect(publishedEvents(eventBridge)[0]!.busName).toBe('releases');
  });

  it('It should record nothing to do as a finished record, without a Started event or a release on the lock', async () => {
    givenLiveEndpoint(CANDIDATE_PACKAGE_ARN);

    const result = await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(result.decision).toBe('nothing-to-do');
    expect(await db.ledger.release(refOf(ENDPOINT_NAME, ME))).toMatchObject({
      status: 'nothing-to-do',
      reason: `version 7 is already live on endpoint ${ENDPOINT_NAME}`,
      endedAt: expect.any(String),
      steps: [],
    });
    expect(eventBridge.calls()).toHaveLength(0);
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.releaseId).toBeUndefined();
    // A retried plan finds the finished record and says the same.
    await expect(planRelease({ input: approvedEvent(), attempts: 0 })).resolves.toEqual(result);
  });

  it('It should not record a plan that waits for a busy endpoint', async () => {
    givenLiveEndpoint();
    sm.on(DescribeEndpointCommand).resolves(
      endpointState({ status: 'Updating', configName: HAND_MADE_BASELINE.configName, variants: [{ name: 'AllTraffic', weight: 1 }] }),
    );

    await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(await db.ledger.history(ENDPOINT_NAME, { limit: 5 })).toEqual([]);
    expect(eventBridge.calls()).toHaveLength(0);
  });
});

describe('superseded approvals', () => {
  it('It should supersede a registry approval when a newer version of the group is approved, without reading the endpoint', async () => {
    givenLiveEndpoint();
    givenNewestApproved(9);

    const result = await planRelease({ input: approvedEvent(), attempts: 0 });

    expect(result).toEqual({
      decision: 'superseded',
      reason: `version 9 of group ${GROUP_NAME} was approved after version 7; it is released instead`,
      attempts: 0,
      pollSeconds: 30,
      release: null,
    });
    expect(sm).toHaveReceivedCommandWith(ListModelPackagesCommand, {
      ModelPackageGroupName: GROUP_NAME,
      ModelApprovalStatus: 'Approved',
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
    });
    expect(sm).not.toHaveReceivedCommand(DescribeEndpointCommand);
    expect(await db.ledger.release(refOf(ENDPOINT_NAME, ME))).toMatchObject({ status: 'superseded', reason: result.reason });
    expect(eventBridge.calls()).toHaveLength(0);
    expectNoMutation(sm);
  });

  it('It should release a manual request even when a newer version is approved', async () => {
    givenLiveEndpoint();
    givenNewestApproved(9);

    const result = await planRelease({ input: { action: 'release', modelPackageArn: CANDIDATE_PACKAGE_ARN, requestedBy: 'alice' }, attempts: 0 });

    expect(result.decision).toBe('release');
    expect(result.release).toEqual(makeRelease({ requestedBy: 'alice' }));
    expect(sm).not.toHaveReceivedCommand(ListModelPackagesCommand);
  });

  it('It should release a registry approval that is the newest', async () => {
    givenLiveEndpoint();
    givenNewestApproved(7);

    expect((await planRelease({ input: approvedEvent(), attempts: 0 })).decision).toBe('release');
  });
});

// ---- Rollback to the last known good version --------------------------------------------

/** A release of `version` of the churn group to churn-endpoint, with its real names. */
function releaseOf(version: number, overrides: ReleaseOverrides = {}): Release {
  const arn = modelPackageArn(GROUP_NAME, version);
  const names = releaseNames(ENDPOINT_NAME, arn, version);
  return makeRelease({
    releaseId: names.releaseId,
    modelPackageArn: arn,
    modelVersion: version,
    candidate: {
      modelName: names.modelName,
      variantName: names.candidateVariantName,
      deployConfigName: names.deployConfigName,
      promotedConfigName: names.promotedConfigName,
    },
    ...overrides,
  });
}

/** Earlier executions' records, oldest first, each an hour after the one before. */
async function givenHistory(...entries: Array<{ version: number; status: ReleaseRecord['status']; kind?: 'release' | 'rollback' }>): Promise<void> {
  for (const [i, entry] of entries.entries()) {
    const exec = execution(`earlier-${i}`, new Date(Date.UTC(2025, 4, 1, i)).toISOString());
    const release = releaseOf(entry.version, { kind: entry.kind ?? 'release' });
    await db.ledger.startRelease(recordOf(release, exec, { status: entry.status, policy: { kind: release.kind }, endedAt: exec.startedAt }));
  }
}

async function givenLastKnownGood(version: number): Promise<void> {
  const release = releaseOf(version);
  await db.ledger.setLastKnownGood({
    endpointName: ENDPOINT_NAME,
    version,
    modelPackageArn: release.modelPackageArn,
    variantName: release.candidate.variantName,
    endpointConfigName: release.candidate.promotedConfigName,
    releasedAt: '2025-05-20T00:00:00.000Z',
    executionArn: execution(`released-v${version}`).arn,
  });
}

/** The churn endpoint serving `live`, and every package of the group Approved. */
function givenLiveVersion(live: number): void {
  givenLiveEndpoint(modelPackageArn(GROUP_NAME, live));
  sm.on(DescribeModelPackageCommand).callsFake(async (input: { ModelPackageName: string }) => modelPackage(input.ModelPackageName, GROUP_NAME));
}

const rollbackInput = { action: 'rollback', endpointName: ENDPOINT_NAME, reason: 'p99 doubled', requestedBy: 'bob' };

describe('a rollback', () => {
  it('It should re-release the last known good version when another version is live, all at once, without a gate', async () => {
    const gated = configured(parseConfig({ targets: [{ ...targets.targets[0], approval: { timeoutSeconds: 3600 } }] }, 'gated targets'));
    givenLiveVersion(7);
    await givenLastKnownGood(6);

    const result = await gated({ input: rollbackInput, attempts: 0, execution: ME });

    expect(result.decision).toBe('release');
    expect(result.reason).toBe(`roll back: re-release version 6 to endpoint ${ENDPOINT_NAME} next to variant AllTraffic`);
    expect(result.release).toEqual(
      releaseOf(6, {
        kind: 'rollback',
        requestedBy: 'bob',
        approval: null,
        steps: [{ weightPercent: 100, bakeSeconds: 0, checks: 1, checkIntervalSeconds: 0 }],
      }),
    );
    expect(sm).toHaveReceivedCommandWith(DescribeModelPackageCommand, { ModelPackageName: modelPackageArn(GROUP_NAME, 6) });
    expect(sm).not.toHaveReceivedCommand(ListModelPackagesCommand);
    expect(await db.ledger.release(refOf(ENDPOINT_NAME, ME))).toMatchObject({
      status: 'running',
      version: 6,
      requestedBy: 'bob',
      policy: { kind: 'rollback', strategy: { type: 'all-at-once', bakeSeconds: 0 }, approval: null },
    });
    expect(publishedEvents(eventBridge).map((e) => [e.detailType, e.detail.modelVersion, e.detail.requestedBy])).toEqual([['Release Started', 6, 'bob']]);
  });

  it('It should re-release the newest earlier version released successfully when the last known good one is live', async () => {
    givenLiveVersion(7);
    await givenLastKnownGood(7);
    await givenHistory(
      { version: 5, status: 'succeeded' },
      { version: 6, status: 'succeeded' },
      { version: 8, status: 'rolled-back' },
      { version: 7, status: 'succeeded' },
    );

    const result = await planRelease({ input: rollbackInput, attempts: 0 });

    expect(result.release).toMatchObject({ modelVersion: 6, kind: 'rollback' });
  });

  it('It should go further back on a second rollback instead of returning to the version the first one left', async () => {
    givenLiveVersion(6);
    await givenLastKnownGood(6);
    await givenHistory(
      { version: 5, status: 'succeeded' },
      { version: 6, status: 'succeeded' },
      { version: 7, status: 'succeeded' },
      { version: 6, status: 'succeeded', kind: 'rollback' },
    );

    const result = await planRelease({ input: rollbackInput, attempts: 0 });

    expect(result.release).toMatchObject({ modelVersion: 5, kind: 'rollback' });
  });

  it('It should have nothing to do when no earlier version was released successfully, and record nothing', async () => {
    givenLiveVersion(7);
    await givenLastKnownGood(7);
    await givenHistory({ version: 6, status: 'rolled-back' }, { version: 7, status: 'succeeded' });

    const result = await planRelease({ input: rollbackInput, attempts: 0 });

    expect(result).toEqual({
      decision: 'nothing-to-do',
      reason: `the ledger records no version of ${ENDPOINT_NAME} released successfully before the live one (${CANDIDATE_PACKAGE_ARN}); nothing to roll back to, nothing was changed`,
      attempts: 0,
      pollSeconds: 30,
      release: null,
    });
    expect(sm).not.toHaveReceivedCommand(DescribeModelPackageCommand);
    expect(await db.ledger.release(refOf(ENDPOINT_NAME, ME))).toBeUndefined();
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('It should have nothing to do on an endpoint without any history', async () => {
    givenLiveVersion(6);

    expect((await planRelease({ input: rollbackInput, attempts: 0 })).decision).toBe('nothing-to-do');
  });
});

describe('a rollback whose take-lock recovered the interrupted release in flight', () => {
  /** v8's release was interrupted; `by` took its stale lock over and noted `action` on its record. */
  async function givenRecoveredV8(by: string, action: 'rolled-back' | 'nothing-to-undo' | 'completed-promotion'): Promise<void> {
    const exec = execution('churn-models-v8-dead', '2025-06-01T09:00:00.000Z');
    const v8 = recordOf(releaseOf(8), exec, { status: action === 'completed-promotion' ? 'succeeded' : 'failed', endedAt: '2025-06-01T09:30:00.000Z' });
    await db.ledger.startRelease(v8);
    await db.ledger.annotateRelease({ ...v8, recovery: { by, at: '2025-06-01T10:00:01.000Z', ownerStatus: 'ABORTED', action } });
  }

  beforeEach(async () => {
    await givenHistory({ version: 6, status: 'succeeded' }, { version: 7, status: 'succeeded' });
  });

  it.each(['rolled-back', 'nothing-to-undo'] as const)('It should not roll back further once the recovery (%s) restored the baseline', async (action) => {
    givenLiveVersion(7);
    await givenLastKnownGood(7);
    await givenRecoveredV8(ME.arn, action);

    const result = await planRelease({ input: rollbackInput, attempts: 0 });

    expect(result).toMatchObject({
      decision: 'nothing-to-do',
      release: null,
      reason: expect.stringContaining(`was interrupted and this rollback restored its baseline (${action})`),
    });
    expect(sm.calls()).toHaveLength(0);
  });

  it('It should roll back a release whose promotion the recovery found applied', async () => {
    givenLiveVersion(8);
    await givenLastKnownGood(8);
    await givenRecoveredV8(ME.arn, 'completed-promotion');

    expect((await planRelease({ input: rollbackInput, attempts: 0 })).release).toMatchObject({ modelVersion: 7, kind: 'rollback' });
  });

  it("It should ignore another execution's recovery", async () => {
    givenLiveVersion(7);
    await givenLastKnownGood(7);
    await givenRecoveredV8(execution('someone-else').arn, 'rolled-back');

    expect((await planRelease({ input: rollbackInput, attempts: 0 })).release).toMatchObject({ modelVersion: 6 });
  });
});

describe('liveVersions', () => {
  const rec = (version: number, status: ReleaseRecord['status'], kind: 'release' | 'rollback' = 'release') =>
    recordOf(releaseOf(version, { kind }), execution(`e-${version}-${kind}`), { status, policy: { kind } });
  const versions = (history: ReleaseRecord[]) => liveVersions(history).map((r) => r.version);

  it('It should stack successful releases oldest first and skip the others', () => {
    expect(versions([rec(8, 'rolled-back'), rec(7, 'succeeded'), rec(6, 'failed'), rec(5, 'succeeded')])).toEqual([5, 7]);
  });

  it('It should pop back to the version a rollback re-released', () => {
    expect(versions([rec(6, 'succeeded', 'rollback'), rec(7, 'succeeded'), rec(6, 'succeeded'), rec(5, 'succeeded')])).toEqual([5, 6]);
    expect(versions([rec(5, 'succeeded', 'rollback'), rec(6, 'succeeded', 'rollback'), rec(7, 'succeeded'), rec(6, 'succeeded'), rec(5, 'succeeded')])).toEqual(
      [5],
    );
  });

  it('It should push a rollback to a version it has not seen (history cut short)', () => {
    expect(versions([rec(4, 'succeeded', 'rollback'), rec(7, 'succeeded')])).toEqual([7, 4]);
  });
});
