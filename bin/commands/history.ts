/**
 * `smrm history <endpoint> [--limit N]`: the endpoint's releases from the ledger, newest
 * first, with their steps and verdicts, who asked, and the notes other executions left
 * (a recovery, the answer at the approval gate). Reads only.
 */
import type { ReleaseRecord } from '../../lambdas/domain/ledger';
import { type CommandContext, type CommonOptions, resolveSettings, services } from './context';
import { endpointArgument, readHistory, readLastKnownGood, readLock, requireKnownEndpoint } from './endpoint';
import { UsageError } from './errors';
import { stepText } from './format';

export const HISTORY_LIMIT = { default: 20, min: 1, max: 1000 } as const;

export interface HistoryOptions extends CommonOptions {
  limit?: string;
  json?: boolean;
}

export interface HistoryDocument {
  endpointName: string;
  region: string;
  tableName: string;
  limit: number;
  /** Newest first; the records as stored in the ledger. */
  releases: ReleaseRecord[];
}

/** `--limit`: a whole number from 1 to 1000. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined) return HISTORY_LIMIT.default;
  const limit = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(limit) || limit < HISTORY_LIMIT.min || limit > HISTORY_LIMIT.max) {
    throw new UsageError(`Invalid --limit ${JSON.stringify(value)}: expected a whole number from ${HISTORY_LIMIT.min} to ${HISTORY_LIMIT.max}`);
  }
  return limit;
}

export async function history(ctx: CommandContext, endpointArg: string, options: HistoryOptions): Promise<number> {
  const endpointName = endpointArgument(endpointArg);
  const limit = parseLimit(options.limit);
  const settings = resolveSettings(ctx, options, { table: true });
  const s = services(ctx, settings);
  const releases = await readHistory(s, endpointName, limit);
  if (releases.length === 0) {
    const [lock, lastKnownGood] = await Promise.all([readLock(s, endpointName), readLastKnownGood(s, endpointName)]);
    await requireKnownEndpoint(s, endpointName, Boolean(lock || lastKnownGood));
  }
  const document: HistoryDocument = { endpointName, region: settings.region, tableName: settings.tableName ?? '', limit, releases };
  if (options.json) {
    ctx.out(JSON.stringify(document, null, 2));
    return 0;
  }
  for (const line of renderHistory(document)) ctx.out(line);
  return 0;
}

export function renderHistory(d: HistoryDocument): string[] {
  if (d.releases.length === 0) return [`No releases recorded for endpoint ${d.endpointName} in ledger table ${d.tableName}.`];
  const lines = [`Releases of endpoint ${d.endpointName}, newest first (${d.releases.length}${d.releases.length === d.limit ? `, --limit ${d.limit}` : ''}):`];
  for (const r of d.releases) {
    lines.push('');
    lines.push(`${r.startedAt}  version ${r.version}  ${r.status.toUpperCase()}${r.reason ? `: ${r.reason}` : ''}`);
    lines.push(`  release ${r.releaseId}, requested by ${r.requestedBy}${r.endedAt ? `, ended ${r.endedAt}` : ''}`);
    lines.push(`  execution ${r.executionArn}`);
    if (r.steps.length === 0) lines.push('  steps: none');
    for (const step of r.steps) lines.push(`  ${stepText(step)}`);
    if (r.approval) {
      lines.push(`  approval: ${r.approval.decision} by ${r.approval.by} at ${r.approval.at}${r.approval.note ? `: ${r.approval.note}` : ''}`);
    }
    if (r.recovery) {
      lines.push(`  recovery: ${r.recovery.action} by ${r.recovery.by} at ${r.recovery.at} (the release's execution was ${r.recovery.ownerStatus})`);
    }
  }
  return lines;
}
