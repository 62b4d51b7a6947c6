/**
 * Task "Create the candidate model and endpoint config": a SageMaker Model from the
 * model package, and the config the endpoint will run during the release: the live
 * (baseline) variant exactly as it serves now, plus the candidate variant at weight 0.
 * Deterministic names make a retry find its own earlier work.
 */
import type { ProductionVariant } from '@aws-sdk/client-sagemaker';
import { ReleaseTaskInputSchema, type Release } from '../contracts';
import {
  carriedConfigSettings,
  deleteEndpointConfig,
  describeEndpoint,
  describeEndpointConfig,
  ensureEndpointConfig,
  ensureModel,
  runsOrDeploys,
} from '../aws/sagemaker';
import { EndpointChangedError, ResourceConflictError } from '../domain/errors';
import { lambdaHandler, logger, parseTaskInput, releaseTags } from './common';

export function candidateVariant(release: Release, weight: number, instanceCount = release.candidate.instanceCount): ProductionVariant {
  return {
    VariantName: release.candidate.variantName,
    ModelName: release.candidate.modelName,
    InstanceType: release.candidate.instanceType as ProductionVariant['InstanceType'],
    InitialInstanceCount: instanceCount,
    InitialVariantWeight: weight,
  };
}

export async function createCandidate(event: unknown): Promise<{ action: string }> {
  const { release } = parseTaskInput(ReleaseTaskInputSchema, event);
  const tags = releaseTags(release);
  const model = await ensureModel(
    {
      ModelName: release.candidate.modelName,
      ExecutionRoleArn: release.candidate.executionRoleArn,
      PrimaryContainer: { ModelPackageName: release.modelPackageArn },
      Tags: tags,
    },
    release.modelPackageArn,
  );

  let variants: ProductionVariant[];
  let carried: ReturnType<typeof carriedConfigSettings> = {};
  if (release.baseline) {
    const baseline = release.baseline;
    const [config, endpoint] = await Promise.all([describeEndpointConfig(baseline.configName), describeEndpoint(release.endpointName)]);
    const spec = config?.ProductionVariants?.find((v) => v.VariantName === baseline.variantName);
    if (!spec) {
      throw new EndpointChangedError(
        `Baseline config ${baseline.configName} no longer has variant ${baseline.variantName}; the endpoint changed since the plan`,
      );
    }
    const live = endpoint?.ProductionVariants?.find((v) => v.VariantName === baseline.variantName);
    // Keep the baseline serving exactly as now: autoscaling may have changed its instance count since the config was written.
    variants = [
      { ...spec, InitialVariantWeight: baseline.weight, InitialInstanceCount: live?.CurrentInstanceCount ?? spec.InitialInstanceCount },
      candidateVariant(release, 0),
    ];
    carried = carriedConfigSettings(config);
  } else {
    variants = [candidateVariant(release, 1)];
  }

  const request = { EndpointConfigName: release.candidate.deployConfigName, ProductionVariants: variants, ...carried, Tags: tags };
  let config: string;
  try {
    config = await ensureEndpointConfig(request);
  } catch (error) {
    // A deploy config left by an earlier attempt of this release that stopped (the name is
    // this release's own) is stale once the baseline changed: replace it unless it is in use.
    if (!(error instanceof ResourceConflictError)) throw error;
    const endpoint = await describeEndpoint(release.endpointName);
    if (runsOrDeploys(endpoint, release.candidate.deployConfigName)) throw error;
    await deleteEndpointConfig(release.candidate.deployConfigName);
    config = `${await ensureEndpointConfig(request)} (replacing a stale one)`;
  }
  const action = `model ${release.candidate.modelName} ${model}, endpoint config ${release.candidate.deployConfigName} ${config}`;
  logger.info('Candidate prepared', { releaseId: release.releaseId, action });
  return { action };
}

export const handler = lambdaHandler(createCandidate);
