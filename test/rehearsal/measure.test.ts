// What a rehearsal measures: the per-minute series (the candidate's share from the
// weights the timeline recorded), the chart markers, the version live at the end, and
// the check of the scenario's expectation.
import { checkExpectation, liveVersionOf, markersOf, seriesOf, type AlarmTransition } from '../../rehearsal/measure';
import type { VariantMinute } from '../../rehearsal/model';
import type { EndpointMinute } from '../../rehearsal/simulator/dataplane';
import { BASELINE_VARIANT } from '../../rehearsal/world';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const CANDIDATE = 'v7-0123abcd';

function variantMinute(variantName: string, sharePercent: number, invocations: number): VariantMinute {
  return { variantName, version: variantName === BASELINE_VARIANT ? 6 : 7, sharePercent, invocations, errors4xx: 0, errors5xx: 0 };
}

/** The minute starting `minute` minutes after T0, with the baseline and, when given a share, the candidate. */
function endpointMinute(minute: number, candidateShare?: number): EndpointMinute {
  const variants = [variantMinute(BASELINE_VARIANT, 100 - (candidateShare ?? 0), 1000)];
  if (candidateShare !== undefined) variants.push(variantMinute(CANDIDATE, candidateShare, candidateShare * 10));
  return { start: T0 + minute * 60_000, endpointName: 'ep', variants };
}

type Entry = Parameters<typeof markersOf>[0][number];

function entry(at: number, state: string, fields: Partial<Entry> = {}): Entry {
  return { at, state, kind: 'task', detail: '', ...fields };
}

describe('seriesOf', () => {
  it('It should give one point per minute, at its end, with the candidate share of the last weights recorded at or before its start', () => {
    const timeline = [
      entry(0, 'Plan the release', { weights: { [BASELINE_VARIANT]: 100 } }),
      entry(30, 'Deploy the candidate', { weights: { [BASELINE_VARIANT]: 100, [CANDIDATE]: 0 } }),
      entry(90, 'Wait for the endpoint', { kind: 'wait' }), // no weights: the previous ones still hold
      entry(120, 'Shift traffic to the next step', { weights: { [BASELINE_VARIANT]: 90, [CANDIDATE]: 10 } }),
      entry(150, 'Check the alarms', { weights: { [BASELINE_VARIANT]: 50, [CANDIDATE]: 50 } }),
    ];
    const minutes = [endpointMinute(0), endpointMinute(1, 0), endpointMinute(2, 10), endpointMinute(3, 50)];

    const series = seriesOf(minutes, timeline, CANDIDATE, T0);

    expect(series.map((point) => [point.at, point.candidateShare])).toEqual([
      [60, undefined],
      [120, 0],
      [180, 10],
      [240, 50],
    ]);
    expect(series[0]).not.toHaveProperty('candidateShare');
    expect(series[0]).not.toHaveProperty('candidate');
    expect(series[3].candidate).toEqual(variantMinute(CANDIDATE, 50, 500));
    expect(series[3].baseline).toEqual(variantMinute(BASELINE_VARIANT, 50, 1000));
  });

  it('It should leave out the share before the timeline records any weights', () => {
    const series = seriesOf([endpointMinute(0)], [entry(0, 'Plan the release')], CANDIDATE, T0);

    expect(series).toEqual([{ at: 60, baseline: variantMinute(BASELINE_VARIANT, 100, 1000) }]);
  });

  it('It should take the first other variant as the baseline when none is named AllTraffic', () => {
    const minute: EndpointMinute = {
      start: T0,
      endpointName: 'ep',
      variants: [variantMinute(CANDIDATE, 20, 200), variantMinute('blue', 80, 800), variantMinute('green', 0, 0)],
    };

    const [point] = seriesOf([minute], [], CANDIDATE, T0);

    expect(point.baseline?.variantName).toBe('blue');
    expect(point.candidate?.variantName).toBe(CANDIDATE);
  });

  it('It should copy the variant minutes, so that changing the series leaves the simulator history alone', () => {
    const minutes = [endpointMinute(0, 10)];

    const [point] = seriesOf(minutes, [], CANDIDATE, T0);

    expect(point.candidate).toEqual(minutes[0].variants[1]);
    expect(point.candidate).not.toBe(minutes[0].variants[1]);
  });
});

