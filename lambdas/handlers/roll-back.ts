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
  const { release, failure, previous } = parseTaskInput(InputSchema, event);
  const attempt = previous.attempt + 1;
  const reason = previous.reason ?? describeFailure(failure);
  const observed = observe(await describeEndpoint(release.endpointName));
  const base = { attempt, reason, observed: observed ?? null };
  const limit = release.endpointWait.maxPolls * ROLLBACK_CHANGES;
  if (attempt > limit) {
    throw new RollbackFailedError(
      `Rollback of ${release.releaseId} on ${release.endpointName} did not complete after ${attempt - 1} attempts. Endpoint: ${describeObserved(observed)}. Release failed because: ${reason}`,
    );
  }
  const next = await nextRollbackAction(release, observed);
  if (next.done) {
    const cleanup = await deleteCandidateResources(release);
    logger.info('Rolled back', { releaseId: release.releaseId, reason, cleanup });
    return { ...base, done: true, action: `${next.action}; ${cleanup}` };
  }
  return { ...base, done: false, action: next.action };
}

async function nextRollbackAction(release: Release, observed: ObservedEndpoint | undefined): Promise<{ done: boolean; action: string }> {
  const { endpointName, baseline, candidate } = release;
  if (!baseline) {
    // The release created the endpoint: rolling back means it must not exist.
    if (!observed) return { done: true, action: `endpoint ${endpointName} does not exist` };
    if (observed.configName !== candidate.deployConfigName) {
      // Someone else created the endpoint after the plan: it is not this release's to delete.
      return { done: true, action: `endpoint ${endpointName} runs config ${observed.configName}, which this release did not create: left alone` };
    }
    if (SETTLING_STATUSES.has(observed.status)) return { done: false, action: `waiting: endpoint is ${observed.status}` };
    await deleteEndpoint(endpointName);
    return { done: false, action: `deleting endpoint ${endpointName} (${observed.status}), which the release created` };
  }
  if (!observed) {
    throw new RollbackFailedError(`Endpoint ${endpointName} no longer exists; the baseline ${baseline.variantName} cannot be restored`);
  }
  if (SETTLING_STATUSES.has(observed.status)) return { done: false, action: `waiting: endpoint is ${observed.status}` };
  if (observed.status !== 'InService') {
    throw new RollbackFailedError(`Endpoint ${endpointName} is ${describeObserved(observed)}; the release manager cannot restore the baseline from this state`);
  }
  const names = observed.variants.map((v) => v.name);
  if (observed.configName === baseline.configName && names.length === 1 && names[0] === baseline.variantName) {
    return { done: true, action: `endpoint runs the baseline config ${baseline.configName} with ${baseline.variantName} alone` };
  }
  const shares = trafficShares(observed.variants);
  if (names.includes(baseline.variantName) && names.includes(candidate.variantName) && (shares[baseline.variantName] ?? 0) < 100) {
    await updateWeights(endpointName, { [baseline.variantName]: baseline.weight > 0 ? baseline.weight : 1, [candidate.variantName]: 0 });
    return { done: false, action: `shifting all traffic back to ${baseline.variantName}` };
  }
  await updateEndpoint(endpointName, baseline.configName);
  return { done: false, action: `removing ${candidate.variantName}: endpoint moves back to ${baseline.configName}` };
}

async function deleteCandidateResources(release: Release): Promise<string> {
  const { candidate } = release;
  const configs = await Promise.all([candidate.deployConfigName, candidate.promotedConfigName].map(async (n) => `${n} ${await deleteEndpointConfig(n)}`));
  const model = await deleteModel(candidate.modelName);
  return `endpoint configs: ${configs.join(', ')}; model ${candidate.modelName} ${model}`;
}

export const handler = lambdaHandler(rollBack);
