// The rehearsal summary as people read it (outcome, usage, cost, endpoint, alarms,
// faults, expectation), the folded timeline, and the input of the HTML report and the
// terminal chart, which keeps only the entries that did something.
import type { RehearsalResult, TimelineEntry } from '../../rehearsal/engine';
import { estimateCost } from '../../rehearsal/cost';
import type { Usage } from '../../rehearsal/model';
import { formatDuration, formatResult, formatTimeline, formatWeights, readableCause, reportInputOf, sharesOf } from '../../rehearsal/report';
import { parseScenario } from '../../rehearsal/scenario';

const USAGE: Usage = { stateTransitions: 118, lambdaInvocations: 41, lambdaMemoryMb: 256, sagemakerCalls: 63, cloudwatchCalls: 22 };
const CANDIDATE = 'v7-0123abcd';
const SPLIT = { AllTraffic: 50, [CANDIDATE]: 50 };

const TIMELINE: TimelineEntry[] = [
  { at: 0, state: 'Plan the release', kind: 'task', detail: 'release: version 7', weights: { AllTraffic: 100 }, output: { decision: 'release' } },
  { at: 600, state: 'Wait for the endpoint', kind: 'wait', detail: 'waited 30 s', output: { seconds: 30 } },
  { at: 600, state: 'Check the endpoint', kind: 'task', detail: 'in-progress (poll 1)', output: { outcome: 'in-progress' } },
  { at: 630, state: 'Wait for the endpoint', kind: 'wait', detail: 'waited 30 s', output: { seconds: 30 } },
  { at: 630, state: 'Check the endpoint', kind: 'task', detail: 'ready (poll 2)', weights: { AllTraffic: 100, [CANDIDATE]: 0 }, output: { outcome: 'ready' } },
  { at: 660, state: 'Shift traffic to the next step', kind: 'task', detail: 'step 2', weights: SPLIT, output: { stepIndex: 1, weightPercent: 50 } },
  {
    at: 720,
    state: 'Check the alarms',
    kind: 'task',
    detail: 'healthy (check 1)',
    weights: SPLIT,
    output: { verdict: { status: 'healthy' }, bakeComplete: false },
  },
  {
    at: 780,
    state: 'Check the alarms',
    kind: 'task',
    detail: 'unhealthy (check 2)',
    weights: SPLIT,
    output: { verdict: { status: 'unhealthy' }, bakeComplete: false },
  },
  { at: 790, state: 'Roll back to the baseline', kind: 'retry', detail: 'ThrottlingException: Rate exceeded (retry in 2 s)', weights: SPLIT },
  {
    at: 800,
    state: 'Roll back to the baseline',
    kind: 'task',
    detail: 'in progress: waiting',
    weights: SPLIT,
    output: { done: false, action: 'waiting for InService' },
  },
  {
    at: 860,
    state: 'Roll back to the baseline',
    kind: 'task',
    detail: 'done: restored',
    weights: { AllTraffic: 100 },
    output: { done: true, action: 'restored' },
  },
  { at: 860, state: 'Execution failed', kind: 'end', detail: 'ReleaseRolledBack: alarm errors is in ALARM', weights: { AllTraffic: 100 } },
];

function result(overrides: Partial<RehearsalResult> = {}): RehearsalResult {
  return {
    scenario: parseScenario({ name: 'error-spike', description: 'The candidate fails at 50 %.', candidate: { version: 7 }, baselineVersion: 6 }),
    target: 'fraud-scoring',
    status: 'FAILED',
    error: 'ReleaseRolledBack',
    cause: JSON.stringify({ errorType: 'ReleaseRolledBack', errorMessage: 'alarm errors is in ALARM', trace: [] }),
    virtualSeconds: 860,
    wallMilliseconds: 1234.4,
    timeline: TIMELINE,
    endpoint: {
      status: 'InService',
      configName: 'ep-config-initial',
      variants: [{ variantName: 'AllTraffic', modelName: 'ep-AllTraffic', currentWeight: 1, desiredWeight: 1, instanceCount: 2, desiredInstanceCount: 2 }],
    },
    liveVersion: 6,
    candidateVariant: CANDIDATE,
    lambdaInvocations: USAGE.lambdaInvocations,
    sagemakerCalls: USAGE.sagemakerCalls,
    cloudwatchCalls: USAGE.cloudwatchCalls,
    usage: USAGE,
    cost: estimateCost(USAGE),
    mutatingCalls: [
      { operation: 'UpdateEndpointWeightsAndCapacities', input: {} },
      { operation: 'UpdateEndpoint', input: {} },
    ],
    models: [],
    endpointConfigs: [],
    series: [{ at: 60, baseline: { variantName: 'AllTraffic', sharePercent: 100, invocations: 1200, errors4xx: 0, errors5xx: 1 } }],
    markers: [{ at: 860, kind: 'end', label: 'ReleaseRolledBack' }],
    alarms: [],
    faults: [],
    ...overrides,
  };
}

