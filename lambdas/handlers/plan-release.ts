/**
 * Task "Plan the release", run while the execution holds the endpoint lock: validates
 * the request, checks that the model package is Approved and bound to a target, reads
 * the endpoint, and decides: release; nothing to do (the version is already live, or a
 * rollback has no earlier version to go back to); superseded (a newer version of the
 * group was approved meanwhile: registry approvals only); or wait for a busy endpoint
 * and plan again. A `rollback` request plans the last known good version, all at once.
 * A release starts its ledger record here; a decision not to release is recorded too.
 * Read-only in SageMaker: a rejected request changes nothing in AWS.
 */
import { LEASE_SECONDS_DEFAULT, PlanInputSchema, type ExecutionContext, type PlanOutput, type Release } from '../contracts';
import { publishLifecycleEvents } from '../aws/events';
import { ledger } from '../aws/ledger';
import { describeEndpoint, describeEndpointConfig, describeModel, describeModelPackage, modelPackageOf, newestApprovedPackage } from '../aws/sagemaker';
import type { ReleaseManagerConfig, TargetConfig } from '../domain/config';
import { targetName } from '../domain/config';
import { SETTLING_STATUSES } from '../domain/endpoint';
import {
  EndpointNotReadyError,
  InvalidReleaseInputError,
  ModelPackageNotApprovedError,
  ModelPackageNotFoundError,
  ReleaseAbortedError,
  UnsupportedEndpointStateError,
} from '../domain/errors';
import { LIFECYCLE_DETAIL_TYPES } from '../domain/events';
import type { ReleaseRecord } from '../domain/ledger';
import { releaseNames } from '../domain/names';
import { maxEndpointPolls, planSteps } from '../domain/policy';
import { groupOfPackageArn, parseExecutionRequest, targetOfRequest, type ReleaseRequestSummary } from '../domain/request';
import { configuredHandler, logger, parseTaskInput } from './common';
import { abortReason, recordRef, releaseEvent } from './ledger-support';

/** What a rollback re-releases, and why. */
interface RollbackChoice {
  readonly modelPackageArn?: string;
  readonly reason: string;
}

