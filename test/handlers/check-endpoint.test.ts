/**
 * check-endpoint: reads the endpoint back after a change. InService alone proves
 * nothing: the config and every variant's share of traffic must be what was asked for,
 * and the wait is bounded by the release's maxPolls (4 in the fixture).
 */
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { EndpointExpectation } from '../../lambdas/contracts';
import { checkEndpoint, handler } from '../../lambdas/handlers/check-endpoint';
import { ENDPOINT_NAME, HAND_MADE_BASELINE, NAMES, makeRelease } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { execution, seedLock, useLedger } from './helpers/ledger';
import { endpointState, expectNoMutation, notFound, type VariantState } from './helpers/sagemaker';

const sm = mockClient(SageMakerClient);
const db = useLedger();

const BASELINE = HAND_MADE_BASELINE.variantName;
const CANDIDATE = NAMES.candidateVariantName;

const DEPLOY: EndpointExpectation = {
  id: 'deploy',
  endpointName: ENDPOINT_NAME,
  absent: false,
  configName: NAMES.deployConfigName,
  weights: { [BASELINE]: 100, [CANDIDATE]: 0 },
};
const STEP_1: EndpointExpectation = { ...DEPLOY, id: 'step-1', weights: { [BASELINE]: 90, [CANDIDATE]: 10 } };

const FIRST_CHECK = { for: 'none', attempt: 0 };

function input(expect: EndpointExpectation, previous: Record<string, unknown> = FIRST_CHECK) {
  return { release: makeRelease(), expect, previous };
}

function given(status: 'InService' | 'Updating' | 'Failed' | 'Creating', configName: string, variants: VariantState[], failureReason?: string): void {
  sm.on(DescribeEndpointCommand).resolves(endpointState({ status, configName, variants, ...(failureReason ? { failureReason } : {}) }));
}

beforeEach(() => {
  sm.reset();
});

describe('while SageMaker works', () => {
  it('It should report in-progress while the endpoint is Updating, counting the first poll', async () => {
    given('Updating', HAND_MADE_BASELINE.configName, [{ name: BASELINE, weight: 1 }]);

    const result = await checkEndpoint(input(DEPLOY));

    expect(result).toEqual({
      for: 'deploy',
      attempt: 1,
      outcome: 'in-progress',
      reason: 'endpoint is Updating',
      observed: {
        status: 'Updating',
        configName: HAND_MADE_BASELINE.configName,
        variants: [{ name: BASELINE, currentWeight: 1, desiredWeight: 1, instances: 2 }],
      },
    });
    expect(sm).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: ENDPOINT_NAME });
    expectNoMutation(sm);
  });

  it('It should count on from the previous poll of the same expectation', async () => {
    given('Updating', HAND_MADE_BASELINE.configName, [{ name: BASELINE, weight: 1 }]);

    const result = await checkEndpoint(input(DEPLOY, { for: 'deploy', attempt: 2, outcome: 'in-progress', reason: 'endpoint is Updating', observed: null }));

    expect(result).toMatchObject({ for: 'deploy', attempt: 3, outcome: 'in-progress' });
  });

  it('It should restart the count for a new expectation', async () => {
    given('Updating', NAMES.deployConfigName, [
      { name: BASELINE, weight: 1, desiredWeight: 0.9 },
      { name: CANDIDATE, weight: 0, desiredWeight: 0.1 },
    ]);

    const result = await checkEndpoint(input(STEP_1, { for: 'deploy', attempt: 3, outcome: 'as-expected', reason: 'ok', observed: null }));

    expect(result).toMatchObject({ for: 'step-1', attempt: 1, outcome: 'in-progress' });
  });

  it('It should report failed once maxPolls polls found the endpoint still busy', async () => {
    given('Updating', HAND_MADE_BASELINE.configName, [{ name: BASELINE, weight: 1 }]);

    const result = await checkEndpoint(input(DEPLOY, { for: 'deploy', attempt: 3 }));

    expect(result).toMatchObject({ for: 'deploy', attempt: 4, outcome: 'failed' });
    expect(result.reason).toBe(
      `timed out after 4 polls waiting for deploy: status Updating; config ${HAND_MADE_BASELINE.configName}; traffic ${BASELINE}=100%`,
    );
  });
});

