/**
 * Every path of the real state machine, run by the rehearsal engine with the real
 * handlers against the SageMaker and CloudWatch simulators. Each scenario asserts the
 * execution's outcome and the endpoint's final variants and weights.
 */
import { BASELINE_VARIANT, Rehearsal, shutdownRehearsals, type RehearsalResult } from '../../rehearsal/engine';
import { WORKFLOW_CONFIG } from './fixtures';

let rehearsal: Rehearsal;

beforeAll(() => {
  rehearsal = Rehearsal.fromConfig(WORKFLOW_CONFIG);
});

afterAll(async () => {
  await shutdownRehearsals();
});

/** The endpoint's traffic split after the execution, in percent per variant. */
function traffic(result: RehearsalResult): Record<string, number> {
  const variants = result.endpoint?.variants ?? [];
  const total = variants.reduce((sum, v) => sum + v.currentWeight, 0);
  return Object.fromEntries(variants.map((v) => [v.variantName, (v.currentWeight / total) * 100]));
}

function candidateVariant(result: RehearsalResult): string {
  const plan = result.timeline.find((e) => e.state === 'Plan the release' && e.kind === 'task')?.output as { release: { candidate: { variantName: string } } };
  expect(plan?.release).toBeTruthy();
  return plan.release.candidate.variantName;
}

/** Candidate weights the endpoint actually served, in order, from UpdateEndpointWeightsAndCapacities calls. */
function shiftedWeights(result: RehearsalResult, variant: string): number[] {
  return result.mutatingCalls
    .filter((c) => c.operation === 'UpdateEndpointWeightsAndCapacities')
    .map((c) => (c.input as { DesiredWeightsAndCapacities: Array<{ VariantName: string; DesiredWeight: number }> }).DesiredWeightsAndCapacities)
    .map((weights) => weights.find((w) => w.VariantName === variant)?.DesiredWeight ?? -1);
}

function expectBaselineAlone(result: RehearsalResult): void {
  expect(result.endpoint?.status).toBe('InService');
  expect(traffic(result)).toEqual({ [BASELINE_VARIANT]: 100 });
  expect(result.endpoint?.variants.map((v) => v.modelName)).toEqual([expect.stringMatching(new RegExp(`-${BASELINE_VARIANT}$`))]);
  // The candidate's model and configs are gone; the baseline's are intact.
  expect(result.models.some((m) => /-v\d+-[0-9a-f]{8}$/.test(m))).toBe(false);
  expect(result.endpointConfigs.some((c) => /-v\d+-[0-9a-f]{8}-[dp]$/.test(c))).toBe(false);
}

describe('promotion', () => {
  it('It should promote an all-at-once (blue/green) release after one bake at 100 %', async () => {
    const result = await rehearsal.run({ name: 'all-at-once', target: 'blue-green' });
    expect(result.status).toBe('SUCCEEDED');
    const candidate = candidateVariant(result);
    expect(traffic(result)).toEqual({ [candidate]: 100 });
    expect(shiftedWeights(result, candidate)).toEqual([100]);
    expect(result.endpoint?.configName).toMatch(/-p$/);
    // The bake ran in full: deploy (10 min) + shift (1 min) + bake (15 min) + promote (10 min), in virtual time.
    expect(result.virtualSeconds).toBeGreaterThanOrEqual(600 + 60 + 900 + 600);
  });

  it('It should promote a canary release through every step: 10 %, 50 %, then 100 %', async () => {
    const result = await rehearsal.run({ name: 'canary', target: 'canary' });
    expect(result.status).toBe('SUCCEEDED');
    const candidate = candidateVariant(result);
    expect(shiftedWeights(result, candidate)).toEqual([10, 50, 100]);
    expect(traffic(result)).toEqual({ [candidate]: 100 });
    // The baseline's hand-made config is kept; the release's deploy config is deleted.
    expect(result.endpointConfigs).toContain('canary-endpoint-config-initial');
    expect(result.endpointConfigs.filter((c) => c.endsWith('-d'))).toEqual([]);
    // The baseline model is kept so that it can be released again.
    expect(result.models).toContain(`canary-endpoint-${BASELINE_VARIANT}`);
  });

  it('It should promote a linear release in equal steps of 25 %', async () => {
    const result = await rehearsal.run({ name: 'linear', target: 'linear' });
    expect(result.status).toBe('SUCCEEDED');
    const candidate = candidateVariant(result);
    expect(shiftedWeights(result, candidate)).toEqual([25, 50, 75, 100]);
    expect(traffic(result)).toEqual({ [candidate]: 100 });
  });

  it('It should create a missing endpoint with the candidate alone', async () => {
    const result = await rehearsal.run({ name: 'missing-endpoint', target: 'canary', baselineVersion: null });
    expect(result.status).toBe('SUCCEEDED');
    const candidate = candidateVariant(result);
    expect(result.mutatingCalls.map((c) => c.operation)).toEqual(['CreateModel', 'CreateEndpointConfig', 'CreateEndpoint']);
    expect(traffic(result)).toEqual({ [candidate]: 100 });
  });

  it('It should do nothing when the approved version is already live', async () => {
    const result = await rehearsal.run({ name: 'already-live', target: 'canary', baselineVersion: 4, candidate: { version: 4 } });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.timeline.find((e) => e.state === 'Plan the release')?.detail).toMatch(/nothing-to-do: version 4 is already live/);
    expect(result.mutatingCalls).toEqual([]);
  });

  it('It should release from the documented manual input', async () => {
    const result = await rehearsal.run({ name: 'manual', target: 'blue-green', start: 'manual' });
    expect(result.status).toBe('SUCCEEDED');
    expect(traffic(result)).toEqual({ [candidateVariant(result)]: 100 });
  });
});