function lines(text: string): string[] {
  return text.split('\n');
}

describe('formatResult', () => {
  it('It should give the outcome with the readable cause, the time, the usage, the cost and the endpoint after', () => {
    const text = lines(formatResult(result()));

    expect(text[0]).toBe('Outcome: FAILED with ReleaseRolledBack');
    expect(text[1]).toBe('  reason: ReleaseRolledBack: alarm errors is in ALARM');
    expect(text[2]).toBe('  virtual time 00:14:20 in 1234 ms of wall time');
    expect(text[3]).toBe('  118 state transitions, 41 Lambda invocations, 63 SageMaker calls (2 changes), 22 CloudWatch calls');
    expect(text[4]).toMatch(/^ {2}estimated cost per release: \$[0-9.]+ \(.+\)$/);
    expect(text[5]).toBe('  endpoint after: InService, config ep-config-initial, traffic AllTraffic 100%; version 6 live');
  });

  it('It should say when the release succeeded and when the endpoint does not exist', () => {
    const text = lines(formatResult(result({ status: 'SUCCEEDED', error: undefined, cause: undefined, endpoint: undefined, liveVersion: null })));

    expect(text[0]).toBe('Outcome: SUCCEEDED');
    expect(text).toContain('  endpoint after: does not exist');
  });

  it('It should say that an alarm not defined in the scenario stays OK unless a fault forces it', () => {
    const text = lines(
      formatResult(
        result({
          alarms: [
            { name: 'errors', watched: true, evaluated: true, exists: true, finalState: 'ALARM' },
            { name: 'latency', watched: true, evaluated: false, exists: true, finalState: 'OK' },
            { name: 'gone', watched: true, evaluated: false, exists: false, finalState: 'MISSING' },
            { name: 'extra', watched: false, evaluated: true, exists: true, finalState: 'OK' },
          ],
        }),
      ),
    );

    expect(text).toContain('  alarm errors: evaluated from metrics, ended ALARM');
    expect(text).toContain('  alarm latency: not defined in the scenario: stays OK unless a fault forces it');
    expect(text).toContain('  alarm gone: missing');
    expect(text).toContain('  alarm extra (not watched by the release): evaluated from metrics, ended OK');
  });

  it('It should say which faults fired when, and which never fired because the release ended first', () => {
    const text = lines(
      formatResult(
        result({
          faults: [
            { type: 'error-spike', trigger: 'at step 2', firedAt: 660 },
            { type: 'latency-regression', trigger: '3600 s after the start' },
          ],
        }),
      ),
    );

    expect(text).toContain('  fault error-spike (at step 2): fired at 00:11:00');
    expect(text).toContain('  fault latency-regression (3600 s after the start): never fired: the release ended first');
  });

  it('It should end with the expectation, met or not with every failure', () => {
    const met = lines(formatResult(result({ expectation: { met: true, failures: [] } })));
    const unmet = lines(
      formatResult(result({ expectation: { met: false, failures: ['expected status SUCCEEDED, got FAILED', 'expected version 7 live, got version 6'] } })),
    );
    const none = lines(formatResult(result()));

    expect(met.at(-1)).toBe('  expectation met');
    expect(unmet.at(-1)).toBe('  EXPECTATION NOT MET: expected status SUCCEEDED, got FAILED; expected version 7 live, got version 6');
    expect(none.some((line) => /expectation/i.test(line))).toBe(false);
  });
});

