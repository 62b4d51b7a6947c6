/** Text helpers shared by `status` and `history`. */
import type { Verdict } from '../../lambdas/contracts';
import type { ReleaseRecord, ReleaseStepRecord } from '../../lambdas/domain/ledger';

/** `12 min ago`, `in 3 h 5 min`, `now`. */
export function relative(at: Date | string, now: Date): string {
  const ms = new Date(at).getTime() - now.getTime();
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 5) return 'now';
  const span = duration(seconds);
  return ms < 0 ? `${span} ago` : `in ${span}`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

export const iso = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString();

export function verdictText(verdict: Verdict | undefined): string {
  if (!verdict) return 'baking';
  return verdict.reason ? `${verdict.status} (${verdict.reason})` : verdict.status;
}

/** `step 2: 50 % healthy (all alarms OK)`; steps are 0-based in the ledger and 1-based on screen. */
export function stepText(step: ReleaseStepRecord): string {
  return `step ${step.index + 1}: ${step.weightPercent} % ${verdictText(step.verdict)}`;
}

/** The step the release is at: the last one recorded, and the last verdict given. */
export function progressOf(record: ReleaseRecord): {
  stepIndex: number | null;
  weightPercent: number | null;
  plannedSteps: number | null;
  lastVerdict: Verdict | null;
} {
  const current = record.steps.at(-1);
  const lastVerdict = [...record.steps].reverse().find((step) => step.verdict)?.verdict ?? null;
  const planSteps = (record.plan as { steps?: unknown } | undefined)?.steps;
  return {
    stepIndex: current ? current.index : null,
    weightPercent: current ? current.weightPercent : null,
    plannedSteps: Array.isArray(planSteps) ? planSteps.length : null,
    lastVerdict,
  };
}

/** Columns padded to the widest cell, two spaces apart. */
export function table(rows: string[][], indent = '    '): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) =>
    (
      indent +
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd()
    ).trimEnd(),
  );
}
