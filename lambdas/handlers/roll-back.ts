/**
 * Task "Roll back to the baseline": one reconciliation step toward the endpoint as it
 * was before the release. Each call reads the endpoint and does the next thing that is
 * still needed: wait while SageMaker is busy, set absolute weights back to the
 * baseline, move the endpoint back to the baseline config (removing the candidate
 * variant), and finally delete the candidate's configs and model. `done` is true only
 * once the endpoint has been read back as the baseline. Every step is idempotent.
 */
import { RollbackInputSchema, type ObservedEndpoint, type Release } from '../contracts';
import { deleteEndpoint, deleteEndpointConfig, deleteModel, describeEndpoint, observe, updateEndpoint, updateWeights } from '../aws/sagemaker';
import { SETTLING_STATUSES, describeObserved, trafficShares } from '../domain/endpoint';
import { RollbackFailedError } from '../domain/errors';
import { describeFailure } from '../domain/failure';
import { ROLLBACK_CHANGES } from '../domain/policy';
import { lambdaHandler, logger, parseTaskInput } from './common';
import { guardLock } from './ledger-support';
import { z } from 'zod';

export interface RollbackStepOutput {
  attempt: number;
  done: boolean;
  action: string;
  reason: string;
  observed: ObservedEndpoint | null;
}

const InputSchema = RollbackInputSchema.extend({
  previous: z.object({ attempt: z.number().int().min(0), reason: z.string().optional() }).passthrough(),
});

export async function rollBack(event: unknown): Promise<RollbackStepOutput> {
  const { release, failure, previous, execution } = parseTaskInput(InputSchema, event);
  // Only the lock's holder changes the endpoint: one that lost the lock must not undo its successor's work.
  if (execution) await guardLock(release, execution);
  const attempt = previous.attempt + 1;
  const reason = previous.reason ?? describeFailure(failure);
  const observed = observe(await describeEndpoint(release.endpointName));
  const base = { attempt, reason, observed: observed ?? null };
  const step = nextRollbackStep(release, observed);
  if (step.kind === 'done') {
    const cleanup = await deleteCandidateResources(release);
    logger.info('Rolled back', { releaseId: release.releaseId, reason, cleanup });
    return { ...base, done: true, action: `${step.action}; ${cleanup}` };
  }
  // Checked after the read-back, so a baseline restored on the last poll still counts as done.
  const limit = release.endpointWait.maxPolls * ROLLBACK_CHANGES;
  if (attempt > limit) {
    throw new RollbackFailedError(
      `Rollback of ${release.releaseId} on ${release.endpointName} did not complete after ${attempt - 1} attempts. Endpoint: ${describeObserved(observed)}. Release failed because: ${reason}`,
    );
  }
  switch (step.kind) {
    case 'delete-endpoint':
      await deleteEndpoint(release.endpointName);
      break;
    case 'restore-weights':
      await updateWeights(release.endpointName, step.weights);
      break;
    case 'restore-config':
      await updateEndpoint(release.endpointName, step.configName);
      break;
    case 'wait':
      break;
  }
  return { ...base, done: false, action: step.action };
}

export type RollbackStep =
  | { kind: 'done' | 'wait' | 'delete-endpoint'; action: string }
  | { kind: 'restore-weights'; action: string; weights: Record<string, number> }
  | { kind: 'restore-config'; action: string; configName: string };

/** Decides the next rollback step from the endpoint as read; throws RollbackFailed when the baseline cannot be restored. */
export function nextRollbackStep(release: Release, observed: ObservedEndpoint | undefined): RollbackStep {
  const { endpointName, baseline, candidate } = release;
  const ours = [candidate.deployConfigName, candidate.promotedConfigName];
  if (!baseline) {
    // The release created the endpoint: rolling back means it must not exist.
    if (!observed) return { kind: 'done', action: `endpoint ${endpointName} does not exist` };
    if (observed.configName !== candidate.deployConfigName) {
      // Someone else created the endpoint after the plan: it is not this release's to delete.
      return { kind: 'done', action: `endpoint ${endpointName} runs config ${observed.configName}, which this release did not create: left alone` };
    }
    if (SETTLING_STATUSES.has(observed.status)) return { kind: 'wait', action: `waiting: endpoint is ${observed.status}` };
    return { kind: 'delete-endpoint', action: `deleting endpoint ${endpointName} (${observed.status}), which the release created` };
  }
  if (!observed) {
    throw new RollbackFailedError(`Endpoint ${endpointName} no longer exists; the baseline ${baseline.variantName} cannot be restored`);
  }
  if (SETTLING_STATUSES.has(observed.status)) return { kind: 'wait', action: `waiting: endpoint is ${observed.status}` };
  if (observed.status !== 'InService') {
    throw new RollbackFailedError(`Endpoint ${endpointName} is ${describeObserved(observed)}; the release manager cannot restore the baseline from this state`);
  }
  const names = observed.variants.map((v) => v.name);
  if (observed.configName === baseline.configName && names.length === 1 && names[0] === baseline.variantName) {
    return { kind: 'done', action: `endpoint runs the baseline config ${baseline.configName} with ${baseline.variantName} alone` };
  }
  if (observed.configName === undefined || ![baseline.configName, ...ours].includes(observed.configName)) {
    // Neither the baseline nor this release: someone else changed the endpoint, and restoring would undo their change.
    throw new RollbackFailedError(
      `Endpoint ${endpointName} runs config ${observed.configName}, which is neither the baseline ${baseline.configName} nor this release's; it was changed by someone else and is left as it is (${describeObserved(observed)})`,
    );
  }
  const shares = trafficShares(observed.variants);
  if (names.includes(baseline.variantName) && names.includes(candidate.variantName) && (shares[baseline.variantName] ?? 0) < 100) {
    return {
      kind: 'restore-weights',
      action: `shifting all traffic back to ${baseline.variantName}`,
      weights: { [baseline.variantName]: baseline.weight > 0 ? baseline.weight : 1, [candidate.variantName]: 0 },
    };
  }
  return {
    kind: 'restore-config',
    action: `removing ${candidate.variantName}: endpoint moves back to ${baseline.configName}`,
    configName: baseline.configName,
  };
}

async function deleteCandidateResources(release: Release): Promise<string> {
  const { candidate } = release;
  const configs = await Promise.all([candidate.deployConfigName, candidate.promotedConfigName].map(async (n) => `${n} ${await deleteEndpointConfig(n)}`));
  const model = await deleteModel(candidate.modelName);
  return `endpoint configs: ${configs.join(', ')}; model ${candidate.modelName} ${model}`;
}

export const handler = lambdaHandler(rollBack);
