/**
 * The execution input (an approval event or one of the operator actions), the target it
 * is for, lifecycle events' ids, the lock's backoff and start-release's execution names.
 */
import fc from 'fast-check';
import { parseConfig, type ReleaseManagerConfig } from '../../lambdas/domain/config';
import { InvalidReleaseInputError, UnknownTargetError } from '../../lambdas/domain/errors';
import { EVENT_SOURCE, LIFECYCLE_DETAIL_TYPES, lifecycleEvent } from '../../lambdas/domain/events';
import {
  REGISTRY_REQUESTER,
  UNKNOWN_REQUESTER,
  groupOfPackageArn,
  parseExecutionRequest,
  parseReleaseRequest,
  targetOfRequest,
  versionOfPackageArn,
} from '../../lambdas/domain/request';
import { executionNameFor } from '../../lambdas/handlers/start-release';
import { backoffSeconds } from '../../lambdas/handlers/take-lock';
import targets from '../handlers/helpers/targets.json';

const ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-models/7';
const config: ReleaseManagerConfig = parseConfig(targets, 'test targets');

function approvalEvent(detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: 'aws.sagemaker',
    'detail-type': 'SageMaker Model Package State Change',
    detail: { ModelPackageGroupName: 'churn-models', ModelPackageArn: ARN, ModelApprovalStatus: 'Approved', ...detail },
  };
}

