/**
 * Thin adapters over the SageMaker API: they turn "not found" and "already exists"
 * ValidationExceptions into values, and make creates and deletes idempotent so that a
 * retried task is a no-op.
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type CreateEndpointConfigInput,
  type CreateModelInput,
  type DescribeEndpointConfigOutput,
  type DescribeEndpointOutput,
  type DescribeModelOutput,
  type DescribeModelPackageOutput,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import type { ObservedEndpoint } from '../contracts';
import { EndpointNotInServiceError, ResourceConflictError } from '../domain/errors';
import { sagemaker } from './clients';

/** SageMaker reports missing resources as ValidationException with these phrases. */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === 'ResourceNotFound' || (e?.name === 'ValidationException' && /could not find|does not exist/i.test(e.message ?? ''));
}

function isAlreadyExists(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === 'ValidationException' && /already exist/i.test(e.message ?? '');
}

/** SageMaker's "Cannot update in-progress endpoint": another change started between our read and our write. */
function isInProgress(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === 'ValidationException' && /in-progress endpoint/i.test(e.message ?? '');
}

/** Runs a mutation; an in-progress rejection becomes EndpointNotInService, which the workflow retries. */
async function mutate(endpointName: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (isInProgress(error)) {
      throw new EndpointNotInServiceError(`Endpoint ${endpointName} started another change first: ${(error as Error).message}`);
    }
    throw error;
  }
}

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export const describeEndpoint = (name: string): Promise<DescribeEndpointOutput | undefined> =>
  orUndefined(sagemaker.send(new DescribeEndpointCommand({ EndpointName: name })));

export const describeEndpointConfig = (name: string): Promise<DescribeEndpointConfigOutput | undefined> =>
  orUndefined(sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })));

export const describeModel = (name: string): Promise<DescribeModelOutput | undefined> =>
  orUndefined(sagemaker.send(new DescribeModelCommand({ ModelName: name })));

export const describeModelPackage = (arn: string): Promise<DescribeModelPackageOutput | undefined> =>
  orUndefined(sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn })));

/** The model package a model was created from, if any. */
/** The newest Approved version of a model package group (by creation time), or undefined. */
export async function newestApprovedPackage(groupName: string): Promise<{ arn: string; version: number } | undefined> {
  const result = await sagemaker.send(
    new ListModelPackagesCommand({
      ModelPackageGroupName: groupName,
      ModelApprovalStatus: 'Approved',
      ModelPackageType: 'Versioned',
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
      MaxResults: 1,
    }),
  );
  const newest = result.ModelPackageSummaryList?.[0];
  if (!newest?.ModelPackageArn) return undefined;
  return { arn: newest.ModelPackageArn, version: newest.ModelPackageVersion ?? Number(newest.ModelPackageArn.split('/').pop()) };
}

export function modelPackageOf(model: DescribeModelOutput | undefined): string | undefined {
  return model?.PrimaryContainer?.ModelPackageName ?? model?.Containers?.find((c) => c.ModelPackageName)?.ModelPackageName;
}

/** Does the endpoint run this config, or is an UpdateEndpoint to it in progress? */
export function runsOrDeploys(endpoint: DescribeEndpointOutput | undefined, configName: string): boolean {
  return endpoint?.EndpointConfigName === configName || endpoint?.PendingDeploymentSummary?.EndpointConfigName === configName;
}

/** Config-level settings a release's configs keep from the config they replace. */
export function carriedConfigSettings(config: DescribeEndpointConfigOutput | undefined): Pick<CreateEndpointConfigInput, 'DataCaptureConfig' | 'KmsKeyId'> {
  return {
    ...(config?.DataCaptureConfig ? { DataCaptureConfig: config.DataCaptureConfig } : {}),
    ...(config?.KmsKeyId ? { KmsKeyId: config.KmsKeyId } : {}),
  };
}

export function observe(endpoint: DescribeEndpointOutput | undefined): ObservedEndpoint | undefined {
  if (!endpoint) return undefined;
  return {
    status: endpoint.EndpointStatus ?? 'Unknown',
    ...(endpoint.EndpointConfigName ? { configName: endpoint.EndpointConfigName } : {}),
    ...(endpoint.FailureReason ? { failureReason: endpoint.FailureReason } : {}),
    variants: (endpoint.ProductionVariants ?? []).map((v) => ({
      name: v.VariantName ?? '',
      ...(v.CurrentWeight !== undefined ? { currentWeight: v.CurrentWeight } : {}),
      ...(v.DesiredWeight !== undefined ? { desiredWeight: v.DesiredWeight } : {}),
      ...(v.CurrentInstanceCount !== undefined ? { instances: v.CurrentInstanceCount } : {}),
    })),
  };
}

/** Creates the model unless a model of that name already exists from the same package. */
export async function ensureModel(input: CreateModelInput & { ModelName: string }, modelPackageArn: string): Promise<'created' | 'existed'> {
  try {
    await sagemaker.send(new CreateModelCommand(input));
    return 'created';
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    const existing = await describeModel(input.ModelName);
    if (modelPackageOf(existing) !== modelPackageArn) {
      throw new ResourceConflictError(`model ${input.ModelName} already exists but was not created from ${modelPackageArn}`);
    }
    return 'existed';
  }
}

/** Creates the endpoint config unless one of that name exists with the same variants, models, instance types and weights. */
export async function ensureEndpointConfig(input: CreateEndpointConfigInput & { EndpointConfigName: string }): Promise<'created' | 'existed'> {
  try {
    await sagemaker.send(new CreateEndpointConfigCommand(input));
    return 'created';
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    const existing = await describeEndpointConfig(input.EndpointConfigName);
    const summary = (variants: CreateEndpointConfigInput['ProductionVariants']) =>
      // Instance counts are left out: autoscaling may change them between a first attempt and its retry.
      JSON.stringify((variants ?? []).map((v) => [v.VariantName, v.ModelName, v.InstanceType, v.InitialVariantWeight ?? 1]));
    if (summary(existing?.ProductionVariants) !== summary(input.ProductionVariants)) {
      throw new ResourceConflictError(
        `endpoint config ${input.EndpointConfigName} already exists with other variants: ${summary(existing?.ProductionVariants)}`,
      );
    }
    return 'existed';
  }
}

export async function createEndpoint(endpointName: string, configName: string, tags: Tag[]): Promise<void> {
  await sagemaker.send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: configName, Tags: tags }));
}

export async function updateEndpoint(endpointName: string, configName: string): Promise<void> {
  await mutate(endpointName, () => sagemaker.send(new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: configName })));
}

export async function updateWeights(endpointName: string, weights: Record<string, number>): Promise<void> {
  await mutate(endpointName, () =>
    sagemaker.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: endpointName,
        DesiredWeightsAndCapacities: Object.entries(weights).map(([VariantName, DesiredWeight]) => ({ VariantName, DesiredWeight })),
      }),
    ),
  );
}

export async function deleteEndpoint(endpointName: string): Promise<'deleted' | 'absent'> {
  return (await orUndefined(sagemaker.send(new DeleteEndpointCommand({ EndpointName: endpointName })))) ? 'deleted' : 'absent';
}

export async function deleteEndpointConfig(name: string): Promise<'deleted' | 'absent'> {
  return (await orUndefined(sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })))) ? 'deleted' : 'absent';
}

export async function deleteModel(name: string): Promise<'deleted' | 'absent'> {
  return (await orUndefined(sagemaker.send(new DeleteModelCommand({ ModelName: name })))) ? 'deleted' : 'absent';
}
