/**
 * SageMaker responses and errors as the real service returns them, for aws-sdk-client-mock:
 * DescribeEndpoint outputs, and the ValidationExceptions SageMaker uses for "not found"
 * and "already exists".
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  UpdateEndpointCommand,
  SageMakerServiceException,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
  type EndpointStatus,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { ACCOUNT, ENDPOINT_NAME, REGION } from '../fixtures';

export type SageMakerMock = AwsClientStub<SageMakerClient>;

type Resource = 'endpoint' | 'endpoint-config' | 'model';
const LABEL: Record<Resource, string> = { endpoint: 'endpoint', 'endpoint-config': 'endpoint configuration', model: 'model' };

export function sagemakerArn(resource: Resource, name: string): string {
  return `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${resource}/${name.toLowerCase()}`;
}

/**
 * An error as the SDK raises it for a 400 response. SageMaker's model does not declare
 * ValidationException, so the client exports no class for it: the SDK raises its
 * service exception with `name` set to the error code, as built here.
 */
export function sagemakerError(name: string, message: string): SageMakerServiceException {
  return new SageMakerServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

export function validationException(message: string): SageMakerServiceException {
  return sagemakerError('ValidationException', message);
}

/** `Could not find endpoint "arn:..."`: how SageMaker reports a missing resource. */
export function notFound(resource: Resource, name: string): SageMakerServiceException {
  return validationException(`Could not find ${LABEL[resource]} "${sagemakerArn(resource, name)}".`);
}

/** `Cannot create already existing model "arn:..."`: how SageMaker rejects a duplicate create. */
export function alreadyExists(resource: Resource, name: string): SageMakerServiceException {
  return validationException(`Cannot create already existing ${LABEL[resource]} "${sagemakerArn(resource, name)}".`);
}

export interface VariantState {
  name: string;
  weight: number;
  /** @default weight */
  desiredWeight?: number;
  /** @default 2 */
  instances?: number;
}

export interface EndpointState {
  status?: EndpointStatus;
  configName: string;
  variants: VariantState[];
  /** The config an update in progress is moving to. */
  pendingConfigName?: string;
  failureReason?: string;
  name?: string;
}

/** A DescribeEndpoint output. */
export function endpointState(state: EndpointState): DescribeEndpointOutput {
  const name = state.name ?? ENDPOINT_NAME;
  return {
    EndpointName: name,
    EndpointArn: sagemakerArn('endpoint', name),
    EndpointConfigName: state.configName,
    EndpointStatus: state.status ?? 'InService',
    ...(state.failureReason ? { FailureReason: state.failureReason } : {}),
    ProductionVariants: state.variants.map((v) => ({
      VariantName: v.name,
      CurrentWeight: v.weight,
      DesiredWeight: v.desiredWeight ?? v.weight,
      CurrentInstanceCount: v.instances ?? 2,
      DesiredInstanceCount: v.instances ?? 2,
    })),
    ...(state.pendingConfigName
      ? { PendingDeploymentSummary: { EndpointConfigName: state.pendingConfigName, StartTime: new Date('2025-06-01T10:00:00Z') } }
      : {}),
    CreationTime: new Date('2024-05-01T09:00:00Z'),
    LastModifiedTime: new Date('2025-06-01T10:00:00Z'),
  };
}

/** Every SageMaker call that changes something; a rejected or read-only task sends none of them. */
const MUTATING_COMMANDS = new Set(
  [
    CreateModelCommand,
    CreateEndpointConfigCommand,
    CreateEndpointCommand,
    UpdateEndpointCommand,
    UpdateEndpointWeightsAndCapacitiesCommand,
    DeleteEndpointCommand,
    DeleteEndpointConfigCommand,
    DeleteModelCommand,
  ].map((command) => command.name),
);

/** The names of the commands sent, in order, e.g. `['DescribeEndpointCommand', 'UpdateEndpointCommand']`. */
export function sentCommands(sm: SageMakerMock): string[] {
  return sm.calls().map((call) => (call.args[0] as object).constructor.name);
}

/** The mutating commands sent, in order. */
export function mutations(sm: SageMakerMock): string[] {
  return sentCommands(sm).filter((name) => MUTATING_COMMANDS.has(name));
}

export function expectNoMutation(sm: SageMakerMock): void {
  expect(mutations(sm)).toEqual([]);
}