/** The InvalidReleaseInput an input raises, or a failure when it is accepted. */
function rejection(input: unknown): InvalidReleaseInputError {
  try {
    parseExecutionRequest(input);
  } catch (error) {
    if (error instanceof InvalidReleaseInputError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseExecutionRequest: accepted inputs', () => {
  it('It should read a registry approval as a release from the event, asked by the model registry', () => {
    expect(parseExecutionRequest(approvalEvent())).toEqual({
      kind: 'release',
      origin: 'event',
      modelPackageArn: ARN,
      modelPackageGroupName: 'churn-models',
      requestedBy: REGISTRY_REQUESTER,
    });
  });

  it('It should read a manual release, with and without requestedBy', () => {
    expect(parseExecutionRequest({ action: 'release', modelPackageArn: ARN, requestedBy: 'alice' })).toEqual({
      kind: 'release',
      origin: 'manual',
      modelPackageArn: ARN,
      requestedBy: 'alice',
    });
    expect(parseExecutionRequest({ action: 'release', modelPackageArn: ARN })).toEqual({
      kind: 'release',
      origin: 'manual',
      modelPackageArn: ARN,
      requestedBy: UNKNOWN_REQUESTER,
    });
  });

  it("It should read a rollback, keeping the operator's reason as the note", () => {
    expect(parseExecutionRequest({ action: 'rollback', endpointName: 'churn-endpoint', reason: 'p99 too high', requestedBy: 'bob' })).toEqual({
      kind: 'rollback',
      endpointName: 'churn-endpoint',
      requestedBy: 'bob',
      note: 'p99 too high',
    });
    expect(parseExecutionRequest({ action: 'rollback', endpointName: 'churn-endpoint' })).toEqual({
      kind: 'rollback',
      endpointName: 'churn-endpoint',
      requestedBy: UNKNOWN_REQUESTER,
    });
  });

  it('It should read an approve with its release id and comment', () => {
    expect(
      parseExecutionRequest({ action: 'approve', endpointName: 'churn-endpoint', releaseId: 'v7-1a2b3c4d', comment: 'looks good', requestedBy: 'carol' }),
    ).toEqual({ kind: 'approve', endpointName: 'churn-endpoint', releaseId: 'v7-1a2b3c4d', requestedBy: 'carol', note: 'looks good' });
    expect(parseExecutionRequest({ action: 'approve', endpointName: 'churn-endpoint' })).toMatchObject({
      kind: 'approve',
      releaseId: undefined,
      requestedBy: UNKNOWN_REQUESTER,
    });
  });

  it('It should read a reject with its reason', () => {
    expect(parseExecutionRequest({ action: 'reject', endpointName: 'churn-endpoint', releaseId: 'v7-1a2b3c4d', reason: 'not yet' })).toEqual({
      kind: 'reject',
      endpointName: 'churn-endpoint',
      releaseId: 'v7-1a2b3c4d',
      requestedBy: UNKNOWN_REQUESTER,
      note: 'not yet',
    });
  });

  it('It should read a recover', () => {
    expect(parseExecutionRequest({ action: 'recover', endpointName: 'churn-endpoint', requestedBy: 'dave' })).toEqual({
      kind: 'recover',
      endpointName: 'churn-endpoint',
      requestedBy: 'dave',
    });
  });
});

describe('parseExecutionRequest: rejected inputs name the field', () => {
  it.each([
    [
      'an unknown action',
      { action: 'deploy', endpointName: 'churn-endpoint' },
      'expected action to be one of release, rollback, approve, reject, recover, got "deploy"',
    ],
    ['an action that is not a string', { action: 42 }, 'expected action to be one of release, rollback, approve, reject, recover, got 42'],
    ['a rollback without endpointName', { action: 'rollback' }, 'endpointName: expected endpointName as a string'],
    [
      'a rollback of an endpoint name SageMaker cannot have',
      { action: 'rollback', endpointName: 'churn_endpoint!' },
      'endpointName: expected endpointName: 1-63',
    ],
    [
      'a rollback whose reason is too long',
      { action: 'rollback', endpointName: 'churn-endpoint', reason: 'x'.repeat(1025) },
      'reason: expected reason of at most 1024 characters',
    ],
    [
      'an approve with a malformed releaseId',
      { action: 'approve', endpointName: 'churn-endpoint', releaseId: 'release-7' },
      'releaseId: expected releaseId like v3-1a2b3c4d',
    ],
    ['an approve whose comment is a number', { action: 'approve', endpointName: 'churn-endpoint', comment: 5 }, 'comment: expected comment as a string'],
    [
      'a reject with an empty requestedBy',
      { action: 'reject', endpointName: 'churn-endpoint', requestedBy: '' },
      'requestedBy: expected requestedBy to name who asks',
    ],
    [
      'a reject whose requestedBy is not a string',
      { action: 'reject', endpointName: 'churn-endpoint', requestedBy: ['x'] },
      'requestedBy: expected requestedBy as a string',
    ],
    ['a recover with a reason it does not take', { action: 'recover', endpointName: 'churn-endpoint', reason: 'why not' }, 'Unrecognized key: "reason"'],
    ['a rollback that names a package', { action: 'rollback', endpointName: 'churn-endpoint', modelPackageArn: ARN }, 'Unrecognized key: "modelPackageArn"'],
    ['a release without a package', { action: 'release' }, 'modelPackageArn: expected modelPackageArn as a string'],
    ['an event without a group', approvalEvent({ ModelPackageGroupName: undefined }), 'detail.ModelPackageGroupName: expected detail.ModelPackageGroupName'],
    ['an array', [], '(root): Invalid input: expected object'],
  ])('It should reject %s with InvalidReleaseInput naming the field', (_what, input, problem) => {
    const error = rejection(input);
    expect(error.name).toBe('InvalidReleaseInput');
    expect(error.message).toMatch(/^Invalid execution input: /);
    expect(error.message).toContain(problem);
    expect(error.message).toMatch(/Nothing was changed$/);
  });

  it('It should say which input it expected for a named action', () => {
    expect(rejection({ action: 'approve' }).message).toContain('expected a "approve" input');
    expect(rejection({ source: 'my.app' }).message).toContain('expected a SageMaker Model Package State Change event');
  });
});

describe('parseReleaseRequest', () => {
  it('It should return release requests and refuse the other actions', () => {
    expect(parseReleaseRequest(approvalEvent())).toMatchObject({ kind: 'release', origin: 'event' });
    expect(() => parseReleaseRequest({ action: 'recover', endpointName: 'churn-endpoint' })).toThrow(
      new InvalidReleaseInputError('Expected a release request, got action recover'),
    );
  });
});

describe('targetOfRequest', () => {
  it("It should find a release's target by the event's group, or by the group in a manual input's package ARN", () => {
    expect(targetOfRequest(config, parseExecutionRequest(approvalEvent())).endpointName).toBe('churn-endpoint');
    const fraud = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud-models/3';
    expect(targetOfRequest(config, parseExecutionRequest({ action: 'release', modelPackageArn: fraud })).endpointName).toBe('fraud-endpoint');
  });

  it('It should find the target of the other actions by endpoint name', () => {
    for (const action of ['rollback', 'approve', 'reject', 'recover']) {
      expect(targetOfRequest(config, parseExecutionRequest({ action, endpointName: 'fraud-endpoint' })).modelPackageGroupName).toBe('fraud-models');
    }
  });

  it('It should refuse a group or an endpoint that no target names, listing the configured ones', () => {
    const other = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/marketing-models/2';
    expect(() => targetOfRequest(config, parseExecutionRequest({ action: 'release', modelPackageArn: other }))).toThrow(
      new UnknownTargetError(
        'Model package group marketing-models is not bound to any target (configured groups: churn-models, fraud-models); nothing was changed',
      ),
    );
    const error = (() => {
      try {
        targetOfRequest(config, parseExecutionRequest({ action: 'rollback', endpointName: 'other-endpoint' }));
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UnknownTargetError);
    expect(error?.name).toBe('UnknownTarget');
    expect(error?.message).toBe(
      'Endpoint other-endpoint is not a configured target (configured endpoints: churn-endpoint, fraud-endpoint); nothing was changed',
    );
  });

  it('It should take the group and the version out of a package ARN', () => {
    expect(groupOfPackageArn(ARN)).toBe('churn-models');
    expect(versionOfPackageArn(ARN)).toBe(7);
    expect(versionOfPackageArn('arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-models')).toBeUndefined();
    expect(versionOfPackageArn('arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-models/0')).toBeUndefined();
  });
});

describe('lifecycle events', () => {
  const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:smrm-release:churn-models-v7-0a1b2c3d';
  const base = { endpointName: 'churn-endpoint', executionArn, status: 'running', at: '2025-06-01T10:00:00.000Z' };

  it('It should give a release event an id from the release, the execution and the detail type', () => {
    const event = lifecycleEvent(LIFECYCLE_DETAIL_TYPES.started, { ...base, releaseId: 'v7-1a2b3c4d' });
    expect(event.detailType).toBe('Release Started');
    expect(event.detail).toEqual({ schemaVersion: '1', eventId: 'v7-1a2b3c4d:churn-models-v7-0a1b2c3d:release-started', ...base, releaseId: 'v7-1a2b3c4d' });
    expect(EVENT_SOURCE).toBe('sagemaker-release-manager');
  });

  it('It should give each step its own id, and the same id to a repeat of one event', () => {
    const step = (index: number) => ({ index, weightPercent: 10, verdict: { status: 'healthy' as const, reason: 'ok' } });
    const first = lifecycleEvent(LIFECYCLE_DETAIL_TYPES.stepCompleted, { ...base, releaseId: 'v7-1a2b3c4d', step: step(0) });
    const repeat = lifecycleEvent(LIFECYCLE_DETAIL_TYPES.stepCompleted, { ...base, releaseId: 'v7-1a2b3c4d', step: step(0), at: '2025-06-01T10:05:00.000Z' });
    const second = lifecycleEvent(LIFECYCLE_DETAIL_TYPES.stepCompleted, { ...base, releaseId: 'v7-1a2b3c4d', step: step(1) });
    expect(first.detail.eventId).toBe('v7-1a2b3c4d:churn-models-v7-0a1b2c3d:release-step-completed:step-0');
    expect(repeat.detail.eventId).toBe(first.detail.eventId);
    expect(second.detail.eventId).toBe('v7-1a2b3c4d:churn-models-v7-0a1b2c3d:release-step-completed:step-1');
  });

  it('It should name an event without a release by its execution', () => {
    expect(lifecycleEvent(LIFECYCLE_DETAIL_TYPES.failed, { ...base, status: 'failed' }).detail.eventId).toBe('churn-models-v7-0a1b2c3d:release-failed');
  });

  it('It should refuse a detail that does not match its schema', () => {
    expect(() => lifecycleEvent(LIFECYCLE_DETAIL_TYPES.stepCompleted, { ...base, step: { index: 0.5, weightPercent: 10 } })).toThrow(/step/);
  });
});

describe('the lock backoff', () => {
  const lock = { settleSeconds: 30, waitTimeoutSeconds: 14_400, backoffSeconds: 30, maxBackoffSeconds: 300 };

  it('It should wait between half and all of a base that doubles per attempt up to the maximum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.string({ minLength: 1, maxLength: 80 }), (attempts, name) => {
        const base = Math.min(30 * 2 ** Math.min(attempts, 20), 300);
        const wait = backoffSeconds(lock, attempts, name);
        expect(Number.isInteger(wait)).toBe(true);
        expect(wait).toBeGreaterThanOrEqual(Math.round(base / 2));
        expect(wait).toBeLessThanOrEqual(base);
      }),
    );
  });

  it('It should be deterministic per execution and attempt, and spread different executions', () => {
    expect(backoffSeconds(lock, 3, 'exec-a')).toBe(backoffSeconds(lock, 3, 'exec-a'));
    const waits = new Set(Array.from({ length: 20 }, (_, i) => backoffSeconds(lock, 5, `exec-${i}`)));
    expect(waits.size).toBeGreaterThan(5);
  });

  it('It should grow with the attempts until it reaches the cap', () => {
    const firstAttempts = [0, 1, 2].map((attempts) => backoffSeconds({ ...lock, backoffSeconds: 10, maxBackoffSeconds: 1000 }, attempts, 'exec'));
    expect(firstAttempts[0]).toBeLessThanOrEqual(10);
    expect(firstAttempts[2]).toBeGreaterThanOrEqual(20);
    expect(backoffSeconds(lock, 40, 'exec')).toBeLessThanOrEqual(300);
  });

  it('It should never wait less than a second', () => {
    expect(backoffSeconds({ ...lock, backoffSeconds: 1, maxBackoffSeconds: 1 }, 0, 'exec')).toBe(1);
  });
});

