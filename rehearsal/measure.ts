/**
 * Turns what the simulators recorded during a rehearsal into what people read: one
 * point per minute of traffic (the candidate's and the baseline's), the moments worth
 * marking on a chart, which version ended up live, and whether the scenario's
 * expectation was met.
 */
import type { Marker, SeriesPoint, VariantMinute } from './model';
import type { Expectation } from './scenario';
import type { EndpointMinute } from './simulator/dataplane';
import { BASELINE_VARIANT } from './world';

/** The timeline fields measure reads (the engine's TimelineEntry). */
interface TimelineLike {
  readonly at: number;
  readonly state: string;
  readonly kind: string;
  readonly detail: string;
  readonly weights?: Record<string, number>;
  readonly output?: unknown;
}

export interface AlarmSummary {
  readonly name: string;
  /** In the target's alarms: the release watched it. */
  readonly watched: boolean;
  /** Defined in the scenario and evaluated from the simulated metrics. */
  readonly evaluated: boolean;
  readonly exists: boolean;
  readonly finalState: string;
}

export interface AlarmTransition {
  /** Virtual seconds since the start. */
  readonly at: number;
  readonly alarm: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** One point per published minute; `at` is the end of the minute. The candidate's share is its weight share at the minute's start. */
export function seriesOf(minutes: readonly EndpointMinute[], timeline: readonly TimelineLike[], candidateVariant: string, startedAt: number): SeriesPoint[] {
  return minutes.map((minute) => {
    const start = (minute.start - startedAt) / 1000;
    const weights = weightsAt(timeline, start);
    const candidate = minute.variants.find((v) => v.variantName === candidateVariant);
    const baseline = minute.variants.find((v) => v.variantName === BASELINE_VARIANT) ?? minute.variants.find((v) => v.variantName !== candidateVariant);
    const share = weights?.[candidateVariant];
    return {
      at: start + 60,
      ...(share !== undefined ? { candidateShare: share } : {}),
      ...(candidate ? { candidate: plain(candidate) } : {}),
      ...(baseline ? { baseline: plain(baseline) } : {}),
    };
  });
}

function plain(v: VariantMinute): VariantMinute {
  return { ...v };
}

/** The weights recorded by the last timeline entry at or before `at` (virtual seconds). */
function weightsAt(timeline: readonly TimelineLike[], at: number): Record<string, number> | undefined {
  let weights: Record<string, number> | undefined;
  for (const entry of timeline) {
    if (entry.at > at) break;
    if (entry.weights) weights = entry.weights;
  }
  return weights;
}

export function markersOf(
  timeline: readonly TimelineLike[],
  transitions: readonly AlarmTransition[],
  faults: ReadonlyArray<{ type: string; firedAt?: number }>,
): Marker[] {
  const markers: Marker[] = [];
  for (const entry of timeline) {
    if (entry.kind === 'task' && entry.state === 'Shift traffic to the next step') {
      const output = entry.output as { stepIndex?: number; weightPercent?: number } | undefined;
      const step = (output?.stepIndex ?? 0) + 1;
      markers.push({ at: entry.at, kind: 'step', label: `step ${step}${output?.weightPercent !== undefined ? `: ${output.weightPercent} %` : ''}` });
    }
  }
  // Faults armed from the start (deployment faults, missing alarms) are not moments; those with a later trigger are.
  for (const fault of faults) if (fault.firedAt !== undefined && fault.firedAt > 0) markers.push({ at: fault.firedAt, kind: 'fault', label: fault.type });
  for (const t of transitions) {
    if (t.to === 'ALARM') markers.push({ at: t.at, kind: 'alarm', label: `${t.alarm} ALARM` });
    else if (t.from === 'ALARM' && t.to === 'OK') markers.push({ at: t.at, kind: 'alarm-ok', label: `${t.alarm} OK` });
  }
  const rollback = timeline.find((e) => e.state === 'Roll back to the baseline');
  if (rollback) markers.push({ at: rollback.at, kind: 'rollback', label: 'rollback started' });
  const promotion = timeline.find((e) => e.state === 'Promote the candidate' && e.kind === 'task');
  if (promotion) markers.push({ at: promotion.at, kind: 'promotion', label: 'promotion started' });
  const end = timeline.find((e) => e.kind === 'end');
  if (end) markers.push({ at: end.at, kind: 'end', label: end.detail.split(':')[0] ?? end.detail });
  return markers.sort((a, b) => a.at - b.at);
}

const SERVING_STATUSES: ReadonlySet<string> = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack']);

/** The version that serves all traffic: every variant with weight serves the same single version. */
export function liveVersionOf(
  serving: { status: string; variants: ReadonlyArray<{ currentWeight: number; versions: readonly number[] }> } | undefined,
): number | null | undefined {
  if (!serving) return null;
  // Only an endpoint that serves requests has a live version (a Failed or Creating one has none).
  if (!SERVING_STATUSES.has(serving.status)) return undefined;
  const versions = new Set(serving.variants.filter((v) => v.currentWeight > 0).flatMap((v) => v.versions));
  return versions.size === 1 ? [...versions][0] : undefined;
}

export function checkExpectation(
  expect: Expectation,
  result: { status: string; error?: string; liveVersion: number | null | undefined },
): { met: boolean; failures: string[] } {
  const failures: string[] = [];
  if (result.status !== expect.status) failures.push(`expected status ${expect.status}, got ${result.status}`);
  if (expect.error !== undefined && result.error !== expect.error) failures.push(`expected error ${expect.error}, got ${result.error ?? 'none'}`);
  if (expect.liveVersion !== undefined && result.liveVersion !== expect.liveVersion) {
    const got =
      result.liveVersion === null ? 'no endpoint' : result.liveVersion === undefined ? 'traffic split across versions' : `version ${result.liveVersion}`;
    failures.push(`expected ${expect.liveVersion === null ? 'no endpoint' : `version ${expect.liveVersion} live`}, got ${got}`);
  }
  return { met: failures.length === 0, failures };
}
