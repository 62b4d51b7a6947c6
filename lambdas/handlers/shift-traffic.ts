/**
 * Task "Shift traffic to the next step": sets absolute weights (candidate = the step's
 * percentage, baseline = the rest) with UpdateEndpointWeightsAndCapacities. Never sent
 * to an endpoint that is not InService; skipped when the weights are already set.
 */
import { ShiftInputSchema, type ShiftOutput } from '../contracts';
import { describeEndpoint, observe, updateWeights } from '../aws/sagemaker';
import { sharesMatch } from '../domain/endpoint';
import { EndpointChangedError, EndpointNotInServiceError, InvalidTaskInputError } from '../domain/errors';
import { lambdaHandler, logger, parseTaskInput } from './common';

export async function shiftTraffic(event: unknown): Promise<ShiftOutput> {
  const { release, progress } = parseTaskInput(ShiftInputSchema, event);
  const stepIndex = progress.stepIndex + 1;
  const step = release.steps[stepIndex];
  if (!step) throw new InvalidTaskInputError(`progress.stepIndex ${progress.stepIndex} has no next step (release has ${release.steps.length})`);
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