describe('execution names of registry approvals', () => {
  const detail = { ModelPackageGroupName: 'churn-models', ModelPackageArn: ARN, LastModifiedTime: '2025-06-01T10:00:00Z' };

  it('It should name the execution after the group and version, with a hash of the approval', () => {
    expect(executionNameFor(detail)).toMatch(/^churn-models-v7-[0-9a-f]{8}$/);
  });

  it('It should give duplicates of one approval the same name and a re-approval another', () => {
    expect(executionNameFor({ ...detail })).toBe(executionNameFor(detail));
    expect(executionNameFor({ ...detail, LastModifiedTime: '2025-06-02T10:00:00Z' })).not.toBe(executionNameFor(detail));
    expect(executionNameFor({ ...detail, LastModifiedTime: 1748772000000 })).not.toBe(executionNameFor(detail));
    expect(executionNameFor({ ...detail, ModelPackageArn: ARN.replace(/7$/, '8') })).toMatch(/^churn-models-v8-/);
  });

  it('It should keep every name within what Step Functions accepts', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/), fc.integer({ min: 1, max: 9_999_999_999 }), (group, version) => {
        const name = executionNameFor({
          ModelPackageGroupName: group,
          ModelPackageArn: `arn:aws:sagemaker:eu-west-1:123456789012:model-package/${group}/${version}`,
        });
        expect(name.length).toBeLessThanOrEqual(80);
        expect(name).toMatch(/^[A-Za-z0-9-_]+$/);
      }),
    );
  });
});
