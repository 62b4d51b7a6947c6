/**
 * The approval rule's target: starts the release workflow for an approved model package
 * with a deterministic execution name, so that the same change delivered many times
 * (SageMaker duplicates, EventBridge retries) starts one execution. Step Functions keeps
 * a Standard execution's name for 90 days; a repeated name is reported as a duplicate.
 */
import { ModelPackageStateChangeEventSchema } from '../contracts';
import { startExecution } from '../aws/sfn';
import { formatIssues } from '../domain/config';
import { InvalidReleaseInputError } from '../domain/errors';
import { shortHash } from '../domain/names';
import { versionOfPackageArn } from '../domain/request';
import { lambdaHandler, logger } from './common';

export interface StartReleaseOutput {
  outcome: 'started' | 'duplicate' | 'ignored';
  executionName: string;
  executionArn?: string;
  reason: string;
}

/** `<group>-v<version>-<hash of ARN and approval time>`: 1-80 of [A-Za-z0-9-_], as Step Functions requires. */
export function executionNameFor(detail: { ModelPackageGroupName: string; ModelPackageArn: string; LastModifiedTime?: string | number }): string {
  const version = versionOfPackageArn(detail.ModelPackageArn) ?? 0;
  const hash = shortHash(`${detail.ModelPackageArn}|${detail.LastModifiedTime ?? ''}`);
  const group = detail.ModelPackageGroupName.replace(/[^A-Za-z0-9-_]/g, '-').slice(0, 50);
  return `${group}-v${version}-${hash}`.slice(0, 80);
}

export async function startRelease(event: unknown): Promise<StartReleaseOutput> {
  const parsed = ModelPackageStateChangeEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidReleaseInputError(`Not a SageMaker Model Package State Change event: ${formatIssues(parsed.error).join('; ')}`);
  }
  const detail = parsed.data.detail;
  const executionName = executionNameFor(detail);
  if (detail.ModelApprovalStatus !== undefined && detail.ModelApprovalStatus !== 'Approved') {
    return { outcome: 'ignored', executionName, reason: `model package is ${detail.ModelApprovalStatus}, not Approved` };
  }
  const stateMachineArn = process.env.STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new Error('STATE_MACHINE_ARN is not set');
  const result = await startExecution({ stateMachineArn, name: executionName, input: event });
  if (result.outcome === 'duplicate') {
    logger.info('Duplicate delivery: the release of this approval was started already', { executionName, message: result.message });
    return { outcome: 'duplicate', executionName, reason: `an execution named ${executionName} exists already: ${result.message}` };
  }
  logger.info('Started a release', { executionName, executionArn: result.executionArn });
  return { outcome: 'started', executionName, executionArn: result.executionArn, reason: `release of ${detail.ModelPackageArn} started` };
}

export const handler = lambdaHandler(startRelease);