export function configured(config: ReleaseManagerConfig): (event: unknown) => Promise<PlanOutput> {
  return async function planRelease(event) {
    const { input, attempts, execution } = parseTaskInput(PlanInputSchema, event);
    const parsed = parseExecutionRequest(input);
    if (parsed.kind !== 'release' && parsed.kind !== 'rollback') {
      throw new InvalidReleaseInputError(`Action ${parsed.kind} does not plan a release`);
    }
    const target = targetOfRequest(config, parsed);
    const pollSeconds = target.endpointWait.pollSeconds;
    // The plan runs under the endpoint lock; renewing it also proves this execution still holds it.
    const lock = await ledger().updateLock({ endpointName: target.endpointName, owner: execution.arn, leaseSeconds: LEASE_SECONDS_DEFAULT, now: new Date() });
    // An operator's rollback that arrived while this execution waited for the endpoint: stop before anything is created.
    const abort = abortReason(lock);
    if (abort) throw new ReleaseAbortedError(`${abort}; the release had not started, nothing was changed`);

    let request: ReleaseRequestSummary;
    if (parsed.kind === 'rollback') {
      const choice = (await rolledBackByRecovery(target, execution)) ?? (await rollbackChoice(target));
      if (!choice.modelPackageArn) return { decision: 'nothing-to-do', reason: choice.reason, attempts, pollSeconds, release: null };
      request = { kind: 'release', origin: 'manual', modelPackageArn: choice.modelPackageArn, requestedBy: parsed.requestedBy };
      logger.info('Rollback re-releases the last known good version', { ...choice });
    } else {
      request = parsed as ReleaseRequestSummary;
    }
    const requestedGroup = request.modelPackageGroupName ?? groupOfPackageArn(request.modelPackageArn);
    const pkg = await describeModelPackage(request.modelPackageArn);
    if (!pkg) throw new ModelPackageNotFoundError(`Model package ${request.modelPackageArn} does not exist; nothing was changed`);
    const group = pkg.ModelPackageGroupName ?? '';
    if (group !== target.modelPackageGroupName) {
      throw new InvalidReleaseInputError(
        `Model package ${request.modelPackageArn} belongs to group ${group}, not ${requestedGroup} as the input says; nothing was changed`,
      );
    }
    if (pkg.ModelApprovalStatus !== 'Approved') {
      throw new ModelPackageNotApprovedError(
        `Model package ${request.modelPackageArn} is ${pkg.ModelApprovalStatus ?? 'without an approval status'}, not Approved; nothing was changed`,
      );
    }
    const version = pkg.ModelPackageVersion ?? Number(request.modelPackageArn.split('/').pop());
    const names = releaseNames(target.endpointName, request.modelPackageArn, version);
    const maxPolls = maxEndpointPolls(target);
    const isRollback = parsed.kind === 'rollback';

    const release: Release = {
      releaseId: names.releaseId,
      targetName: targetName(target),
      endpointName: target.endpointName,
      modelPackageGroupName: group,
      modelPackageArn: request.modelPackageArn,
      modelVersion: version,
      mode: 'create-endpoint',
      candidate: {
        modelName: names.modelName,
        variantName: names.candidateVariantName,
        deployConfigName: names.deployConfigName,
        promotedConfigName: names.promotedConfigName,
        instanceType: target.candidate.instanceType,
        instanceCount: target.candidate.instanceCount,
        executionRoleArn: target.modelExecutionRoleArn,
      },
      baseline: null,
      // A rollback goes back to a version that was live before: all at once, one alarm check, no gate.
      steps: planSteps(isRollback ? { ...target, strategy: { type: 'all-at-once', bakeSeconds: 0 } } : target),
      alarms: target.alarms,
      onInsufficientData: target.onInsufficientData,
      endpointWait: { pollSeconds, maxPolls },
      approval: !isRollback && target.approval ? { timeoutSeconds: target.approval.timeoutSeconds } : null,
      kind: isRollback ? 'rollback' : 'release',
      requestedBy: request.requestedBy,
      leaseSeconds: LEASE_SECONDS_DEFAULT,
    };
    const decide = async (decision: PlanOutput['decision'], reason: string, planned: Release): Promise<PlanOutput> => {
      await recordDecision(decision, reason, planned, target, execution);
      return { decision, reason, attempts, pollSeconds, release: decision === 'release' ? planned : null };
    };

    // Registry approvals in a burst: the newest one wins, the others end here without touching the endpoint.
    if (request.origin === 'event') {
      const newest = await newestApprovedPackage(group);
      if (newest && newest.version > version) {
        return decide('superseded', `version ${newest.version} of group ${group} was approved after version ${version}; it is released instead`, release);
      }
    }

    const endpoint = await describeEndpoint(target.endpointName);
    if (!endpoint) {
      logger.info('Endpoint does not exist; the release creates it', { endpointName: target.endpointName });
      return decide('release', `endpoint ${target.endpointName} does not exist: the release creates it with version ${version}`, release);
    }

    const status = endpoint.EndpointStatus ?? 'Unknown';
    if (SETTLING_STATUSES.has(status)) {
      if (attempts + 1 > maxPolls) {
        throw new EndpointNotReadyError(
          `Endpoint ${target.endpointName} stayed ${status} for ${attempts} polls (${attempts * pollSeconds} s, the target's endpointWait.timeoutSeconds); nothing was changed`,
        );
      }
      return { decision: 'wait-for-endpoint', reason: `endpoint ${target.endpointName} is ${status}`, attempts: attempts + 1, pollSeconds, release: null };
    }
    if (status !== 'InService') {
      throw new UnsupportedEndpointStateError(
        `Endpoint ${target.endpointName} is ${status}${endpoint.FailureReason ? ` (${endpoint.FailureReason})` : ''}; releases only update an InService endpoint. Nothing was changed`,
      );
    }

    const variants = endpoint.ProductionVariants ?? [];
    if (variants.length !== 1) {
      throw new UnsupportedEndpointStateError(
        `Endpoint ${target.endpointName} has ${variants.length} production variants (${variants.map((v) => v.VariantName).join(', ')}); a release adds its candidate next to exactly one live variant. ` +
          'If an earlier release was interrupted, restore the endpoint to one variant first (docs/runbook.md). Nothing was changed',
      );
    }
    const live = variants[0]!;
    const configName = endpoint.EndpointConfigName ?? '';
    const liveConfig = await describeEndpointConfig(configName);
    const liveModelName = liveConfig?.ProductionVariants?.find((v) => v.VariantName === live.VariantName)?.ModelName;
    if (!liveConfig || !liveModelName) {
      throw new UnsupportedEndpointStateError(
        `Endpoint ${target.endpointName} runs config ${configName}, which cannot be read or has no variant ${live.VariantName}; nothing was changed`,
      );
    }
    const unsupported = [
      liveConfig.AsyncInferenceConfig ? 'asynchronous inference' : undefined,
      liveConfig.ShadowProductionVariants?.length ? 'shadow variants' : undefined,
    ].filter(Boolean);
    if (unsupported.length > 0) {
      throw new UnsupportedEndpointStateError(
        `Endpoint ${target.endpointName} runs config ${configName} with ${unsupported.join(' and ')}, which releases do not carry over; nothing was changed`,
      );
    }
    if (modelPackageOf(await describeModel(liveModelName)) === request.modelPackageArn) {
      return decide('nothing-to-do', `version ${version} is already live on endpoint ${target.endpointName}`, release);
    }

    return decide(
      'release',
      `${isRollback ? 'roll back: re-release' : 'release'} version ${version} to endpoint ${target.endpointName} next to variant ${live.VariantName}`,
      {
        ...release,
        mode: 'update-endpoint',
        baseline: { configName, variantName: live.VariantName ?? '', modelName: liveModelName, weight: live.CurrentWeight ?? 1 },
      },
    );
  };
}

