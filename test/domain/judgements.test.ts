import type { EndpointExpectation, ObservedEndpoint } from '../../lambdas/contracts';
import { judgeEndpoint, trafficShares } from '../../lambdas/domain/endpoint';
import { describeFailure } from '../../lambdas/domain/failure';
import { parseReleaseRequest } from '../../lambdas/domain/request';
import { judgeAlarms } from '../../lambdas/domain/verdict';

const expectation: EndpointExpectation = {
  id: 'step-1',
  endpointName: 'ep',
  absent: false,
  configName: 'ep-v2-0123abcd-d',
  weights: { AllTraffic: 90, v2: 10 },
};
const observed = (overrides: Partial<ObservedEndpoint> = {}): ObservedEndpoint => ({
  status: 'InService',
  configName: 'ep-v2-0123abcd-d',
  variants: [
    { name: 'AllTraffic', currentWeight: 90 },
    { name: 'v2', currentWeight: 10 },
  ],
  ...overrides,
});

describe('reading the endpoint back', () => {
  it('It should accept the endpoint when status, config and traffic shares are as asked', () => {
    expect(judgeEndpoint(expectation, observed(), 1, 10).outcome).toBe('as-expected');
  });

  it('It should compare shares, not raw weights', () => {
    const scaled = observed({
      variants: [
        { name: 'AllTraffic', currentWeight: 0.9 },
        { name: 'v2', currentWeight: 0.1 },
      ],
    });
    expect(trafficShares(scaled.variants)).toEqual({ AllTraffic: 90, v2: 10 });
    expect(judgeEndpoint(expectation, scaled, 1, 10).outcome).toBe('as-expected');
  });

  it('It should wait while SageMaker is Updating, and give up after the last poll', () => {
    expect(judgeEndpoint(expectation, observed({ status: 'Updating' }), 3, 10).outcome).toBe('in-progress');
    const last = judgeEndpoint(expectation, observed({ status: 'Updating' }), 10, 10);
    expect(last.outcome).toBe('failed');
    expect(last.reason).toMatch(/timed out after 10 polls waiting for step-1: status Updating/);
  });

  it('It should treat InService with another config as a silent revert', () => {
    const result = judgeEndpoint(expectation, observed({ configName: 'ep-initial', failureReason: 'Model failed health check' }), 2, 10);
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/InService with config ep-initial, not ep-v2-0123abcd-d: SageMaker reverted the update.*Model failed health check/);
  });

  it('It should fail when the weights are not what was asked', () => {
    const result = judgeEndpoint(
      expectation,
      observed({
        variants: [
          { name: 'AllTraffic', currentWeight: 1 },
          { name: 'v2', currentWeight: 0 },
        ],
      }),
      1,
      10,
    );
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/traffic is not AllTraffic=90%, v2=10%/);
  });

  it('It should fail for a Failed endpoint and for a missing one, unless absence was asked for', () => {
    expect(judgeEndpoint(expectation, observed({ status: 'Failed' }), 1, 10).outcome).toBe('failed');
    expect(judgeEndpoint(expectation, undefined, 1, 10).outcome).toBe('failed');
    expect(judgeEndpoint({ ...expectation, absent: true }, undefined, 1, 10).outcome).toBe('as-expected');
  });
});

describe('alarm verdicts', () => {
  it('It should be healthy when every alarm is OK', () => {
    expect(judgeAlarms([{ name: 'a', state: 'OK' }], 'proceed')).toEqual({ status: 'healthy', reason: 'all 1 alarm OK' });
  });

  it('It should be unhealthy for an alarm in ALARM and for a missing alarm, naming both', () => {
    const verdict = judgeAlarms(
      [
        { name: 'a', state: 'ALARM', reason: 'Threshold Crossed' },
        { name: 'b', state: 'MISSING' },
      ],
      'proceed',
    );
    expect(verdict.status).toBe('unhealthy');
    expect(verdict.reason).toBe('alarm a is in ALARM (Threshold Crossed); alarm b does not exist');
  });

  it('It should follow the policy for INSUFFICIENT_DATA', () => {
    const alarms = [{ name: 'a', state: 'INSUFFICIENT_DATA' as const }];
    expect(judgeAlarms(alarms, 'proceed').status).toBe('inconclusive');
    expect(judgeAlarms(alarms, 'roll-back').status).toBe('unhealthy');
  });

  it('It should call a bake with no alarms inconclusive', () => {
    expect(judgeAlarms([], 'proceed')).toMatchObject({ status: 'inconclusive', reason: expect.stringMatching(/no alarms are configured/) });
  });
});

describe('failure reasons', () => {
  it('It should unwrap the JSON cause lambda:invoke reports for a function error', () => {
    const cause = JSON.stringify({ errorType: 'EndpointNotInService', errorMessage: 'Endpoint ep is Updating', trace: [] });
    expect(describeFailure({ Error: 'EndpointNotInService', Cause: cause })).toBe('EndpointNotInService: Endpoint ep is Updating');
  });

  it('It should keep a plain-text cause and fall back to the error name', () => {
    expect(describeFailure({ Error: 'CandidateUnhealthy', Cause: 'alarm a is in ALARM' })).toBe('CandidateUnhealthy: alarm a is in ALARM');
    expect(describeFailure({ Error: 'States.Timeout' })).toBe('States.Timeout');
  });
});

describe('release requests', () => {
  const arn = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/group/7';

  it('It should read the approval event', () => {
    const event = {
      source: 'aws.sagemaker',
      'detail-type': 'SageMaker Model Package State Change',
      detail: { ModelPackageGroupName: 'group', ModelPackageArn: arn },
    };
    expect(parseReleaseRequest(event)).toEqual({
      kind: 'release',
      origin: 'event',
      modelPackageArn: arn,
      modelPackageGroupName: 'group',
      requestedBy: 'model registry approval',
    });
  });

  it('It should read the manual input', () => {
    expect(parseReleaseRequest({ action: 'release', modelPackageArn: arn })).toEqual({
      kind: 'release',
      origin: 'manual',
      modelPackageArn: arn,
      requestedBy: 'operator (requestedBy not given)',
    });
    expect(parseReleaseRequest({ action: 'release', modelPackageArn: arn, requestedBy: 'alice' })).toMatchObject({ requestedBy: 'alice' });
  });

  it.each([
    [null, /expected a SageMaker Model Package State Change event/],
    [{ action: 'release' }, /modelPackageArn: expected modelPackageArn as a string/],
    [{ action: 'release', modelPackageArn: arn, extra: 1 }, /extra/],
    [{ source: 'aws.sagemaker', 'detail-type': 'SageMaker Model Package State Change', detail: {} }, /detail\.ModelPackageGroupName/],
  ])('It should reject %j with the field named', (input, message) => {
    expect(() => parseReleaseRequest(input)).toThrow(message);
  });
});
