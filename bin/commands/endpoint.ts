/**
 * Reads the commands share: the ledger (through the Lambda functions' own Ledger class)
 * and the endpoint as SageMaker describes it, each call wrapped so that its failure is
 * one clear line; and the check that an endpoint name means anything at all.
 */
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, type DescribeExecutionOutput } from '@aws-sdk/client-sfn';
import type { Ledger } from '../../lambdas/aws/ledger';
import { RecoverRequestSchema } from '../../lambdas/contracts';
import type { LastKnownGood, Lock, ReleaseRecord } from '../../lambdas/domain/ledger';
import { type Services, tableNotFound } from './context';
import { CommandError, UsageError, viaAws } from './errors';

/** Validates an endpoint name argument with the contract's rule; a bad one is a UsageError naming `<endpoint>`. */
export function endpointArgument(name: string): string {
  const result = RecoverRequestSchema.shape.endpointName.safeParse(name);
  if (!result.success) throw new UsageError(`Invalid <endpoint> ${JSON.stringify(name)}: ${result.error.issues.map((issue) => issue.message).join('; ')}`);
  return result.data;
}

/** Runs a ledger read; a missing table or an unreachable DynamoDB is one clear line. */
export function fromLedger<T>(s: Services, action: string, read: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = s.ledger;
  if (!ledger) throw new Error('This command has no ledger table');
  return viaAws(s.dynamo, { action, notFound: tableNotFound(s.settings) }, () => read(ledger));
}

export const readLock = (s: Services, endpointName: string): Promise<Lock | undefined> =>
  fromLedger(s, 'dynamodb:GetItem', (ledger) => ledger.readLock(endpointName));
export const readLastKnownGood = (s: Services, endpointName: string): Promise<LastKnownGood | undefined> =>
  fromLedger(s, 'dynamodb:GetItem', (ledger) => ledger.lastKnownGood(endpointName));
export const readHistory = (s: Services, endpointName: string, limit: number): Promise<ReleaseRecord[]> =>
  fromLedger(s, 'dynamodb:Query', (ledger) => ledger.history(endpointName, { limit }));

/** The execution name in an execution ARN (`arn:aws:states:<region>:<account>:execution:<state machine>:<name>`). */
export function executionNameOf(executionArn: string): string {
  return executionArn.split(':').slice(7).join(':') || executionArn;
}

/** The release record the lock holder started, if it got that far. */
export const readReleaseOf = (s: Services, lock: Lock): Promise<ReleaseRecord | undefined> =>
  fromLedger(s, 'dynamodb:Query', (ledger) => ledger.releaseByExecution(lock.endpointName, executionNameOf(lock.owner)));

export interface VariantView {
  name: string;
  currentWeight?: number;
  desiredWeight?: number;
  /** The variant's share of the endpoint's traffic in percent, from the current weights. */
  trafficPercent?: number;
  currentInstanceCount?: number;
  desiredInstanceCount?: number;
}

export interface EndpointView {
  status: string;
  configName?: string;
  failureReason?: string;
  lastModified?: string;
  variants: VariantView[];
}

/** SageMaker reports a missing endpoint as a ValidationException ("Could not find endpoint ..."). */
export function isEndpointNotFound(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === 'ResourceNotFound' || (e?.name === 'ValidationException' && /could not find|does not exist/i.test(e.message ?? ''));
}

/** The endpoint as SageMaker describes it; undefined when it does not exist. */
export async function describeEndpoint(s: Services, endpointName: string): Promise<EndpointView | undefined> {
  const output = await viaAws(s.sagemaker, { action: 'sagemaker:DescribeEndpoint' }, async () => {
    try {
      return await s.clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    } catch (error) {
      if (isEndpointNotFound(error)) return undefined;
      throw error;
    }
  });
  if (!output) return undefined;
  const variants = output.ProductionVariants ?? [];
  const total = variants.reduce((sum, variant) => sum + (variant.CurrentWeight ?? 0), 0);
  return {
    status: output.EndpointStatus ?? 'Unknown',
    ...(output.EndpointConfigName ? { configName: output.EndpointConfigName } : {}),
    ...(output.FailureReason ? { failureReason: output.FailureReason } : {}),
    ...(output.LastModifiedTime ? { lastModified: output.LastModifiedTime.toISOString() } : {}),
    variants: variants.map((variant) => ({
      name: variant.VariantName ?? '?',
      ...(variant.CurrentWeight !== undefined ? { currentWeight: variant.CurrentWeight } : {}),
      ...(variant.DesiredWeight !== undefined ? { desiredWeight: variant.DesiredWeight } : {}),
      ...(variant.CurrentWeight !== undefined && total > 0 ? { trafficPercent: Math.round((variant.CurrentWeight / total) * 1000) / 10 } : {}),
      ...(variant.CurrentInstanceCount !== undefined ? { currentInstanceCount: variant.CurrentInstanceCount } : {}),
      ...(variant.DesiredInstanceCount !== undefined ? { desiredInstanceCount: variant.DesiredInstanceCount } : {}),
    })),
  };
}

/** The status of an execution, or why it could not be read; never fails the command. */
export async function executionStatus(s: Services, executionArn: string): Promise<{ status?: string; error?: string }> {
  try {
    const output: DescribeExecutionOutput = await viaAws(s.sfn, { action: 'states:DescribeExecution' }, () =>
      s.clients.sfn.send(new DescribeExecutionCommand({ executionArn })),
    );
    return { status: output.status ?? 'UNKNOWN' };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * Fails with "Unknown endpoint <name>: ..." when the ledger holds nothing about the
 * endpoint and SageMaker has no endpoint of that name; returns the endpoint otherwise.
 */
export async function requireKnownEndpoint(s: Services, endpointName: string, ledgerHasItems: boolean): Promise<EndpointView | undefined> {
  const endpoint = await describeEndpoint(s, endpointName);
  if (!endpoint && !ledgerHasItems) {
    throw new CommandError(
      `Unknown endpoint ${endpointName}: the ledger table ${s.settings.tableName} has no record of it and SageMaker has no endpoint of that name in ${s.settings.region}`,
    );
  }
  return endpoint;
}
