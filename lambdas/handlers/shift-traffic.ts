/**
 * Task "Shift traffic to the next step": sets absolute weights (candidate = the step's
 * percentage, baseline = the rest) with UpdateEndpointWeightsAndCapacities. Never sent
 * to an endpoint that is not InService; skipped when the weights are already set.
 * In the workflow it first checks the endpoint lock (still held, no operator rollback)
 * and records the step's start in the ledger.
 */
import { ShiftInputSchema, type ShiftOutput } from '../contracts';
import { describeEndpoint, observe, updateWeights } from '../aws/sagemaker';
import { sharesMatch } from '../domain/endpoint';
import { EndpointChangedError, EndpointNotInServiceError, InvalidTaskInputError } from '../domain/errors';
import { ledger } from '../aws/ledger';
import { ReleaseAbortedError } from '../domain/errors';
import { lambdaHandler, logger, parseTaskInput } from './common';
import { abortReason, guardLock, recordRef } from './ledger-support';

export async function shiftTraffic(event: unknown): Promise<ShiftOutput> {
  const { release, progress, execution } = parseTaskInput(ShiftInputSchema, event);
  const stepIndex = progress.stepIndex + 1;
  const step = release.steps[stepIndex];
  if (!step) throw new InvalidTaskInputError(`progress.stepIndex ${progress.stepIndex} has no next step (release has ${release.steps.length})`);
  const startedAt = new Date().toISOString();
  if (execution) {
    const lock = await guardLock(release, execution);
    const abort = abortReason(lock);
    if (abort) throw new ReleaseAbortedError(`${abort}; no more traffic is shifted`);
    await ledger().recordStep({ ...recordRef(execution, release.endpointName), step: { index: stepIndex, weightPercent: step.weightPercent, startedAt } });
  }
  const { candidate, baseline, endpointName } = release;
  const weights = baseline
    ? { [baseline.variantName]: 100 - step.weightPercent, [candidate.variantName]: step.weightPercent }
    : { [candidate.variantName]: 100 };
  const result: ShiftOutput = {
    stepIndex,
    weightPercent: step.weightPercent,
    checks: step.checks,
    checkIntervalSeconds: step.checkIntervalSeconds,
    isLastStep: stepIndex === release.steps.length - 1,
    startedAt,
    expect: { id: `step-${stepIndex + 1}`, endpointName, absent: false, configName: candidate.deployConfigName, weights },
    action: '',
  };
  if (!baseline) return { ...result, action: `endpoint ${endpointName} was created with ${candidate.variantName} alone: it already serves 100 %` };

  const endpoint = observe(await describeEndpoint(endpointName));
  if (!endpoint) throw new EndpointChangedError(`Endpoint ${endpointName} was deleted during the release`);
  if (sharesMatch(endpoint.variants, weights) || (endpoint.status === 'Updating' && sharesMatch(endpoint.variants, weights, 'desiredWeight'))) {
    return { ...result, action: `traffic already at ${step.weightPercent} % for ${candidate.variantName}` };
  }
  if (endpoint.status !== 'InService') {
    throw new EndpointNotInServiceError(`Endpoint ${endpointName} is ${endpoint.status}; traffic is shifted once it is InService`);
  }
  await updateWeights(endpointName, weights);
  logger.info('Shifted traffic', { endpointName, weights, step: stepIndex + 1 });
  return { ...result, action: `shifting ${step.weightPercent} % of traffic to ${candidate.variantName}` };
}

export const handler = lambdaHandler(shiftTraffic);