describe('markersOf', () => {
  const timeline = [
    entry(0, 'Plan the release'),
    entry(660, 'Shift traffic to the next step', { output: { stepIndex: 0, weightPercent: 10 } }),
    entry(1320, 'Shift traffic to the next step', { output: { stepIndex: 1, weightPercent: 50 } }),
    entry(1320, 'Shift traffic to the next step', { kind: 'retry', output: undefined }), // not a task: no marker
    entry(1500, 'Roll back to the baseline', { kind: 'retry', detail: 'ThrottlingException: slow down' }),
    entry(1560, 'Roll back to the baseline'),
    entry(2100, 'Execution failed', { kind: 'end', detail: 'ReleaseRolledBack: alarm x is in ALARM' }),
  ];
  const transitions: AlarmTransition[] = [
    { at: 1440, alarm: 'errors', from: 'OK', to: 'ALARM', reason: 'Threshold Crossed' },
    { at: 1800, alarm: 'errors', from: 'ALARM', to: 'OK', reason: 'Threshold Crossed' },
    { at: 1900, alarm: 'latency', from: 'INSUFFICIENT_DATA', to: 'OK', reason: 'Threshold Crossed' }, // not worth a mark
  ];

  it('It should mark steps, faults that fired after the start, alarm transitions, the rollback and the end (its error), in time order', () => {
    const faults = [
      { type: 'missing-alarm', firedAt: 0 }, // armed from the start: not a moment
      { type: 'error-spike', firedAt: 1320 },
      { type: 'latency-regression' }, // never fired
    ];

    expect(markersOf(timeline, transitions, faults)).toEqual([
      { at: 660, kind: 'step', label: 'step 1: 10 %' },
      { at: 1320, kind: 'step', label: 'step 2: 50 %' },
      { at: 1320, kind: 'fault', label: 'error-spike' },
      { at: 1440, kind: 'alarm', label: 'errors ALARM' },
      { at: 1500, kind: 'rollback', label: 'rollback started' },
      { at: 1800, kind: 'alarm-ok', label: 'errors OK' },
      { at: 2100, kind: 'end', label: 'ReleaseRolledBack' },
    ]);
  });

  it('It should mark the promotion task and label a step without a weight by its number only', () => {
    const promoted = [
      entry(600, 'Shift traffic to the next step', { output: { stepIndex: 0 } }),
      entry(1500, 'Promote the candidate', { kind: 'retry' }),
      entry(1560, 'Promote the candidate'),
      entry(2200, 'Execution succeeded', { kind: 'end', detail: 'SUCCEEDED' }),
    ];

    expect(markersOf(promoted, [], [])).toEqual([
      { at: 600, kind: 'step', label: 'step 1' },
      { at: 1560, kind: 'promotion', label: 'promotion started' },
      { at: 2200, kind: 'end', label: 'SUCCEEDED' },
    ]);
  });
});

describe('liveVersionOf', () => {
  const variant = (currentWeight: number, ...versions: number[]) => ({ currentWeight, versions });

  it('It should give the single version that every weighted variant serves', () => {
    expect(liveVersionOf({ status: 'InService', variants: [variant(1, 7), variant(0, 6)] })).toBe(7);
    expect(liveVersionOf({ status: 'InService', variants: [variant(1, 7), variant(3, 7)] })).toBe(7);
  });

  it('It should give undefined when traffic is split across versions or nothing has weight', () => {
    expect(liveVersionOf({ status: 'InService', variants: [variant(9, 6), variant(1, 7)] })).toBeUndefined();
    expect(liveVersionOf({ status: 'InService', variants: [variant(1, 6, 7)] })).toBeUndefined();
    expect(liveVersionOf({ status: 'InService', variants: [variant(0, 6)] })).toBeUndefined();
  });

  it('It should give null when the endpoint does not exist', () => {
    expect(liveVersionOf(undefined)).toBeNull();
  });

  it('It should give no live version for an endpoint that serves no traffic, and keep it while an update is in progress', () => {
    expect(liveVersionOf({ status: 'Failed', variants: [variant(1, 7)] })).toBeUndefined();
    expect(liveVersionOf({ status: 'Creating', variants: [variant(1, 7)] })).toBeUndefined();
    expect(liveVersionOf({ status: 'Updating', variants: [variant(1, 7)] })).toBe(7);
  });
});

describe('checkExpectation', () => {
  it('It should be met when status, error and live version all match', () => {
    expect(
      checkExpectation({ status: 'FAILED', error: 'ReleaseRolledBack', liveVersion: 6 }, { status: 'FAILED', error: 'ReleaseRolledBack', liveVersion: 6 }),
    ).toEqual({
      met: true,
      failures: [],
    });
    expect(checkExpectation({ status: 'FAILED', liveVersion: null }, { status: 'FAILED', error: 'RollbackFailed', liveVersion: null })).toEqual({
      met: true,
      failures: [],
    });
  });

  it('It should list every difference, in the order status, error, live version', () => {
    const outcome = checkExpectation({ status: 'FAILED', error: 'ReleaseRolledBack', liveVersion: 6 }, { status: 'SUCCEEDED', liveVersion: 7 });

    expect(outcome).toEqual({
      met: false,
      failures: ['expected status FAILED, got SUCCEEDED', 'expected error ReleaseRolledBack, got none', 'expected version 6 live, got version 7'],
    });
  });

  it('It should say when traffic is split, or when there is no endpoint, on either side', () => {
    expect(checkExpectation({ status: 'SUCCEEDED', liveVersion: 7 }, { status: 'SUCCEEDED', liveVersion: undefined }).failures).toEqual([
      'expected version 7 live, got traffic split across versions',
    ]);
    expect(checkExpectation({ status: 'FAILED', liveVersion: 6 }, { status: 'FAILED', error: 'RollbackFailed', liveVersion: null }).failures).toEqual([
      'expected version 6 live, got no endpoint',
    ]);
    expect(checkExpectation({ status: 'FAILED', liveVersion: null }, { status: 'FAILED', liveVersion: 6 }).failures).toEqual([
      'expected no endpoint, got version 6',
    ]);
    expect(checkExpectation({ status: 'FAILED', error: 'ReleaseRolledBack' }, { status: 'FAILED', error: 'RollbackFailed', liveVersion: 6 }).failures).toEqual([
      'expected error ReleaseRolledBack, got RollbackFailed',
    ]);
  });

  it('It should not check what the expectation leaves out', () => {
    expect(checkExpectation({ status: 'FAILED' }, { status: 'FAILED', error: 'Anything', liveVersion: undefined }).met).toBe(true);
  });
});
