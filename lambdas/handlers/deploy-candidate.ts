/**
 * Task "Deploy the candidate variant at weight 0": points the endpoint at the release's
 * config (baseline unchanged, candidate at weight 0), or creates the endpoint with the
 * candidate alone when it did not exist. Never sent to an endpoint that is not
 * InService; a retry after success is a no-op.
 */
import { ReleaseTaskInputSchema, type ExpectationOutput } from '../contracts';
import { createEndpoint, describeEndpoint, runsOrDeploys, updateEndpoint } from '../aws/sagemaker';
import { EndpointChangedError, EndpointNotInServiceError } from '../domain/errors';
import { lambdaHandler, logger, parseTaskInput, releaseTags } from './common';
import { guardLock } from './ledger-support';

export async function deployCandidate(event: unknown): Promise<ExpectationOutput> {
  const { release, execution } = parseTaskInput(ReleaseTaskInputSchema, event);
  // Only the lock's holder changes the endpoint (LockNotHeld stops the workflow without touching it).
  if (execution) await guardLock(release, execution);
  const { candidate, baseline, endpointName } = release;
  const expect = {
    id: 'deploy',
    endpointName,
    absent: false,
    configName: candidate.deployConfigName,
    weights: baseline ? { [baseline.variantName]: 100, [candidate.variantName]: 0 } : { [candidate.variantName]: 100 },
  };
  const endpoint = await describeEndpoint(endpointName);
  const running = endpoint?.EndpointConfigName;
  if (runsOrDeploys(endpoint, candidate.deployConfigName)) {
    return { expect, action: `endpoint ${endpointName} already runs or deploys ${candidate.deployConfigName}` };
  }

  if (!baseline) {
    if (endpoint) {
      throw new EndpointChangedError(`Endpoint ${endpointName} was created by someone else (config ${running}) after the release was planned`);
    }
    await createEndpoint(endpointName, candidate.deployConfigName, releaseTags(release));
    logger.info('Creating endpoint with the candidate', { endpointName, config: candidate.deployConfigName });
    return { expect, action: `creating endpoint ${endpointName} with ${candidate.variantName}` };
  }

  if (!endpoint) throw new EndpointChangedError(`Endpoint ${endpointName} was deleted after the release was planned`);
  if (endpoint.EndpointStatus !== 'InService') {
    throw new EndpointNotInServiceError(`Endpoint ${endpointName} is ${endpoint.EndpointStatus}; the candidate is deployed once it is InService`);
  }
  if (running !== baseline.configName) {
    throw new EndpointChangedError(
      `Endpoint ${endpointName} runs config ${running}, not the baseline ${baseline.configName} it ran when the release was planned`,
    );
  }
  await updateEndpoint(endpointName, candidate.deployConfigName);
  logger.info('Deploying the candidate at weight 0', { endpointName, config: candidate.deployConfigName });
  return { expect, action: `deploying ${candidate.variantName} at weight 0 next to ${baseline.variantName}` };
}

export const handler = lambdaHandler(deployCandidate);