describe('rollback', () => {
  it.each([1, 2, 3])('It should roll back to the baseline alone at 100 %% when the alarm fires at canary step %i', async (step) => {
    const result = await rehearsal.run({
      name: `alarm-at-step-${step}`,
      target: 'canary',
      faults: [{ type: 'alarm', alarm: 'canary-latency', state: 'ALARM', atStep: step }],
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toMatch(/CandidateUnhealthy: alarm canary-latency is in ALARM/);
    expectBaselineAlone(result);
    expect(result.endpoint?.configName).toBe('canary-endpoint-config-initial');
    const candidate = candidateVariant(result);
    // Traffic reached the step it failed at, never beyond, then went back with absolute weights.
    const weights = shiftedWeights(result, candidate);
    expect(weights.slice(0, -1)).toEqual([10, 50, 100].slice(0, step));
    expect(weights[weights.length - 1]).toBe(0);
  });

  it('It should roll back when a watched alarm does not exist', async () => {
    const result = await rehearsal.run({ name: 'missing-alarm', target: 'linear', faults: [{ type: 'missing-alarm', alarm: 'linear-5xx' }] });
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toMatch(/alarm linear-5xx does not exist/);
    expectBaselineAlone(result);
  });

  it('It should fail clearly and keep the baseline intact when the candidate never becomes healthy (silent revert)', async () => {
    const result = await rehearsal.run({ name: 'silent-revert', target: 'canary', faults: [{ type: 'candidate-never-healthy' }] });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toMatch(/CandidateDeploymentFailed: .*InService with config canary-endpoint-config-initial, not .*-d: SageMaker reverted the update/);
    expectBaselineAlone(result);
    // No traffic was ever shifted.
    expect(result.mutatingCalls.filter((c) => c.operation === 'UpdateEndpointWeightsAndCapacities')).toEqual([]);
  });

  it('It should delete an endpoint it created when the candidate is unhealthy', async () => {
    const result = await rehearsal.run({
      name: 'new-endpoint-unhealthy',
      target: 'blue-green',
      baselineVersion: null,
      faults: [{ type: 'alarm', alarm: 'blue-green-5xx', state: 'ALARM', atStep: 1 }],
    });
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.endpoint).toBeUndefined();
    expect(result.models).toEqual([]);
  });
});

describe('waiting, throttling and bad input', () => {
  it('It should wait for an endpoint that is Updating at the start, then release', async () => {
    const result = await rehearsal.run({ name: 'busy', target: 'canary', faults: [{ type: 'endpoint-busy', status: 'Updating', forSeconds: 400 }] });
    expect(result.status).toBe('SUCCEEDED');
    const waits = result.timeline.filter((e) => e.state === 'Plan the release');
    expect(waits.length).toBeGreaterThan(1);
    const firstMutation = result.mutatingCalls[0];
    expect(firstMutation?.operation).toBe('CreateModel');
    // The SageMaker simulator rejects updates to an in-progress endpoint; none was attempted.
    expect(result.timeline.some((e) => /in-progress endpoint/.test(e.detail))).toBe(false);
  });

  it('It should stop without touching the endpoint when it stays busy beyond the wait limit', async () => {
    const result = await rehearsal.run({
      name: 'busy-too-long',
      target: 'blue-green',
      faults: [{ type: 'endpoint-busy', status: 'Updating', forSeconds: 7200 }],
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('EndpointNotReady');
    expect(result.mutatingCalls).toEqual([]);
    expect(result.virtualSeconds).toBeGreaterThanOrEqual(1800);
  });

  it('It should retry throttled SageMaker and CloudWatch calls and still promote', async () => {
    const result = await rehearsal.run({
      name: 'throttled',
      target: 'linear',
      faults: [
        { type: 'throttling-burst', service: 'sagemaker', operations: ['UpdateEndpointWeightsAndCapacities'], times: 2 },
        { type: 'throttling-burst', service: 'sagemaker', operations: ['DescribeEndpoint'], times: 3 },
        { type: 'throttling-burst', service: 'cloudwatch', operations: ['DescribeAlarms'], times: 2 },
      ],
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.timeline.filter((e) => e.kind === 'retry' && /ThrottlingException/.test(e.detail)).length).toBeGreaterThanOrEqual(7);
    expect(traffic(result)).toEqual({ [candidateVariant(result)]: 100 });
  });

  it.each([
    ['Rejected', 'ModelPackageNotApproved'],
    ['PendingManualApproval', 'ModelPackageNotApproved'],
  ] as const)('It should change nothing for a package that is %s', async (status, error) => {
    const result = await rehearsal.run({ name: `not-approved-${status}`, target: 'canary', candidate: { version: 2, status } });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(error);
    expect(result.cause).toMatch(new RegExp(`is ${status}, not Approved; nothing was changed`));
    expect(result.mutatingCalls).toEqual([]);
  });

  it.each([
    ['an empty object', {}],
    [
      'an event without detail.ModelPackageArn',
      { source: 'aws.sagemaker', 'detail-type': 'SageMaker Model Package State Change', detail: { ModelPackageGroupName: 'canary-models' } },
    ],
    ['a manual input with a bad ARN', { action: 'release', modelPackageArn: 'not-an-arn' }],
  ])('It should reject %s with a clear error and change nothing', async (_what, raw) => {
    const result = await rehearsal.run({ name: 'malformed', target: 'canary', start: { raw } });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidReleaseInput');
    expect(result.cause).toMatch(/Invalid execution input/);
    expect(result.mutatingCalls).toEqual([]);
    expect(traffic(result)).toEqual({ [BASELINE_VARIANT]: 100 });
  });

  it('It should name the field that is wrong in a malformed event', async () => {
    const result = await rehearsal.run({
      name: 'malformed-field',
      target: 'canary',
      start: { raw: { source: 'aws.sagemaker', 'detail-type': 'SageMaker Model Package State Change', detail: { ModelPackageGroupName: 'canary-models' } } },
    });
    expect(result.cause).toMatch(/detail\.ModelPackageArn/);
  });

  it('It should reject a package from a group that no target is bound to', async () => {
    const result = await rehearsal.run({
      name: 'unknown-group',
      target: 'canary',
      start: { raw: { action: 'release', modelPackageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/other-group/1' } },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('UnknownTarget');
    expect(result.cause).toMatch(
      /Model package group other-group is not bound to any target \(configured groups: canary-models, linear-models, blue-green-models\)/,
    );
    expect(result.mutatingCalls).toEqual([]);
  });
});

describe('scenarios the engine refuses', () => {
  it('It should refuse a fault on the baseline when there is no baseline, naming the fault', async () => {
    await expect(
      rehearsal.run({ name: 'no-baseline-spike', target: 'canary', baselineVersion: null, faults: [{ type: 'error-spike', version: 'baseline' }] }),
    ).rejects.toThrow(/faults\[0\]\.version: there is no baseline \(baselineVersion is null\); expected 'candidate'/);
  });

  it('It should refuse to force an alarm the target and the scenario do not have', async () => {
    await expect(rehearsal.run({ name: 'unknown-alarm', target: 'canary', faults: [{ type: 'alarm', alarm: 'nope' }] })).rejects.toThrow(
      /faults\[0\]\.alarm: expected one of the target's or the scenario's alarms \(canary-5xx, canary-latency\), got 'nope'/,
    );
  });

  it('It should refuse a policy override that the config schema rejects, naming the field', async () => {
    await expect(rehearsal.run({ name: 'bad-policy', target: 'canary', policy: { strategy: { type: 'linear' } } })).rejects.toThrow(
      /policy override for target canary.*strategy/s,
    );
  });
});

describe('traffic and alarms evaluated from metrics', () => {
  const fiveXx = { metric: 'Invocation5XXErrors', statistic: 'Average', threshold: 0.05, evaluationPeriods: 3, datapointsToAlarm: 2 } as const;

  it('It should roll back a canary whose candidate fails requests, detected by an alarm on the candidate variant', async () => {
    const result = await rehearsal.run({
      name: 'spike-from-metrics',
      target: 'canary',
      alarms: { 'canary-5xx': fiveXx },
      faults: [{ type: 'error-spike', errorRate5xx: 0.5, atStep: 1 }],
    });
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toMatch(/alarm canary-5xx is in ALARM \(Threshold Crossed: \d out of the last \d datapoints? \[0\.\d+ /);
    expectBaselineAlone(result);
    // The candidate served the errors; the baseline did not.
    const candidateErrors = result.series.reduce((sum, p) => sum + (p.candidate?.errors5xx ?? 0), 0);
    const candidateRequests = result.series.reduce((sum, p) => sum + (p.candidate?.invocations ?? 0), 0);
    expect(candidateErrors / candidateRequests).toBeGreaterThan(0.3);
    expect(result.markers.find((m) => m.kind === 'alarm')?.label).toBe('canary-5xx ALARM');
  });

  it('It should promote a healthy canary whose alarms were evaluated from traffic, the candidate serving its step share', async () => {
    const result = await rehearsal.run({
      name: 'healthy-from-metrics',
      target: 'canary',
      traffic: { requestsPerSecond: 50 },
      alarms: { 'canary-5xx': fiveXx },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.liveVersion).toBe(2);
    expect(result.alarms.find((a) => a.name === 'canary-5xx')).toMatchObject({ evaluated: true, finalState: 'OK' });
    // At the 10 % step the candidate serves about a tenth of 3,000 requests a minute.
    const atTenPercent = result.series.filter((p) => p.candidateShare === 10 && p.candidate);
    expect(atTenPercent.length).toBeGreaterThan(5);
    for (const point of atTenPercent) expect(point.candidate!.invocations).toBeGreaterThan(200);
    expect(result.usage.stateTransitions).toBeGreaterThan(result.lambdaInvocations);
    expect(result.cost.totalUsd).toBeGreaterThan(0);
  });
});

describe('faults placed precisely', () => {
  it('It should revert only the weight change of the named step, so that an earlier rollback goes through', async () => {
    const result = await rehearsal.run({
      name: 'revert-after-rollback',
      target: 'canary',
      faults: [
        { type: 'alarm', alarm: 'canary-5xx', atStep: 1 },
        { type: 'silent-revert', atStep: 2 },
      ],
    });
    expect(result.error).toBe('ReleaseRolledBack');
    expectBaselineAlone(result);
    expect(result.faults.find((f) => f.type === 'silent-revert')).toEqual({ type: 'silent-revert', trigger: 'the weight change of step 2' });
  });

  it('It should refuse a fault at a step the target does not have, naming the steps', async () => {
    await expect(rehearsal.run({ name: 'too-far', target: 'canary', faults: [{ type: 'error-spike', atStep: 4 }] })).rejects.toThrow(
      /faults\[0\]\.atStep: target canary has 3 steps \(10 %, 50 %, 100 %\), got 4/,
    );
  });

  it('It should refuse to remove an alarm that neither the target nor the scenario has', async () => {
    await expect(rehearsal.run({ name: 'typo', target: 'canary', faults: [{ type: 'missing-alarm', alarm: 'canary-5xxx' }] })).rejects.toThrow(
      /faults\[0\]\.alarm: expected one of the target's or the scenario's alarms \(canary-5xx, canary-latency\), got 'canary-5xxx'/,
    );
  });
});
