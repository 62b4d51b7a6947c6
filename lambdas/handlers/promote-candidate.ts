/**
 * Task "Promote the candidate": once the candidate has baked at 100 %, the endpoint
 * moves to a config with the candidate variant alone, so the baseline's instances are
 * released. A retry after success is a no-op.
 */
import { ReleaseTaskInputSchema, type ExpectationOutput } from '../contracts';
import { carriedConfigSettings, describeEndpoint, describeEndpointConfig, ensureEndpointConfig, runsOrDeploys, updateEndpoint } from '../aws/sagemaker';
import { EndpointChangedError, EndpointNotInServiceError } from '../domain/errors';
import { candidateVariant } from './create-candidate';
import { lambdaHandler, logger, parseTaskInput, releaseTags } from './common';
import { guardLock } from './ledger-support';

export async function promoteCandidate(event: unknown): Promise<ExpectationOutput> {
  const { release, execution } = parseTaskInput(ReleaseTaskInputSchema, event);
  // Only the lock's holder changes the endpoint (LockNotHeld stops the workflow without touching it).
  if (execution) await guardLock(release, execution);
  const { candidate, endpointName } = release;
  const weights = { [candidate.variantName]: 100 };
  if (!release.baseline) {
    // The endpoint was created with the candidate alone: nothing to retire.
    return { expect: { id: 'promote', endpointName, absent: false, configName: candidate.deployConfigName, weights }, action: 'nothing to retire' };
  }
  const expect = { id: 'promote', endpointName, absent: false, configName: candidate.promotedConfigName, weights };
  const endpoint = await describeEndpoint(endpointName);
  if (!endpoint) throw new EndpointChangedError(`Endpoint ${endpointName} was deleted during the release`);
  if (runsOrDeploys(endpoint, candidate.promotedConfigName)) {
    return { expect, action: `endpoint already runs or deploys ${candidate.promotedConfigName}` };
  }
  if (endpoint.EndpointStatus !== 'InService') {
    throw new EndpointNotInServiceError(`Endpoint ${endpointName} is ${endpoint.EndpointStatus}; the candidate is promoted once it is InService`);
  }
  if (endpoint.EndpointConfigName !== candidate.deployConfigName) {
    throw new EndpointChangedError(`Endpoint ${endpointName} runs config ${endpoint.EndpointConfigName}, not the release's ${candidate.deployConfigName}`);
  }
  const deployConfig = await describeEndpointConfig(candidate.deployConfigName);
  const spec = deployConfig?.ProductionVariants?.find((v) => v.VariantName === candidate.variantName);
  const live = endpoint.ProductionVariants?.find((v) => v.VariantName === candidate.variantName);
  await ensureEndpointConfig({
    EndpointConfigName: candidate.promotedConfigName,
    ProductionVariants: [
      {
        ...(spec ?? candidateVariant(release, 1)),
        InitialVariantWeight: 1,
        InitialInstanceCount: live?.CurrentInstanceCount ?? spec?.InitialInstanceCount ?? candidate.instanceCount,
      },
    ],
    ...carriedConfigSettings(deployConfig),
    Tags: releaseTags(release),
  });
  await updateEndpoint(endpointName, candidate.promotedConfigName);
  logger.info('Promoting the candidate', { endpointName, config: candidate.promotedConfigName });
  return { expect, action: `retiring ${release.baseline.variantName}: endpoint moves to ${candidate.promotedConfigName}` };
}

export const handler = lambdaHandler(promoteCandidate);