describe('once the endpoint has settled', () => {
  it('It should report as-expected when the config and the traffic shares match', async () => {
    given('InService', NAMES.deployConfigName, [
      { name: BASELINE, weight: 1 },
      { name: CANDIDATE, weight: 0 },
    ]);

    const result = await checkEndpoint(input(DEPLOY, { for: 'deploy', attempt: 1 }));

    expect(result).toMatchObject({ for: 'deploy', attempt: 2, outcome: 'as-expected' });
    expect(result.reason).toBe(
      `endpoint ${ENDPOINT_NAME} is InService as expected (status InService; config ${NAMES.deployConfigName}; traffic ${BASELINE}=100%, ${CANDIDATE}=0%)`,
    );
  });

  it('It should compare shares of traffic, not raw weights', async () => {
    given('InService', NAMES.deployConfigName, [
      { name: BASELINE, weight: 2.7 },
      { name: CANDIDATE, weight: 0.3 },
    ]);

    const result = await checkEndpoint(input(STEP_1));

    expect(result.outcome).toBe('as-expected');
  });

  it('It should report failed on a silent revert: InService, but with the old config', async () => {
    given('InService', HAND_MADE_BASELINE.configName, [{ name: BASELINE, weight: 1 }]);

    const result = await checkEndpoint(input(DEPLOY, { for: 'deploy', attempt: 1 }));

    expect(result).toMatchObject({ for: 'deploy', attempt: 2, outcome: 'failed' });
    expect(result.reason).toBe(
      `endpoint ${ENDPOINT_NAME} is InService with config ${HAND_MADE_BASELINE.configName}, not ${NAMES.deployConfigName}: SageMaker reverted the update ` +
        `(status InService; config ${HAND_MADE_BASELINE.configName}; traffic ${BASELINE}=100%)`,
    );
  });

  it('It should report failed when the traffic is not at the expected shares', async () => {
    given('InService', NAMES.deployConfigName, [
      { name: BASELINE, weight: 1 },
      { name: CANDIDATE, weight: 0 },
    ]);

    const result = await checkEndpoint(input(STEP_1));

    expect(result.outcome).toBe('failed');
    expect(result.reason).toContain(`endpoint ${ENDPOINT_NAME} is InService but traffic is not ${BASELINE}=90%, ${CANDIDATE}=10%`);
  });

  it('It should report failed when the endpoint has other variants than expected', async () => {
    given('InService', NAMES.deployConfigName, [{ name: CANDIDATE, weight: 1 }]);

    const result = await checkEndpoint(input(DEPLOY));

    expect(result.outcome).toBe('failed');
  });

  it("It should report failed with SageMaker's FailureReason when the endpoint is Failed", async () => {
    given(
      'Failed',
      NAMES.deployConfigName,
      [{ name: BASELINE, weight: 1 }],
      'The primary container for production variant v7 did not pass the ping health check',
    );

    const result = await checkEndpoint(input(DEPLOY));

    expect(result.outcome).toBe('failed');
    expect(result.reason).toContain('FailureReason: The primary container for production variant v7 did not pass the ping health check');
  });

  it('It should report failed when the endpoint does not exist', async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    const result = await checkEndpoint(input(DEPLOY));

    expect(result).toEqual({ for: 'deploy', attempt: 1, outcome: 'failed', reason: `endpoint ${ENDPOINT_NAME} does not exist`, observed: null });
  });

  it('It should report as-expected when an endpoint expected to be deleted is gone', async () => {
    sm.on(DescribeEndpointCommand).rejects(notFound('endpoint', ENDPOINT_NAME));

    const result = await checkEndpoint(input({ id: 'delete', endpointName: ENDPOINT_NAME, absent: true }));

    expect(result).toMatchObject({ for: 'delete', outcome: 'as-expected', observed: null });
  });
});

describe('input validation', () => {
  it('It should reject a payload without the previous check with InvalidTaskInput, before any SDK call', async () => {
    await expect(checkEndpoint({ release: makeRelease(), expect: DEPLOY })).rejects.toMatchObject({
      name: 'InvalidTaskInput',
      message: expect.stringContaining('previous'),
    });
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('the Lambda handler', () => {
  it('It should check through the middy wrapper', async () => {
    given('Updating', HAND_MADE_BASELINE.configName, [{ name: BASELINE, weight: 1 }]);

    const result = await handler(input(DEPLOY), lambdaContext('smrm-check-endpoint'));

    expect(result).toMatchObject({ for: 'deploy', attempt: 1, outcome: 'in-progress' });
  });
});

describe('in the workflow, with the execution', () => {
  const ME = execution('churn-models-v7-0000aaaa');
  const release = makeRelease();
  const withExecution = (previous: Record<string, unknown> = FIRST_CHECK) => checkEndpoint({ release, expect: STEP_1, previous, execution: ME });

  beforeEach(async () => {
    await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: ME.arn, leaseSeconds: 60 });
  });

  it('It should renew the lease and read the endpoint back', async () => {
    given('InService', NAMES.deployConfigName, [
      { name: BASELINE, weight: 90 },
      { name: CANDIDATE, weight: 10 },
    ]);
    const before = await db.ledger.readLock(ENDPOINT_NAME);

    const result = await withExecution();

    expect(result).toMatchObject({ for: 'step-1', outcome: 'as-expected' });
    expect((await db.ledger.readLock(ENDPOINT_NAME))!.leaseExpiresAt).toBeGreaterThanOrEqual(before!.leaseExpiresAt + release.leaseSeconds - 120);
  });

  it("It should stop the wait with ReleaseAborted at an operator's rollback, before reading the endpoint", async () => {
    await db.ledger.requestAbort({ endpointName: ENDPOINT_NAME, owner: ME.arn, reason: 'bad canary', requestedBy: 'bob', now: new Date() });

    await expect(withExecution({ for: 'step-1', attempt: 2 })).rejects.toMatchObject({
      name: 'ReleaseAborted',
      message: 'rollback requested by bob: bad canary',
    });
    expect(sm.calls()).toHaveLength(0);
  });

  it('It should stop with LockNotHeld when the lock is gone, before reading the endpoint', async () => {
    await db.ledger.releaseLock({ endpointName: ENDPOINT_NAME, owner: ME.arn });

    await expect(withExecution()).rejects.toMatchObject({ name: 'LockNotHeld', message: expect.stringContaining('nobody holds it') });
    expect(sm.calls()).toHaveLength(0);
    expect(await db.ledger.readLock(ENDPOINT_NAME)).toBeUndefined();
  });
});
