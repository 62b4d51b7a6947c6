/**
 * `smrm status <endpoint>`: the endpoint lock (who holds it, doing what, its lease, an
 * abort request, the approval gate), the release in flight, the endpoint's variants as
 * SageMaker reports them, and the last known good version. Reads only.
 */
import type { Verdict } from '../../lambdas/contracts';
import { type LastKnownGood, type Lock, type ReleaseRecord, type ReleaseStatus, leaseExpired, toEpochSeconds } from '../../lambdas/domain/ledger';
import { type CommandContext, type CommonOptions, resolveSettings, services } from './context';
import {
  type EndpointView,
  endpointArgument,
  executionNameOf,
  executionStatus,
  readHistory,
  readLastKnownGood,
  readLock,
  readReleaseOf,
  requireKnownEndpoint,
} from './endpoint';
import { iso, progressOf, relative, stepText, table, verdictText } from './format';

export interface StatusOptions extends CommonOptions {
  json?: boolean;
}

/** `--json` output of `smrm status`. The approval task token is never shown. */
export interface StatusDocument {
  endpointName: string;
  region: string;
  tableName: string;
  lock: null | {
    holder: string;
    holderExecutionName: string;
    /** DescribeExecution's status of the holder (RUNNING, FAILED, ...); null when it could not be read. */
    holderStatus: string | null;
    holderStatusError?: string;
    action: Lock['action'];
    releaseId: string | null;
    modelPackageArn: string | null;
    since: string;
    leaseExpiresAt: string;
    leaseExpired: boolean;
    abortRequested: null | { reason: string; requestedBy: string; at: string };
    approval: null | { releaseId: string; waitingSince: string; until: string };
  };
  inFlight: null | {
    releaseId: string;
    version: number;
    modelPackageArn: string;
    requestedBy: string;
    executionArn: string;
    startedAt: string;
    status: ReleaseStatus;
    /** 0-based, as in the ledger; null before the first step. */
    stepIndex: number | null;
    weightPercent: number | null;
    plannedSteps: number | null;
    lastVerdict: Verdict | null;
    steps: ReleaseRecord['steps'];
  };
  /** The newest release other than the one in flight. */
  lastRelease: null | { releaseId: string; version: number; status: ReleaseStatus; reason: string | null; startedAt: string; endedAt: string | null };
  endpoint: EndpointView | null;
  lastKnownGood: LastKnownGood | null;
}

export async function status(ctx: CommandContext, endpointArg: string, options: StatusOptions): Promise<number> {
  const endpointName = endpointArgument(endpointArg);
  const settings = resolveSettings(ctx, options, { table: true });
  const s = services(ctx, settings);
  const [lock, lastKnownGood, recent] = await Promise.all([readLock(s, endpointName), readLastKnownGood(s, endpointName), readHistory(s, endpointName, 2)]);
  const inFlight = lock ? await readReleaseOf(s, lock) : undefined;
  // The newest release other than the one in flight.
  const latest = recent.find((record) => record.executionArn !== inFlight?.executionArn);
  const holder = lock ? await executionStatus(s, lock.owner) : undefined;
  const endpoint = await requireKnownEndpoint(s, endpointName, Boolean(lock || lastKnownGood || recent.length > 0));
  const now = ctx.now();

  const document: StatusDocument = {
    endpointName,
    region: settings.region,
    tableName: settings.tableName ?? '',
    lock: lock
      ? {
          holder: lock.owner,
          holderExecutionName: executionNameOf(lock.owner),
          holderStatus: holder?.status ?? null,
          ...(holder?.error ? { holderStatusError: holder.error } : {}),
          action: lock.action,
          releaseId: lock.releaseId ?? null,
          modelPackageArn: lock.modelPackageArn ?? null,
          since: lock.acquiredAt,
          leaseExpiresAt: iso(lock.leaseExpiresAt),
          leaseExpired: leaseExpired(lock, toEpochSeconds(now)),
          abortRequested: lock.abortRequested ?? null,
          approval: lock.approval ? { releaseId: lock.approval.releaseId, waitingSince: lock.approval.requestedAt, until: lock.approval.expiresAt } : null,
        }
      : null,
    inFlight: inFlight
      ? {
          releaseId: inFlight.releaseId,
          version: inFlight.version,
          modelPackageArn: inFlight.modelPackageArn,
          requestedBy: inFlight.requestedBy,
          executionArn: inFlight.executionArn,
          startedAt: inFlight.startedAt,
          status: inFlight.status,
          ...progressOf(inFlight),
          steps: inFlight.steps,
        }
      : null,
    lastRelease: latest
      ? {
          releaseId: latest.releaseId,
          version: latest.version,
          status: latest.status,
          reason: latest.reason ?? null,
          startedAt: latest.startedAt,
          endedAt: latest.endedAt ?? null,
        }
      : null,
    endpoint: endpoint ?? null,
    lastKnownGood: lastKnownGood ?? null,
  };

  if (options.json) {
    ctx.out(JSON.stringify(document, null, 2));
    return 0;
  }
  for (const line of renderStatus(document, now)) ctx.out(line);
  return 0;
}

