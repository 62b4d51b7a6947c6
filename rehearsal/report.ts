/**
 * Renders a rehearsal for people: a compact timeline (polls and bake checks that
 * changed nothing are folded into the next line), the traffic split after each
 * state, and the outcome.
 */
import type { RehearsalResult, TimelineEntry } from './engine';

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
    const marker = entry.kind === 'error' ? '!' : entry.kind === 'retry' ? '~' : entry.kind === 'end' ? '=' : ' ';
    lines.push(`${marker} ${formatDuration(entry.at)}  ${entry.state.padEnd(48)} ${formatWeights(entry.weights).padEnd(34)} ${entry.detail}${waited}`);
  }
  return lines;
}

export function formatResult(result: RehearsalResult): string {
  const head = `${result.status === 'SUCCEEDED' ? 'SUCCEEDED' : `FAILED with ${result.error}`}`;
  const lines = [
    `Outcome: ${head}${result.cause ? `\n  cause: ${result.cause}` : ''}`,
    `  virtual time ${formatDuration(result.virtualSeconds)}, wall time ${result.wallMilliseconds.toFixed(0)} ms, ` +
      `${result.lambdaInvocations} Lambda invocations, ${result.sagemakerCalls} SageMaker calls (${result.mutatingCalls.length} changes)`,
    `  endpoint after: ${result.endpoint ? `${result.endpoint.status}, config ${result.endpoint.configName}, traffic ${formatWeights(sharesOf(result.endpoint.variants))}` : 'does not exist'}`,
  ];
  return lines.join('\n');
}

/** Each variant's share of traffic in percent, one decimal, from the simulator's CurrentWeights. */
export function sharesOf(variants: ReadonlyArray<{ variantName: string; currentWeight: number }>): Record<string, number> {
  const total = variants.reduce((sum, v) => sum + v.currentWeight, 0);
  return Object.fromEntries(variants.map((v) => [v.variantName, total > 0 ? Math.round((v.currentWeight / total) * 1000) / 10 : 0]));
}