describe('formatTimeline', () => {
  it('It should fold uneventful polls, bake checks and waits into the next line', () => {
    const text = formatTimeline(TIMELINE);

    expect(text.map((line) => line.slice(0, 60).trimEnd())).toEqual([
      '  00:00:00  Plan the release',
      '  00:10:30  Check the endpoint',
      '  00:11:00  Shift traffic to the next step',
      '  00:13:00  Check the alarms',
      '~ 00:13:10  Roll back to the baseline',
      '  00:14:20  Roll back to the baseline',
      '= 00:14:20  Execution failed',
    ]);
    // Two waits of 30 s and one poll, from 00:09:30 (when the first wait began) to 00:10:30.
    expect(text[1]).toMatch(/ready \(poll 2\) \[after 00:01:00: 1 uneventful poll\]$/);
    expect(text[3]).toMatch(/unhealthy \(check 2\) \[after 00:01:00: 1 uneventful poll\]$/);
    expect(text[5]).toMatch(/done: restored \[after 00:01:00: 1 uneventful poll\]$/);
    expect(text[2]).toContain('AllTraffic 50% | v7-0123abcd 50%');
  });
});

describe('reportInputOf', () => {
  it('It should keep only the timeline entries that did something, without their outputs', () => {
    const input = reportInputOf(result());

    expect(input.timeline.map((entry) => `${entry.at} ${entry.state}`)).toEqual([
      '0 Plan the release',
      '630 Check the endpoint',
      '660 Shift traffic to the next step',
      '780 Check the alarms',
      '790 Roll back to the baseline',
      '860 Roll back to the baseline',
      '860 Execution failed',
    ]);
    expect(input.timeline.some((entry) => 'output' in entry)).toBe(false);
    expect(input.timeline[3]).toEqual({ at: 780, state: 'Check the alarms', kind: 'task', detail: 'unhealthy (check 2)', weights: SPLIT });
  });

  it('It should carry the scenario, the outcome with the readable cause, the numbers, the series and the markers', () => {
    const input = reportInputOf(result());

    expect(input).toMatchObject({
      scenarioName: 'error-spike',
      description: 'The candidate fails at 50 %.',
      target: 'fraud-scoring',
      status: 'FAILED',
      error: 'ReleaseRolledBack',
      cause: 'ReleaseRolledBack: alarm errors is in ALARM',
      virtualSeconds: 860,
      usage: USAGE,
      series: result().series,
      markers: result().markers,
    });
  });

  it('It should leave out the description, error and cause when there are none', () => {
    const input = reportInputOf(result({ status: 'SUCCEEDED', error: undefined, cause: undefined, scenario: parseScenario({ name: 'quiet' }), timeline: [] }));

    expect(input).not.toHaveProperty('description');
    expect(input).not.toHaveProperty('error');
    expect(input).not.toHaveProperty('cause');
    expect(input.timeline).toEqual([]);
  });
});

describe('helpers', () => {
  it('It should format durations as hh:mm:ss, rounded to the second', () => {
    expect(formatDuration(0)).toBe('00:00:00');
    expect(formatDuration(59.6)).toBe('00:01:00');
    expect(formatDuration(3 * 3600 + 7 * 60 + 5)).toBe('03:07:05');
  });

  it('It should format weights, or say there is no endpoint', () => {
    expect(formatWeights({ AllTraffic: 90, [CANDIDATE]: 10 })).toBe('AllTraffic 90% | v7-0123abcd 10%');
    expect(formatWeights(undefined)).toBe('no endpoint');
  });

  it('It should compute shares in percent with one decimal, and 0 when no variant has weight', () => {
    expect(
      sharesOf([
        { variantName: 'a', currentWeight: 2 },
        { variantName: 'b', currentWeight: 1 },
      ]),
    ).toEqual({ a: 66.7, b: 33.3 });
    expect(sharesOf([{ variantName: 'a', currentWeight: 0 }])).toEqual({ a: 0 });
  });

  it("It should show a Lambda error's type and message, and any other cause as it is", () => {
    expect(readableCause('{"errorType":"RollbackFailed","errorMessage":"endpoint is Failed","trace":[]}')).toBe('RollbackFailed: endpoint is Failed');
    expect(readableCause('{"errorMessage":"only a message"}')).toBe('only a message');
    expect(readableCause('{not json')).toBe('{not json');
    expect(readableCause('{"other":1}')).toBe('{"other":1}');
    expect(readableCause('plain text')).toBe('plain text');
  });
});
