/**
 * Task "Plan the release": validates the request, checks that the model package is
 * Approved and bound to a target, reads the endpoint, and decides: release, nothing to
 * do (the version is already live), or wait for a busy endpoint and plan again.
 * Read-only: a rejected request changes nothing in AWS.
 */
import { join } from 'node:path';
import { PlanInputSchema, type PlanOutput, type Release } from '../contracts';
import { loadConfigFile } from '../aws/config-file';
import { describeEndpoint, describeEndpointConfig, describeModel, describeModelPackage, modelPackageOf } from '../aws/sagemaker';
import { targetName, type ReleaseManagerConfig } from '../domain/config';
import { SETTLING_STATUSES } from '../domain/endpoint';
import {
  EndpointNotReadyError,
  InvalidReleaseInputError,
  ModelPackageNotApprovedError,
  ModelPackageNotFoundError,
  UnknownTargetError,
  UnsupportedEndpointStateError,
} from '../domain/errors';
import { releaseNames } from '../domain/names';
import { maxEndpointPolls, planSteps } from '../domain/policy';
import { parseReleaseRequest } from '../domain/request';
import { lambdaHandler, logger, parseTaskInput } from './common';

export function makePlanRelease(config: ReleaseManagerConfig): (event: unknown) => Promise<PlanOutput> {
  return async function planRelease(event) {
    const { input, attempts } = parseTaskInput(PlanInputSchema, event);
    const request = parseReleaseRequest(input);

    // The target is found before any AWS call: the functions may only read the configured groups' packages.
    const requestedGroup = request.modelPackageGroupName ?? groupOfPackageArn(request.modelPackageArn);
    const target = config.targets.find((t) => t.modelPackageGroupName === requestedGroup);
    if (!target) {
      throw new UnknownTargetError(
        `Model package group ${requestedGroup} is not bound to any target (configured groups: ${config.targets.map((t) => t.modelPackageGroupName).join(', ')}); nothing was changed`,
      );
    }
    const pkg = await describeModelPackage(request.modelPackageArn);
    if (!pkg) throw new ModelPackageNotFoundError(`Model package ${request.modelPackageArn} does not exist; nothing was changed`);
    const group = pkg.ModelPackageGroupName ?? '';
    if (group !== target.modelPackageGroupName) {
      throw new InvalidReleaseInputError(
        `Model package ${request.modelPackageArn} belongs to group ${group}, not ${requestedGroup} as the input says; nothing was changed`,
      );
    }
    if (pkg.ModelApprovalStatus !== 'Approved') {
      throw new ModelPackageNotApprovedError(
        `Model package ${request.modelPackageArn} is ${pkg.ModelApprovalStatus ?? 'without an approval status'}, not Approved; nothing was changed`,
      );
    }
    const version = pkg.ModelPackageVersion ?? Number(request.modelPackageArn.split('/').pop());
    const names = releaseNames(target.endpointName, request.modelPackageArn, version);
    const pollSeconds = target.endpointWait.pollSeconds;
    const maxPolls = maxEndpointPolls(target);

    const release: Release = {
      releaseId: names.releaseId,
      targetName: targetName(target),
      endpointName: target.endpointName,
      modelPackageGroupName: group,
      modelPackageArn: request.modelPackageArn,
      modelVersion: version,
      mode: 'create-endpoint',
      candidate: {
        modelName: names.modelName,
        variantName: names.candidateVariantName,
        deployConfigName: names.deployConfigName,
        promotedConfigName: names.promotedConfigName,
        instanceType: target.candidate.instanceType,
        instanceCount: target.candidate.instanceCount,
        executionRoleArn: target.modelExecutionRoleArn,
      },
      baseline: null,
      steps: planSteps(target),
      alarms: target.alarms,
      onInsufficientData: target.onInsufficientData,
      endpointWait: { pollSeconds, maxPolls },
    };

    const endpoint = await describeEndpoint(target.endpointName);
    if (!endpoint) {
      logger.info('Endpoint does not exist; the release creates it', { endpointName: target.endpointName });
      return {
        decision: 'release',
        reason: `endpoint ${target.endpointName} does not exist: the release creates it with version ${version}`,
        attempts,
        pollSeconds,
        release,
      };
    }

    const status = endpoint.EndpointStatus ?? 'Unknown';
    if (SETTLING_STATUSES.has(status)) {
      if (attempts + 1 > maxPolls) {
        throw new EndpointNotReadyError(
          `Endpoint ${target.endpointName} stayed ${status} for ${attempts} polls (${attempts * pollSeconds} s, the target's endpointWait.timeoutSeconds); nothing was changed`,
        );
      }
      return { decision: 'wait-for-endpoint', reason: `endpoint ${target.endpointName} is ${status}`, attempts: attempts + 1, pollSeconds, release: null };
    }
    if (status !== 'InService') {
      throw new UnsupportedEndpointStateError(
        `Endpoint ${target.endpointName} is ${status}${endpoint.FailureReason ? ` (${endpoint.FailureReason})` : ''}; releases only update an InService endpoint. Nothing was changed`,
      );
    }

    const variants = endpoint.ProductionVariants ?? [];
    if (variants.length !== 1) {
      throw new UnsupportedEndpointStateError(
        `Endpoint ${target.endpointName} has ${variants.length} production variants (${variants.map((v) => v.VariantName).join(', ')}); a release adds its candidate next to exactly one live variant. ` +
          'If an earlier release was interrupted, restore the endpoint to one variant first (docs/runbook.md). Nothing was changed',
      );
    }
    const live = variants[0]!;
    const configName = endpoint.EndpointConfigName ?? '';
    const liveConfig = await describeEndpointConfig(configName);
    const liveModelName = liveConfig?.ProductionVariants?.find((v) => v.VariantName === live.VariantName)?.ModelName;
    if (!liveConfig || !liveModelName) {
      throw new UnsupportedEndpointStateError(
        `Endpoint ${target.endpointName} runs config ${configName}, which cannot be read or has no variant ${live.VariantName}; nothing was changed`,
      );
    }
    const unsupported = [
      liveConfig.AsyncInferenceConfig ? 'asynchronous inference' : undefined,
      liveConfig.ShadowProductionVariants?.length ? 'shadow variants' : undefined,
    ].filter(Boolean);
    if (unsupported.length > 0) {
      throw new UnsupportedEndpointStateError(
        `Endpoint ${target.endpointName} runs config ${configName} with ${unsupported.join(' and ')}, which releases do not carry over; nothing was changed`,
      );
    }
    if (modelPackageOf(await describeModel(liveModelName)) === request.modelPackageArn) {
      return {
        decision: 'nothing-to-do',
        reason: `version ${version} is already live on endpoint ${target.endpointName}`,
        attempts,
        pollSeconds,
        release: null,
      };
    }

    return {
      decision: 'release',
      reason: `release version ${version} to endpoint ${target.endpointName} next to variant ${live.VariantName}`,
      attempts,
      pollSeconds,
      release: {
        ...release,
        mode: 'update-endpoint',
        baseline: { configName, variantName: live.VariantName ?? '', modelName: liveModelName, weight: live.CurrentWeight ?? 1 },
      },
    };
  };
}

/** `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>` -> `<group>`. */
function groupOfPackageArn(arn: string): string {
  return arn.split(':').slice(5).join(':').split('/')[1] ?? '';
}

/** The targets file sits next to the bundled handler; TARGETS_FILE overrides it. */
const TARGETS_FILE = process.env.TARGETS_FILE ?? join(__dirname, 'targets.json');
let planRelease: ((event: unknown) => Promise<PlanOutput>) | undefined;

export const handler = lambdaHandler((event: unknown) => {
  planRelease ??= makePlanRelease(loadConfigFile(TARGETS_FILE));
  return planRelease(event);
});