export function renderStatus(d: StatusDocument, now: Date): string[] {
  const lines = [`Endpoint ${d.endpointName} (${d.region})`];

  if (!d.endpoint) {
    lines.push('  SageMaker: no endpoint of that name');
  } else {
    const e = d.endpoint;
    lines.push(
      `  SageMaker: ${e.status}${e.configName ? `, config ${e.configName}` : ''}${e.lastModified ? `, last modified ${relative(e.lastModified, now)}` : ''}`,
    );
    if (e.failureReason) lines.push(`    failure reason: ${e.failureReason}`);
    if (e.variants.length > 0) {
      lines.push(
        ...table([
          ['variant', 'current weight', 'desired weight', 'instances'],
          ...e.variants.map((v) => [
            v.name,
            v.currentWeight === undefined ? '-' : `${v.currentWeight}${v.trafficPercent === undefined ? '' : ` (${v.trafficPercent} %)`}`,
            v.desiredWeight === undefined ? '-' : String(v.desiredWeight),
            v.currentInstanceCount === undefined && v.desiredInstanceCount === undefined
              ? '-'
              : `${v.currentInstanceCount ?? '-'}${v.desiredInstanceCount !== undefined && v.desiredInstanceCount !== v.currentInstanceCount ? ` -> ${v.desiredInstanceCount}` : ''}`,
          ]),
        ]),
      );
    }
  }

  const lock = d.lock;
  if (!lock) {
    lines.push('  Lock: free (no release in flight)');
  } else {
    const holderState = lock.holderStatus ?? `status unknown: ${lock.holderStatusError ?? 'not read'}`;
    lines.push(`  Lock: held by execution ${lock.holderExecutionName} (${holderState})`);
    lines.push(`    holder:  ${lock.holder}`);
    lines.push(`    action:  ${lock.action}${lock.releaseId ? `, release ${lock.releaseId}` : ''}`);
    lines.push(`    since:   ${lock.since} (${relative(lock.since, now)})`);
    lines.push(`    lease:   expires ${lock.leaseExpiresAt} (${relative(lock.leaseExpiresAt, now)})${lock.leaseExpired ? ', EXPIRED' : ''}`);
    lines.push(
      `    abort:   ${lock.abortRequested ? `requested by ${lock.abortRequested.requestedBy} at ${lock.abortRequested.at}: ${lock.abortRequested.reason}` : 'not requested'}`,
    );
    if (lock.approval) {
      lines.push(
        `    approval gate: release ${lock.approval.releaseId} waiting since ${lock.approval.waitingSince} (${relative(lock.approval.waitingSince, now)}), until ${lock.approval.until} (${relative(lock.approval.until, now)})`,
      );
      lines.push(
        `      approve: smrm approve ${d.endpointName} --release-id ${lock.approval.releaseId}    reject: smrm reject ${d.endpointName} --release-id ${lock.approval.releaseId} --reason "..."`,
      );
    } else {
      lines.push('    approval gate: not waiting');
    }
    const stale = lock.holderStatus !== null && lock.holderStatus !== 'RUNNING';
    if (stale || lock.leaseExpired) {
      lines.push(
        `    The holder ${stale ? `is ${lock.holderStatus}` : 'has not renewed its lease'}: the next release takes the lock over and recovers, or run \`smrm recover ${d.endpointName}\`.`,
      );
    }
  }

  const f = d.inFlight;
  if (f) {
    lines.push(
      `  In flight: version ${f.version} (release ${f.releaseId}), requested by ${f.requestedBy}, started ${f.startedAt} (${relative(f.startedAt, now)})`,
    );
    lines.push(`    model package: ${f.modelPackageArn}`);
    if (f.stepIndex === null) {
      lines.push('    step: none yet (deploying the candidate)');
    } else {
      lines.push(
        `    step: ${f.stepIndex + 1}${f.plannedSteps ? ` of ${f.plannedSteps}` : ''} at ${f.weightPercent} %, last verdict: ${f.lastVerdict ? verdictText(f.lastVerdict) : 'none yet'}`,
      );
      for (const step of f.steps) lines.push(`      ${stepText(step)}`);
    }
  } else if (lock) {
    lines.push(`  In flight: execution ${lock.holderExecutionName} has not recorded a release yet`);
  }

  if (d.lastRelease) {
    const r = d.lastRelease;
    lines.push(
      `  ${f ? 'Previous' : 'Last'} release: version ${r.version} (release ${r.releaseId}) ${r.status}${r.reason ? `: ${r.reason}` : ''}, started ${r.startedAt} (${relative(r.startedAt, now)})`,
    );
  } else if (!f) {
    lines.push('  Releases: none recorded');
  }

  const good = d.lastKnownGood;
  lines.push(
    good
      ? `  Last known good: version ${good.version}, variant ${good.variantName}, config ${good.endpointConfigName}, released ${good.releasedAt} (${relative(good.releasedAt, now)})`
      : '  Last known good: none recorded',
  );
  if (good) lines.push(`    model package: ${good.modelPackageArn}`);
  return lines;
}
