/**
 * Reads the execution input: a SageMaker "Model Package State Change" event from
 * EventBridge, or one of the documented operator inputs (release, rollback, approve,
 * reject, recover). Anything else is rejected with the field that is wrong, before any
 * AWS call.
 */
import { type z } from 'zod';
import { ModelPackageStateChangeEventSchema, OPERATOR_ACTIONS, OperatorInputSchema } from '../contracts';
import { formatIssues, type ReleaseManagerConfig, type TargetConfig } from './config';
import { InvalidReleaseInputError, UnknownTargetError } from './errors';

/** Who asked, when the input does not say. */
export const REGISTRY_REQUESTER = 'model registry approval';
export const UNKNOWN_REQUESTER = 'operator (requestedBy not given)';

export interface ReleaseRequestSummary {
  readonly kind: 'release';
  /** `event` when EventBridge started the execution, `manual` for an operator's input. */
  readonly origin: 'event' | 'manual';
  readonly modelPackageArn: string;
  /** From the event; a manual input names the package only. */
  readonly modelPackageGroupName?: string;
  readonly requestedBy: string;
}

export interface EndpointRequest {
  readonly kind: 'rollback' | 'approve' | 'reject' | 'recover';
  readonly endpointName: string;
  readonly requestedBy: string;
  readonly releaseId?: string;
  /** The operator's reason (rollback, reject) or comment (approve). */
  readonly note?: string;
}

export type ExecutionRequest = ReleaseRequestSummary | EndpointRequest;

const EXAMPLE = '{"action":"release","modelPackageArn":"..."} or {"action":"rollback|approve|reject|recover","endpointName":"..."}';

export function parseExecutionRequest(input: unknown): ExecutionRequest {
  if (input && typeof input === 'object' && 'action' in input) {
    const action = (input as { action: unknown }).action;
    if (typeof action !== 'string' || !(OPERATOR_ACTIONS as readonly string[]).includes(action)) {
      throw new InvalidReleaseInputError(
        `Invalid execution input: expected action to be one of ${OPERATOR_ACTIONS.join(', ')}, got ${JSON.stringify(action)}. Nothing was changed`,
      );
    }
    const parsed = OperatorInputSchema.safeParse(input);
    if (!parsed.success) throw invalid(`"${action}" input`, parsed.error);
    const data = parsed.data;
    const requestedBy = data.requestedBy ?? UNKNOWN_REQUESTER;
    switch (data.action) {
      case 'release':
        return { kind: 'release', origin: 'manual', modelPackageArn: data.modelPackageArn, requestedBy };
      case 'rollback':
        return { kind: 'rollback', endpointName: data.endpointName, requestedBy, ...(data.reason ? { note: data.reason } : {}) };
      case 'approve':
        return { kind: 'approve', endpointName: data.endpointName, requestedBy, releaseId: data.releaseId, ...(data.comment ? { note: data.comment } : {}) };
      case 'reject':
        return { kind: 'reject', endpointName: data.endpointName, requestedBy, releaseId: data.releaseId, ...(data.reason ? { note: data.reason } : {}) };
      case 'recover':
        return { kind: 'recover', endpointName: data.endpointName, requestedBy };
    }
  }
  const event = ModelPackageStateChangeEventSchema.safeParse(input);
  if (!event.success) throw invalid('SageMaker Model Package State Change event', event.error);
  return {
    kind: 'release',
    origin: 'event',
    modelPackageArn: event.data.detail.ModelPackageArn,
    modelPackageGroupName: event.data.detail.ModelPackageGroupName,
    requestedBy: REGISTRY_REQUESTER,
  };
}

/** The release request of an input; other actions are an error here. */
export function parseReleaseRequest(input: unknown): ReleaseRequestSummary {
  const request = parseExecutionRequest(input);
  if (request.kind !== 'release') throw new InvalidReleaseInputError(`Expected a release request, got action ${request.kind}`);
  return request;
}

/** The target a request is for: by model package group for a release, by endpoint name for the other actions. */
export function targetOfRequest(config: ReleaseManagerConfig, request: ExecutionRequest): TargetConfig {
  if (request.kind === 'release') {
    const group = request.modelPackageGroupName ?? groupOfPackageArn(request.modelPackageArn);
    const target = config.targets.find((t) => t.modelPackageGroupName === group);
    if (!target) {
      throw new UnknownTargetError(
        `Model package group ${group} is not bound to any target (configured groups: ${config.targets.map((t) => t.modelPackageGroupName).join(', ')}); nothing was changed`,
      );
    }
    return target;
  }
  const target = config.targets.find((t) => t.endpointName === request.endpointName);
  if (!target) {
    throw new UnknownTargetError(
      `Endpoint ${request.endpointName} is not a configured target (configured endpoints: ${config.targets.map((t) => t.endpointName).join(', ')}); nothing was changed`,
    );
  }
  return target;
}

/** `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>` -> `<group>`. */
export function groupOfPackageArn(arn: string): string {
  return arn.split(':').slice(5).join(':').split('/')[1] ?? '';
}

/** `.../model-package/<group>/<version>` -> version, or undefined. */
export function versionOfPackageArn(arn: string): number | undefined {
  const version = Number(arn.split('/').pop());
  return Number.isInteger(version) && version > 0 ? version : undefined;
}

function invalid(what: string, error: z.ZodError): InvalidReleaseInputError {
  return new InvalidReleaseInputError(
    `Invalid execution input: expected a ${what} (${EXAMPLE}). Problems: ${formatIssues(error).join('; ')}. Nothing was changed`,
  );
}