/**
 * A rollback that found the release in flight interrupted has already done what it was asked
 * for: its take-lock task took the stale lock over and restored that release's baseline (or
 * found it untouched). Rolling back further would also undo the version before it.
 */
async function rolledBackByRecovery(target: TargetConfig, execution: ExecutionContext): Promise<RollbackChoice | undefined> {
  const recovered = (await ledger().history(target.endpointName, { limit: 10 })).find(
    (r) => r.recovery?.by === execution.arn && r.recovery.action !== 'completed-promotion',
  );
  if (!recovered) return undefined;
  return {
    reason: `the release in flight, ${recovered.releaseId} (${recovered.executionName}), was interrupted and this rollback restored its baseline (${recovered.recovery!.action}); nothing more to roll back`,
  };
}

/**
 * A rollback with no release in flight goes back to the last known good version when
 * something else is live (a release by hand, a recovery), else to the newest earlier
 * version that the ledger records as released successfully.
 */
async function rollbackChoice(target: TargetConfig): Promise<RollbackChoice> {
  const endpointName = target.endpointName;
  const endpoint = await describeEndpoint(endpointName);
  const variants = endpoint?.ProductionVariants ?? [];
  let live: string | undefined;
  if (endpoint && variants.length === 1) {
    const config = await describeEndpointConfig(endpoint.EndpointConfigName ?? '');
    const modelName = config?.ProductionVariants?.find((v) => v.VariantName === variants[0]!.VariantName)?.ModelName;
    live = modelName ? modelPackageOf(await describeModel(modelName)) : undefined;
  }
  const lastKnownGood = await ledger().lastKnownGood(endpointName);
  if (lastKnownGood && lastKnownGood.modelPackageArn !== live) {
    return { modelPackageArn: lastKnownGood.modelPackageArn, reason: `version ${lastKnownGood.version} is the last known good version of ${endpointName}` };
  }
  const earlier = [...liveVersions(await ledger().history(endpointName, { limit: 200 }))].reverse().find((r) => r.modelPackageArn !== live);
  if (earlier)
    return {
      modelPackageArn: earlier.modelPackageArn,
      reason: `version ${earlier.version} is the newest earlier version released successfully to ${endpointName}`,
    };
  return {
    reason: `the ledger records no version of ${endpointName} released successfully before the live one${live ? ` (${live})` : ''}; nothing to roll back to, nothing was changed`,
  };
}

/**
 * The versions that went live, oldest first, as a stack: a successful release pushes its
 * version, a successful rollback goes back down to the version it re-released. So a second
 * rollback goes further back instead of returning to the version the first one left.
 */
export function liveVersions(historyNewestFirst: readonly ReleaseRecord[]): ReleaseRecord[] {
  const stack: ReleaseRecord[] = [];
  for (const record of [...historyNewestFirst].reverse()) {
    if (record.status !== 'succeeded') continue;
    if ((record.plan?.kind ?? record.policy.kind) === 'rollback') {
      let at = stack.length - 1;
      while (at >= 0 && stack[at]!.modelPackageArn !== record.modelPackageArn) at--;
      if (at >= 0) stack.length = at;
    }
    stack.push(record);
  }
  return stack;
}

/** The ledger's record of the decision: a running release, or one that ends here (nothing to do, superseded). */
async function recordDecision(
  decision: PlanOutput['decision'],
  reason: string,
  release: Release,
  target: TargetConfig,
  execution: ExecutionContext,
): Promise<void> {
  if (decision === 'wait-for-endpoint') return;
  const ref = recordRef(execution, release.endpointName);
  const record: ReleaseRecord = {
    ...ref,
    executionArn: execution.arn,
    releaseId: release.releaseId,
    modelPackageArn: release.modelPackageArn,
    version: release.modelVersion,
    requestedBy: release.requestedBy,
    policy: {
      kind: release.kind,
      strategy: release.kind === 'rollback' ? { type: 'all-at-once', bakeSeconds: 0 } : target.strategy,
      approval: release.approval,
      alarms: release.alarms,
    },
    status: 'running',
    steps: [],
    plan: release as unknown as Record<string, unknown>,
  };
  if (decision !== 'release') {
    await ledger().startRelease(record);
    await ledger().finishRelease({ ...ref, status: decision, reason, endedAt: new Date().toISOString() });
    return;
  }
  // "Release Started" goes out before the record is written: a retry after a failed publish finds no
  // record and publishes again (at least once), a retry after the record was written does not repeat it.
  if (!(await ledger().release(ref))) {
    await publishLifecycleEvents([
      releaseEvent(LIFECYCLE_DETAIL_TYPES.started, release, execution, { reason, step: { index: -1, weightPercent: 0, stepsTotal: release.steps.length } }),
    ]);
  }
  await ledger().startRelease(record);
  await ledger().updateLock({
    endpointName: release.endpointName,
    owner: execution.arn,
    now: new Date(),
    releaseId: release.releaseId,
    modelPackageArn: release.modelPackageArn,
  });
}

export const handler = configuredHandler(configured);
