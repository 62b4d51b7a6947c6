/**
 * Renders a rehearsal for people: a compact timeline (polls and bake checks that
 * changed nothing are folded into the next line), the traffic split after each
 * state, and a summary: outcome, time, what it used and cost, the alarms and faults.
 */
import type { RehearsalResult, TimelineEntry } from './engine';
import { formatUsd } from './cost';
import type { ReportInput } from './model';

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function formatWeights(weights: Record<string, number> | undefined): string {
  if (!weights) return 'no endpoint';
  return Object.entries(weights)
    .map(([name, share]) => `${name} ${share}%`)
    .join(' | ');
}

/** Entries that only say "still waiting" or "still healthy": folded into the next line. */
function isQuiet(entry: TimelineEntry): boolean {
  if (entry.kind === 'wait') return true;
  const output = entry.output as { outcome?: string; verdict?: { status: string }; bakeComplete?: boolean; done?: boolean; action?: string } | undefined;
  if (output?.outcome === 'in-progress') return true;
  if (output?.verdict && output.verdict.status !== 'unhealthy' && output.bakeComplete === false) return true;
  if (output?.done === false && output.action?.startsWith('waiting')) return true;
  return false;
}

export function formatTimeline(timeline: readonly TimelineEntry[]): string[] {
  const lines: string[] = [];
  let polls = 0;
  let foldedSince: number | undefined;
  for (const entry of timeline) {
    if (isQuiet(entry)) {
      if (entry.kind !== 'wait') polls++;
      // A wait is recorded when it ends; the folded span starts when it began.
      foldedSince ??= entry.at - (entry.kind === 'wait' ? ((entry.output as { seconds?: number } | undefined)?.seconds ?? 0) : 0);
      continue;
    }
    const span = foldedSince === undefined ? 0 : entry.at - foldedSince;
    const waited =
      polls > 0
        ? ` [after ${formatDuration(span)}: ${polls} uneventful poll${polls === 1 ? '' : 's'}]`
        : span > 0
          ? ` [after waiting ${formatDuration(span)}]`
          : '';
    polls = 0;
    foldedSince = undefined;
    const marker = entry.kind === 'error' ? '!' : entry.kind === 'retry' ? '~' : entry.kind === 'end' ? '=' : entry.kind === 'fault' ? '*' : ' ';
    lines.push(`${marker} ${formatDuration(entry.at)}  ${entry.state.padEnd(48)} ${formatWeights(entry.weights).padEnd(34)} ${entry.detail}${waited}`);
  }
  return lines;
}

/** The summary printed after the timeline. */
export function formatResult(result: RehearsalResult): string {
  const head = result.status === 'SUCCEEDED' ? 'SUCCEEDED' : `FAILED with ${result.error}`;
  const u = result.usage;
  const lines = [
    `Outcome: ${head}${result.cause ? `\n  reason: ${readableCause(result.cause)}` : ''}`,
    `  virtual time ${formatDuration(result.virtualSeconds)} in ${result.wallMilliseconds.toFixed(0)} ms of wall time`,
    `  ${u.stateTransitions} state transitions, ${u.lambdaInvocations} Lambda invocations, ${u.sagemakerCalls} SageMaker calls (${plural(result.mutatingCalls.filter((c) => !c.error).length, 'change')}), ${u.cloudwatchCalls} CloudWatch calls`,
    `  estimated cost per release: ${formatUsd(result.cost.totalUsd)} (${result.cost.lines.map((l) => `${l.item} ${formatUsd(l.usd)}`).join(', ')})`,
    `  endpoint after: ${result.endpoint ? `${result.endpoint.status}, config ${result.endpoint.configName}, traffic ${formatWeights(sharesOf(result.endpoint.variants))}` : 'does not exist'}` +
      (result.liveVersion ? `; version ${result.liveVersion} live` : ''),
  ];
  for (const alarm of result.alarms) {
    const how = !alarm.exists
      ? 'missing'
      : alarm.evaluated
        ? `evaluated from metrics, ended ${alarm.finalState}`
        : `not defined in the scenario: stays ${alarm.finalState} unless a fault forces it`;
    lines.push(`  alarm ${alarm.name}${alarm.watched ? '' : ' (not watched by the release)'}: ${how}`);
  }
  for (const fault of result.faults) {
    lines.push(
      `  fault ${fault.type} (${fault.trigger}): ${fault.firedAt === undefined ? 'never fired: the release ended first' : `fired at ${formatDuration(fault.firedAt)}`}`,
    );
  }
  if (result.expectation) {
    lines.push(result.expectation.met ? '  expectation met' : `  EXPECTATION NOT MET: ${result.expectation.failures.join('; ')}`);
  }
  return lines.join('\n');
}

/**
 * An execution's cause as people read it. A Fail state that passes a Lambda error on
 * carries Lambda's JSON (`{"errorType","errorMessage","trace"}`); show its message.
 */
export function readableCause(cause: string): string {
  if (!cause.startsWith('{')) return cause;
  try {
    const parsed = JSON.parse(cause) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return `${typeof parsed.errorType === 'string' ? `${parsed.errorType}: ` : ''}${parsed.errorMessage}`;
  } catch {
    // Not JSON after all: shown as it is.
  }
  return cause;
}

/** What the HTML report and the terminal chart need from a result. */
export function reportInputOf(result: RehearsalResult): ReportInput {
  return {
    scenarioName: result.scenario.name,
    ...(result.scenario.description ? { description: result.scenario.description } : {}),
    target: result.target,
    status: result.status,
    ...(result.error ? { error: result.error } : {}),
    ...(result.cause ? { cause: readableCause(result.cause) } : {}),
    virtualSeconds: result.virtualSeconds,
    wallMilliseconds: result.wallMilliseconds,
    usage: result.usage,
    cost: result.cost,
    series: result.series,
    markers: result.markers,
    timeline: foldedEntries(result.timeline).map(({ at, state, kind, detail, weights }) => ({ at, state, kind, detail, ...(weights ? { weights } : {}) })),
  };
}

/** The entries formatTimeline prints (quiet ones dropped). */
export function foldedEntries(timeline: readonly TimelineEntry[]): TimelineEntry[] {
  return timeline.filter((entry) => !isQuiet(entry));
}

/** Each variant's share of traffic in percent, one decimal, from the simulator's CurrentWeights. */
export function sharesOf(variants: ReadonlyArray<{ variantName: string; currentWeight: number }>): Record<string, number> {
  const total = variants.reduce((sum, v) => sum + v.currentWeight, 0);
  return Object.fromEntries(variants.map((v) => [v.variantName, total > 0 ? Math.round((v.currentWeight / total) * 1000) / 10 : 0]));
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
