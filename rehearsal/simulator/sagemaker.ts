/**
 * In-memory model of the SageMaker control plane the release manager drives: model
 * packages, models, endpoint configurations and real-time endpoints, with their
 * documented statuses, weights and validation errors, plus the faults a rehearsal
 * injects (silent revert of a failed update, insufficient capacity, slow deployments,
 * an endpoint that fails, a silently reverted weight change, throttling, held statuses).
 *
 * No timers: every status transition is computed from the virtual clock when the
 * state is read, so a rehearsal that jumps the clock by 10 minutes sees exactly what a
 * poller would have seen after waiting 10 minutes.
 *
 * Sources for each behaviour: docs/rehearsal.md (fidelity table).
 */
import { z } from 'zod';
import type { VirtualClock } from '../clock';
import { partitionOf } from './arn';
import { SimulatedServiceError } from './errors';
import { CallRecorder, type RecordedCall } from './recorder';
import { SAGEMAKER_NAME_PATTERN, constraintMessage, parseInput } from './validation';

export interface Timings {
  createEndpointSeconds: number;
  updateEndpointSeconds: number;
  updateWeightsSeconds: number;
  deleteEndpointSeconds: number;
}

export const DEFAULT_TIMINGS: Readonly<Timings> = Object.freeze({
  createEndpointSeconds: 480,
  updateEndpointSeconds: 600,
  updateWeightsSeconds: 60,
  deleteEndpointSeconds: 60,
});

export interface SageMakerSimulatorOptions {
  clock: VirtualClock;
  region?: string;
  accountId?: string;
  timings?: Partial<Timings>;
}

export type ModelApprovalStatus = 'Approved' | 'Rejected' | 'PendingManualApproval';
export type EndpointStatus = 'Creating' | 'Updating' | 'SystemUpdating' | 'RollingBack' | 'InService' | 'OutOfService' | 'Deleting' | 'Failed';
export type HeldEndpointStatus = 'Updating' | 'Creating' | 'SystemUpdating';
/**
 * How a deployment of a config containing a failing package ends:
 * - 'silent-revert': an update ends InService on the previous config, FailureReason empty;
 * - 'report-failure': the same, with a FailureReason (the container failed its ping health check);
 * - 'insufficient-capacity': the same, with the FailureReason SageMaker gives when it cannot
 *   provision the variant's instances (InsufficientInstanceCapacity).
 * A CreateEndpoint ends Failed with that FailureReason in every mode.
 */
export type DeploymentFaultMode = 'silent-revert' | 'report-failure' | 'insufficient-capacity';

/** What a variant of an endpoint serves, as the data plane routes to it. */
export interface ServingVariant {
  variantName: string;
  currentWeight: number;
  /** Current instance count; undefined for serverless variants. */
  instanceCount: number | undefined;
  /** Model packages of the variant's model, as deployed (ARNs as created). */
  modelPackageArns: string[];
  /** Versions of those model packages, in the same order (a package the simulator does not know is left out). */
  versions: number[];
}

export interface ServingEndpoint {
  status: EndpointStatus;
  variants: ServingVariant[];
}

export interface Tag {
  Key: string;
  Value: string;
}

export interface PutModelPackageInput {
  groupName: string;
  version: number;
  status?: ModelApprovalStatus;
  image?: string;
}

/** A model package as the scenario API reports it; times in virtual epoch ms. */
export interface ModelPackageSnapshot {
  arn: string;
  groupName: string;
  version: number;
  status: ModelApprovalStatus;
  creationTime: number;
  lastModifiedTime: number;
}

export interface PutEndpointVariant {
  variantName: string;
  modelPackageArn?: string;
  modelName?: string;
  instanceType: string;
  instanceCount: number;
  weight: number;
}

export interface PutEndpointInput {
  name: string;
  variants: PutEndpointVariant[];
  executionRoleArn?: string;
  configName?: string;
  status?: 'InService';
}

export interface VariantSnapshot {
  variantName: string;
  modelName: string;
  currentWeight: number;
  desiredWeight: number;
  /** Current instance count; undefined for serverless variants. */
  instanceCount: number | undefined;
  desiredInstanceCount: number | undefined;
}

export interface EndpointSnapshot {
  status: EndpointStatus;
  configName: string;
  variants: VariantSnapshot[];
  failureReason?: string;
  /** Config an UpdateEndpoint in progress is deploying. */
  pendingConfigName?: string;
}

// ---------------------------------------------------------------------------------
// Request schemas: only the fields the simulator models; unknown fields are ignored
// (containers and variants keep theirs, so Describe* echoes what was created).

const Name = z.string().max(63).regex(SAGEMAKER_NAME_PATTERN);
const Tags = z
  .array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) }))
  .max(50)
  .optional();
const Container = z.looseObject({
  Image: z.string().max(255).optional(),
  ModelPackageName: z.string().min(1).max(176).optional(),
});
type ContainerInput = z.infer<typeof Container>;

const DescribeModelPackageInput = z.object({ ModelPackageName: z.string().min(1).max(176) });
const ApprovalStatus = z.enum(['Approved', 'Rejected', 'PendingManualApproval']);
const ListModelPackagesInput = z.object({
  ModelPackageGroupName: z.string().min(1).max(170).optional(),
  ModelApprovalStatus: ApprovalStatus.optional(),
  ModelPackageType: z.enum(['Versioned', 'Unversioned', 'Both']).optional(),
  NameContains: z.string().max(63).optional(),
  CreationTimeAfter: z.number().optional(),
  CreationTimeBefore: z.number().optional(),
  SortBy: z.enum(['Name', 'CreationTime']).optional(),
  SortOrder: z.enum(['Ascending', 'Descending']).optional(),
  MaxResults: z.number().int().min(1).max(100).optional(),
  NextToken: z.string().max(8192).optional(),
});
const UpdateModelPackageInput = z.object({
  ModelPackageArn: z.string().min(1).max(2048),
  ModelApprovalStatus: ApprovalStatus.optional(),
  ApprovalDescription: z.string().max(1024).optional(),
});
const CreateModelInput = z.object({
  ModelName: Name,
  ExecutionRoleArn: z.string().min(20).max(2048),
  PrimaryContainer: Container.optional(),
  Containers: z.array(Container).max(15).optional(),
  Tags,
});
const ModelNameInput = z.object({ ModelName: Name });
const ProductionVariantInput = z.looseObject({
  VariantName: Name,
  ModelName: Name,
  InitialInstanceCount: z.number().int().min(1).optional(),
  InstanceType: z.string().min(1).optional(),
  InitialVariantWeight: z.number().min(0).optional(),
  ServerlessConfig: z.looseObject({ MemorySizeInMB: z.number().int(), MaxConcurrency: z.number().int() }).optional(),
});
type ProductionVariantInput = z.infer<typeof ProductionVariantInput>;
const CreateEndpointConfigInput = z.object({
  EndpointConfigName: Name,
  ProductionVariants: z.array(ProductionVariantInput).min(1).max(10),
  DataCaptureConfig: z.looseObject({}).optional(),
  KmsKeyId: z.string().max(2048).optional(),
  Tags,
});
const EndpointConfigNameInput = z.object({ EndpointConfigName: Name });
const CreateEndpointInput = z.object({ EndpointName: Name, EndpointConfigName: Name, Tags });
const EndpointNameInput = z.object({ EndpointName: Name });
const UpdateEndpointInput = z.object({
  EndpointName: Name,
  EndpointConfigName: Name,
  RetainAllVariantProperties: z.boolean().optional(),
});
const UpdateEndpointWeightsAndCapacitiesInput = z.object({
  EndpointName: Name,
  DesiredWeightsAndCapacities: z
    .array(
      z.looseObject({
        VariantName: Name,
        DesiredWeight: z.number().min(0).optional(),
        DesiredInstanceCount: z.number().int().min(0).optional(),
      }),
    )
    .min(1),
});

// ---------------------------------------------------------------------------------
// Stored state.

interface ModelPackageRecord {
  arn: string;
  groupName: string;
  version: number;
  approvalStatus: ModelApprovalStatus;
  image: string;
  creationTime: number;
  lastModifiedTime: number;
  approvalDescription: string | undefined;
}

interface ModelRecord {
  name: string;
  arn: string;
  executionRoleArn: string;
  primaryContainer: ContainerInput | undefined;
  containers: ContainerInput[] | undefined;
  packageArns: string[];
  creationTime: number;
}

interface EndpointConfigRecord {
  name: string;
  arn: string;
  variants: ProductionVariantInput[];
  dataCaptureConfig: Record<string, unknown> | undefined;
  kmsKeyId: string | undefined;
  creationTime: number;
}

interface VariantState {
  variantName: string;
  modelName: string;
  currentWeight: number;
  desiredWeight: number;
  currentInstanceCount: number | undefined;
  desiredInstanceCount: number | undefined;
  instanceType: string | undefined;
  serverlessConfig: Record<string, unknown> | undefined;
  /** Model packages (lowercased ARNs) of the variant's model when it was deployed. */
  packageArns: string[];
}

interface DeploymentFailure {
  variantName: string;
  instanceType: string | undefined;
  mode: DeploymentFaultMode;
}

/** Desired weight and instance count of a variant, to restore after a reverted weight change. */
interface DesiredVariantState {
  variantName: string;
  desiredWeight: number;
  desiredInstanceCount: number | undefined;
}

/** The control-plane operation an endpoint is busy with, and when it finishes. */
type PendingOperation =
  | { kind: 'create'; endsAt: number; failure: DeploymentFailure | undefined }
  | {
      kind: 'update';
      startedAt: number;
      endsAt: number;
      configName: string;
      variants: VariantState[];
      failure: DeploymentFailure | undefined;
    }
  | { kind: 'weights'; endsAt: number; revertTo: DesiredVariantState[] | undefined }
  | { kind: 'delete'; endsAt: number };

interface EndpointRecord {
  name: string;
  arn: string;
  configName: string;
  variants: VariantState[];
  /** Status once no operation or hold is in effect. */
  settledStatus: 'InService' | 'Failed' | 'OutOfService';
  failureReason: string | undefined;
  creationTime: number;
  lastModifiedTime: number;
  operation: PendingOperation | undefined;
  hold: { status: HeldEndpointStatus; until: number } | undefined;
  /** Injected failure: the endpoint becomes Failed at `at`. */
  scheduledFailure: { at: number; reason: string } | undefined;
  /** Injected fault: the next accepted weight change ends with the previous weights. */
  /** Revert the next weight change (true), or the next one whose desired weights the predicate accepts. */
  revertNextWeightChange: boolean | ((desiredWeights: ReadonlyMap<string, number>) => boolean);
}

/** Page size of ListModelPackages when MaxResults is not given. */
const DEFAULT_LIST_PAGE_SIZE = 10;

const IN_PROGRESS: ReadonlySet<EndpointStatus> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

export class SageMakerSimulator {
  readonly region: string;
  readonly accountId: string;
  readonly timings: Readonly<Timings>;

  private readonly clock: VirtualClock;
  private readonly recorder: CallRecorder<'sagemaker'>;
  // SageMaker names are case-insensitive (ARNs carry them lowercased), so maps are
  // keyed by the lowercased name and records keep the name as created.
  private readonly packages = new Map<string, ModelPackageRecord>();
  private readonly modelRecords = new Map<string, ModelRecord>();
  private readonly configRecords = new Map<string, EndpointConfigRecord>();
  private readonly endpointRecords = new Map<string, EndpointRecord>();
  private readonly tags = new Map<string, Tag[]>();
  private readonly failingPackages = new Map<string, DeploymentFaultMode>();
  private readonly slowPackages = new Map<string, number>();
  private readonly operations: ReadonlyMap<string, (input: unknown) => unknown>;

  constructor(options: SageMakerSimulatorOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '123456789012';
    this.timings = Object.freeze({ ...DEFAULT_TIMINGS, ...options.timings });
    this.recorder = new CallRecorder('sagemaker', this.clock);
    this.operations = new Map<string, (input: unknown) => unknown>([
      ['DescribeModelPackage', (input) => this.describeModelPackage(input)],
      ['ListModelPackages', (input) => this.listModelPackages(input)],
      ['UpdateModelPackage', (input) => this.updateModelPackage(input)],
      ['CreateModel', (input) => this.createModel(input)],
      ['DescribeModel', (input) => this.describeModel(input)],
      ['DeleteModel', (input) => this.deleteModel(input)],
      ['CreateEndpointConfig', (input) => this.createEndpointConfig(input)],
      ['DescribeEndpointConfig', (input) => this.describeEndpointConfig(input)],
      ['DeleteEndpointConfig', (input) => this.deleteEndpointConfig(input)],
      ['CreateEndpoint', (input) => this.createEndpoint(input)],
      ['DescribeEndpoint', (input) => this.describeEndpoint(input)],
      ['UpdateEndpoint', (input) => this.updateEndpoint(input)],
      ['UpdateEndpointWeightsAndCapacities', (input) => this.updateEndpointWeightsAndCapacities(input)],
      ['DeleteEndpoint', (input) => this.deleteEndpoint(input)],
    ]);
  }

  /** Forgets every resource, fault and recorded call: the state of a new account. */
  reset(): void {
    for (const map of [this.packages, this.modelRecords, this.configRecords, this.endpointRecords, this.tags, this.failingPackages, this.slowPackages]) {
      map.clear();
    }
    this.recorder.reset();
  }

  /** Every request received, in order, including throttled and rejected ones. */
  get calls(): RecordedCall<'sagemaker'>[] {
    return this.recorder.calls;
  }

  /** Entry point of the HTTP layer: one JSON-protocol operation. */
  handle(operation: string, input: unknown): unknown {
    return this.recorder.run(operation, input, () => {
      const handler = this.operations.get(operation);
      if (!handler) {
        throw new SimulatedServiceError('UnknownOperationException', `Operation SageMaker.${operation} is not supported.`);
      }
      return handler(input);
    });
  }

  // -------------------------------------------------------------------------------
  // Scenario API (seeding and fault injection). Not recorded as calls: these are the
  // world the workflow runs in, not requests it made.

  putModelPackage(input: PutModelPackageInput): string {
    if (!Number.isInteger(input.version) || input.version < 1) {
      throw new RangeError(`putModelPackage: version must be an integer >= 1, got ${input.version}`);
    }
    const arn = `${this.arnPrefix()}model-package/${input.groupName.toLowerCase()}/${input.version}`;
    this.packages.set(arn.toLowerCase(), {
      arn,
      groupName: input.groupName,
      version: input.version,
      approvalStatus: input.status ?? 'Approved',
      image: input.image ?? `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com/${input.groupName.toLowerCase()}:${input.version}`,
      creationTime: this.clock.now(),
      lastModifiedTime: this.clock.now(),
      approvalDescription: undefined,
    });
    return arn;
  }

  /** Sets a package's approval status as a registry user would (LastModifiedTime becomes now); returns the package. */
  setModelPackageStatus(modelPackageArn: string, status: ModelApprovalStatus): ModelPackageSnapshot {
    const pkg = this.packages.get(modelPackageArn.toLowerCase());
    if (!pkg) throw new Error(`setModelPackageStatus: model package ${modelPackageArn} does not exist`);
    pkg.approvalStatus = status;
    pkg.lastModifiedTime = this.clock.now();
    return packageSnapshot(pkg);
  }

  /** A model package as stored (times in virtual epoch ms); undefined when it does not exist. */
  modelPackage(modelPackageArn: string): ModelPackageSnapshot | undefined {
    const pkg = this.packages.get(modelPackageArn.toLowerCase());
    return pkg && packageSnapshot(pkg);
  }

  /** Creates models, an endpoint config and an InService endpoint, with no delay. */
  putEndpoint(input: PutEndpointInput): void {
    if (this.endpointRecords.has(input.name.toLowerCase())) {
      throw new Error(`putEndpoint: endpoint ${input.name} already exists`);
    }
    const executionRoleArn = input.executionRoleArn ?? `arn:aws:iam::${this.accountId}:role/rehearsal-sagemaker-execution`;
    const productionVariants = input.variants.map((variant) => {
      const modelName = variant.modelName ?? `${input.name}-${variant.variantName}`;
      if (!this.modelRecords.has(modelName.toLowerCase())) {
        const container: ContainerInput = variant.modelPackageArn
          ? { ModelPackageName: variant.modelPackageArn }
          : { Image: `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com/rehearsal:latest` };
        this.createModel({ ModelName: modelName, ExecutionRoleArn: executionRoleArn, PrimaryContainer: container });
      }
      return {
        VariantName: variant.variantName,
        ModelName: modelName,
        InstanceType: variant.instanceType,
        InitialInstanceCount: variant.instanceCount,
        InitialVariantWeight: variant.weight,
      };
    });
    const configName = input.configName ?? `${input.name}-config-initial`;
    this.createEndpointConfig({ EndpointConfigName: configName, ProductionVariants: productionVariants });
    const config = this.requireConfig(configName);
    const now = this.clock.now();
    this.endpointRecords.set(input.name.toLowerCase(), {
      name: input.name,
      arn: this.arn('endpoint', input.name),
      configName: config.name,
      variants: this.variantsFromConfig(config, undefined),
      settledStatus: 'InService',
      failureReason: undefined,
      creationTime: now,
      lastModifiedTime: now,
      operation: undefined,
      hold: undefined,
      scheduledFailure: undefined,
      revertNextWeightChange: false,
    });
  }

  /**
   * Makes the endpoint report `status` for `forSeconds` from now (and reject updates as
   * in progress, as SageMaker does during maintenance), then report what it would have.
   */
  holdEndpoint(name: string, status: HeldEndpointStatus, forSeconds: number): void {
    const endpoint = this.settledEndpoint(name);
    if (!endpoint) throw new Error(`holdEndpoint: endpoint ${name} does not exist`);
    if (!Number.isFinite(forSeconds) || forSeconds < 0) {
      throw new RangeError(`holdEndpoint: forSeconds must be a finite number >= 0, got ${forSeconds}`);
    }
    endpoint.hold = { status, until: this.clock.now() + forSeconds * 1000 };
  }

  /**
   * Deployments of configs with a variant whose model comes from this package fail:
   * an UpdateEndpoint ends InService on the previous config (FailureReason set except in
   * 'silent-revert' mode), a CreateEndpoint ends Failed.
   */
  failDeploymentsOf(modelPackageArn: string, mode: DeploymentFaultMode): void {
    this.failingPackages.set(modelPackageArn.toLowerCase(), mode);
  }

  /**
   * Deployments (CreateEndpoint, UpdateEndpoint) of configs with a variant whose model
   * comes from this package take `seconds` instead of the default duration: the endpoint
   * stays Creating / Updating that long. With several slow packages, the slowest wins.
   */
  slowDeploymentsOf(modelPackageArn: string, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`slowDeploymentsOf: seconds must be a finite number >= 0, got ${seconds}`);
    }
    this.slowPackages.set(modelPackageArn.toLowerCase(), seconds);
  }

  /**
   * The endpoint becomes Failed with this FailureReason at `atEpochMs` (default: now),
   * whatever it was doing then; an operation still in progress at that time never ends.
   * A Failed endpoint rejects updates; only DeleteEndpoint is allowed.
   */
  failEndpoint(name: string, reason: string, atEpochMs: number = this.clock.now()): void {
    const endpoint = this.settledEndpoint(name);
    if (!endpoint) throw new Error(`failEndpoint: endpoint ${name} does not exist`);
    if (!Number.isFinite(atEpochMs) || atEpochMs < this.clock.now()) {
      throw new RangeError(`failEndpoint: atEpochMs must be a finite time not before now (${this.clock.now()}), got ${atEpochMs}`);
    }
    endpoint.scheduledFailure = { at: atEpochMs, reason };
    this.settledEndpoint(name);
  }

  /**
   * The next UpdateEndpointWeightsAndCapacities on this endpoint is accepted and reports
   * Updating for the usual time, then ends InService with the previous weights and
   * instance counts (Current and Desired): a silent revert the workflow must detect by
   * reading the weights back. With `matches`, only the next change whose desired weights
   * (every variant's, after the call) it accepts is reverted; other changes go through.
   */
  revertNextWeightChange(name: string, matches?: (desiredWeights: ReadonlyMap<string, number>) => boolean): void {
    const endpoint = this.settledEndpoint(name);
    if (!endpoint) throw new Error(`revertNextWeightChange: endpoint ${name} does not exist`);
    endpoint.revertNextWeightChange = matches ?? true;
  }

  /** The next `times` calls of `operation` get ThrottlingException (added to any burst not used up yet). */
  throttle(operation: string, times: number): void {
    this.recorder.throttle(operation, times);
  }

  // -------------------------------------------------------------------------------
  // Inspection.

  endpoint(name: string): EndpointSnapshot | undefined {
    const endpoint = this.settledEndpoint(name);
    if (!endpoint) return undefined;
    const snapshot: EndpointSnapshot = {
      status: this.statusOf(endpoint),
      configName: endpoint.configName,
      variants: endpoint.variants.map((variant) => ({
        variantName: variant.variantName,
        modelName: variant.modelName,
        currentWeight: variant.currentWeight,
        desiredWeight: variant.desiredWeight,
        instanceCount: variant.currentInstanceCount,
        desiredInstanceCount: variant.desiredInstanceCount,
      })),
    };
    if (endpoint.failureReason !== undefined) snapshot.failureReason = endpoint.failureReason;
    if (endpoint.operation?.kind === 'update') snapshot.pendingConfigName = endpoint.operation.configName;
    return snapshot;
  }

  /** Names of the endpoints that exist now (Deleting included, deleted ones not). */
  endpointNames(): string[] {
    return [...this.endpointRecords.values()].map((endpoint) => endpoint.name).filter((name) => this.settledEndpoint(name) !== undefined);
  }

  /**
   * Status and running variants of an endpoint, for the data plane: during an update the
   * variants of the previous config keep serving, with their current weights.
   */
  servingVariants(endpointName: string): ServingEndpoint | undefined {
    const endpoint = this.settledEndpoint(endpointName);
    if (!endpoint) return undefined;
    return {
      status: this.statusOf(endpoint),
      variants: endpoint.variants.map((variant) => {
        const packages = variant.packageArns.map((arn) => this.packages.get(arn));
        return {
          variantName: variant.variantName,
          currentWeight: variant.currentWeight,
          instanceCount: variant.currentInstanceCount,
          modelPackageArns: variant.packageArns.map((arn, index) => packages[index]?.arn ?? arn),
          versions: packages.flatMap((pkg) => (pkg ? [pkg.version] : [])),
        };
      }),
    };
  }

  models(): string[] {
    return [...this.modelRecords.values()].map((model) => model.name);
  }

  endpointConfigs(): string[] {
    return [...this.configRecords.values()].map((config) => config.name);
  }

  tagsOf(arn: string): Tag[] | undefined {
    const tags = this.tags.get(arn);
    return tags?.map((tag) => ({ ...tag }));
  }

  /** Calls that could change state: everything but Describe*, List* and Get*. */
  mutatingCalls(): RecordedCall<'sagemaker'>[] {
    return this.recorder.mutatingCalls();
  }

  // -------------------------------------------------------------------------------
  // Operations.

  private describeModelPackage(raw: unknown): unknown {
    const input = this.parse(DescribeModelPackageInput, raw);
    const pkg = this.packages.get(input.ModelPackageName.toLowerCase());
    if (!pkg) throw validation(`Model package ${input.ModelPackageName} does not exist.`);
    return {
      // For a versioned package, ModelPackageName is the group's name.
      ModelPackageName: pkg.groupName,
      ModelPackageGroupName: pkg.groupName,
      ModelPackageVersion: pkg.version,
      ModelPackageArn: pkg.arn,
      ModelApprovalStatus: pkg.approvalStatus,
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [] },
      CreationTime: epochSeconds(pkg.creationTime),
      LastModifiedTime: epochSeconds(pkg.lastModifiedTime),
      ...(pkg.approvalDescription !== undefined ? { ApprovalDescription: pkg.approvalDescription } : {}),
      InferenceSpecification: { Containers: [{ Image: pkg.image }] },
    };
  }

  private listModelPackages(raw: unknown): unknown {
    const input = this.parse(ListModelPackagesInput, raw);
    // A group may be given by name or ARN; versioned packages are listed when a group is named.
    const group = input.ModelPackageGroupName?.split('/').pop()?.toLowerCase();
    const type = input.ModelPackageType ?? (group !== undefined ? 'Versioned' : 'Unversioned');
    const matching = [...this.packages.values()].filter(
      (pkg) =>
        type !== 'Unversioned' &&
        (group === undefined || pkg.groupName.toLowerCase() === group) &&
        (input.ModelApprovalStatus === undefined || pkg.approvalStatus === input.ModelApprovalStatus) &&
        (input.NameContains === undefined || pkg.groupName.toLowerCase().includes(input.NameContains.toLowerCase())) &&
        (input.CreationTimeAfter === undefined || pkg.creationTime > input.CreationTimeAfter * 1000) &&
        (input.CreationTimeBefore === undefined || pkg.creationTime < input.CreationTimeBefore * 1000),
    );
    const byName = (a: ModelPackageRecord, b: ModelPackageRecord) => a.groupName.localeCompare(b.groupName) || a.version - b.version;
    const byTime = (a: ModelPackageRecord, b: ModelPackageRecord) => a.creationTime - b.creationTime || byName(a, b);
    matching.sort(input.SortBy === 'Name' ? byName : byTime);
    if (input.SortOrder === 'Descending') matching.reverse();
    const offset = input.NextToken === undefined ? 0 : pageOffset(input.NextToken);
    const page = matching.slice(offset, offset + (input.MaxResults ?? DEFAULT_LIST_PAGE_SIZE));
    const next = offset + page.length;
    return {
      ModelPackageSummaryList: page.map((pkg) => ({
        ModelPackageName: pkg.groupName,
        ModelPackageGroupName: pkg.groupName,
        ModelPackageVersion: pkg.version,
        ModelPackageArn: pkg.arn,
        CreationTime: epochSeconds(pkg.creationTime),
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: pkg.approvalStatus,
      })),
      ...(next < matching.length ? { NextToken: Buffer.from(JSON.stringify({ offset: next })).toString('base64url') } : {}),
    };
  }

  private updateModelPackage(raw: unknown): unknown {
    const input = this.parse(UpdateModelPackageInput, raw);
    const pkg = this.packages.get(input.ModelPackageArn.toLowerCase());
    if (!pkg) throw validation(`Model package ${input.ModelPackageArn} does not exist.`);
    if (input.ModelApprovalStatus !== undefined) pkg.approvalStatus = input.ModelApprovalStatus;
    if (input.ApprovalDescription !== undefined) pkg.approvalDescription = input.ApprovalDescription;
    pkg.lastModifiedTime = this.clock.now();
    return { ModelPackageArn: pkg.arn };
  }

  private createModel(raw: unknown): unknown {
    const input = this.parse(CreateModelInput, raw);
    const arn = this.arn('model', input.ModelName);
    if (this.modelRecords.has(input.ModelName.toLowerCase())) {
      throw validation(`Cannot create already existing model "${arn}".`);
    }
    if (input.PrimaryContainer && input.Containers) {
      throw validation('PrimaryContainer and Containers cannot both be specified.');
    }
    const containers = input.PrimaryContainer ? [input.PrimaryContainer] : (input.Containers ?? []);
    if (containers.length === 0) throw validation('Either PrimaryContainer or Containers must be specified.');
    const packageArns: string[] = [];
    containers.forEach((container, index) => {
      if (container.ModelPackageName !== undefined) {
        if (!this.packages.has(container.ModelPackageName.toLowerCase())) {
          throw validation(`Model package ${container.ModelPackageName} does not exist.`);
        }
        packageArns.push(container.ModelPackageName.toLowerCase());
      } else if (container.Image === undefined) {
        const path = input.PrimaryContainer ? ['PrimaryContainer', 'Image'] : ['Containers', index, 'Image'];
        throw validation(constraintMessage(path, undefined, 'Member must not be null'));
      }
    });
    this.modelRecords.set(input.ModelName.toLowerCase(), {
      name: input.ModelName,
      arn,
      executionRoleArn: input.ExecutionRoleArn,
      primaryContainer: input.PrimaryContainer,
      containers: input.Containers,
      packageArns,
      creationTime: this.clock.now(),
    });
    this.storeTags(arn, input.Tags);
    return { ModelArn: arn };
  }

  private describeModel(raw: unknown): unknown {
    const model = this.requireModel(this.parse(ModelNameInput, raw).ModelName);
    return {
      ModelName: model.name,
      ModelArn: model.arn,
      ExecutionRoleArn: model.executionRoleArn,
      PrimaryContainer: model.primaryContainer,
      Containers: model.containers,
      CreationTime: epochSeconds(model.creationTime),
    };
  }

  private deleteModel(raw: unknown): unknown {
    // SageMaker lets a model be deleted while endpoints still use it; so does the simulator.
    const model = this.requireModel(this.parse(ModelNameInput, raw).ModelName);
    this.modelRecords.delete(model.name.toLowerCase());
    this.tags.delete(model.arn);
    return {};
  }

  private createEndpointConfig(raw: unknown): unknown {
    const input = this.parse(CreateEndpointConfigInput, raw);
    const arn = this.arn('endpoint-config', input.EndpointConfigName);
    if (this.configRecords.has(input.EndpointConfigName.toLowerCase())) {
      throw validation(`Cannot create already existing endpoint configuration "${arn}".`);
    }
    const seen = new Set<string>();
    input.ProductionVariants.forEach((variant, index) => {
      if (seen.has(variant.VariantName)) {
        throw validation(`Variant names must be unique within an endpoint configuration: "${variant.VariantName}" is repeated.`);
      }
      seen.add(variant.VariantName);
      this.requireModel(variant.ModelName);
      if (variant.InstanceType === undefined && variant.ServerlessConfig === undefined) {
        throw validation(`Production variant "${variant.VariantName}" must specify either InstanceType and InitialInstanceCount, or ServerlessConfig.`);
      }
      if (variant.InstanceType !== undefined && variant.InitialInstanceCount === undefined) {
        throw validation(constraintMessage(['ProductionVariants', index, 'InitialInstanceCount'], undefined, 'Member must not be null'));
      }
    });
    this.configRecords.set(input.EndpointConfigName.toLowerCase(), {
      name: input.EndpointConfigName,
      arn,
      // SageMaker reports the default weight (1.0) back when none was given.
      variants: input.ProductionVariants.map((variant) => ({
        ...variant,
        InitialVariantWeight: variant.InitialVariantWeight ?? 1,
      })),
      dataCaptureConfig: input.DataCaptureConfig,
      kmsKeyId: input.KmsKeyId,
      creationTime: this.clock.now(),
    });
    this.storeTags(arn, input.Tags);
    return { EndpointConfigArn: arn };
  }

  private describeEndpointConfig(raw: unknown): unknown {
    const config = this.requireConfig(this.parse(EndpointConfigNameInput, raw).EndpointConfigName);
    return {
      EndpointConfigName: config.name,
      EndpointConfigArn: config.arn,
      ProductionVariants: config.variants,
      DataCaptureConfig: config.dataCaptureConfig,
      KmsKeyId: config.kmsKeyId,
      CreationTime: epochSeconds(config.creationTime),
    };
  }

  private deleteEndpointConfig(raw: unknown): unknown {
    // Allowed even while an endpoint runs the config: SageMaker only warns against it.
    const config = this.requireConfig(this.parse(EndpointConfigNameInput, raw).EndpointConfigName);
    this.configRecords.delete(config.name.toLowerCase());
    this.tags.delete(config.arn);
    return {};
  }

  private createEndpoint(raw: unknown): unknown {
    const input = this.parse(CreateEndpointInput, raw);
    const arn = this.arn('endpoint', input.EndpointName);
    if (this.settledEndpoint(input.EndpointName)) {
      throw validation(`Cannot create already existing endpoint "${arn}".`);
    }
    const config = this.requireDeployableConfig(input.EndpointConfigName);
    const variants = this.variantsFromConfig(config, undefined);
    assertSomeTraffic(variants);
    for (const variant of variants) {
      if (variant.currentInstanceCount !== undefined) variant.currentInstanceCount = 0;
    }
    const now = this.clock.now();
    this.endpointRecords.set(input.EndpointName.toLowerCase(), {
      name: input.EndpointName,
      arn,
      configName: config.name,
      variants,
      settledStatus: 'InService',
      failureReason: undefined,
      creationTime: now,
      lastModifiedTime: now,
      operation: {
        kind: 'create',
        endsAt: now + this.deploymentSeconds(config, this.timings.createEndpointSeconds) * 1000,
        failure: this.deploymentFailureOf(config),
      },
      hold: undefined,
      scheduledFailure: undefined,
      revertNextWeightChange: false,
    });
    this.storeTags(arn, input.Tags);
    return { EndpointArn: arn };
  }

  private describeEndpoint(raw: unknown): unknown {
    const endpoint = this.requireEndpoint(this.parse(EndpointNameInput, raw).EndpointName);
    const operation = endpoint.operation;
    return {
      EndpointName: endpoint.name,
      EndpointArn: endpoint.arn,
      EndpointConfigName: endpoint.configName,
      ProductionVariants: endpoint.variants.map((variant) => ({
        VariantName: variant.variantName,
        DeployedImages: [],
        CurrentWeight: variant.currentWeight,
        DesiredWeight: variant.desiredWeight,
        CurrentInstanceCount: variant.currentInstanceCount,
        DesiredInstanceCount: variant.desiredInstanceCount,
        CurrentServerlessConfig: variant.serverlessConfig,
        DesiredServerlessConfig: variant.serverlessConfig,
      })),
      EndpointStatus: this.statusOf(endpoint),
      FailureReason: endpoint.failureReason,
      CreationTime: epochSeconds(endpoint.creationTime),
      LastModifiedTime: epochSeconds(endpoint.lastModifiedTime),
      PendingDeploymentSummary:
        operation?.kind === 'update'
          ? {
              EndpointConfigName: operation.configName,
              ProductionVariants: operation.variants.map((variant) => ({
                VariantName: variant.variantName,
                DeployedImages: [],
                DesiredWeight: variant.desiredWeight,
                DesiredInstanceCount: variant.desiredInstanceCount,
                InstanceType: variant.instanceType,
                DesiredServerlessConfig: variant.serverlessConfig,
              })),
              StartTime: epochSeconds(operation.startedAt),
            }
          : undefined,
    };
  }

  private updateEndpoint(raw: unknown): unknown {
    const input = this.parse(UpdateEndpointInput, raw);
    const endpoint = this.requireEndpoint(input.EndpointName);
    this.assertUpdatable(endpoint);
    const config = this.requireDeployableConfig(input.EndpointConfigName);
    const variants = this.variantsFromConfig(config, input.RetainAllVariantProperties ? endpoint.variants : undefined);
    assertSomeTraffic(variants);
    const now = this.clock.now();
    endpoint.operation = {
      kind: 'update',
      startedAt: now,
      endsAt: now + this.deploymentSeconds(config, this.timings.updateEndpointSeconds) * 1000,
      configName: config.name,
      variants,
      failure: this.deploymentFailureOf(config),
    };
    endpoint.lastModifiedTime = now;
    return { EndpointArn: endpoint.arn };
  }

  private updateEndpointWeightsAndCapacities(raw: unknown): unknown {
    const input = this.parse(UpdateEndpointWeightsAndCapacitiesInput, raw);
    const endpoint = this.requireEndpoint(input.EndpointName);
    this.assertUpdatable(endpoint);
    const byName = new Map(endpoint.variants.map((variant) => [variant.variantName, variant]));
    const unknown = input.DesiredWeightsAndCapacities.map((desired) => desired.VariantName).filter((name) => !byName.has(name));
    if (unknown.length > 0) {
      throw validation(`The variant name(s) ${unknown.map((name) => `"${name}"`).join(', ')} is/are not present in endpoint "${endpoint.arn}".`);
    }
    const weights = new Map(endpoint.variants.map((variant) => [variant.variantName, variant.currentWeight]));
    for (const desired of input.DesiredWeightsAndCapacities) {
      if (desired.DesiredWeight !== undefined) weights.set(desired.VariantName, desired.DesiredWeight);
    }
    if ([...weights.values()].every((weight) => weight === 0)) {
      throw validation(`The desired weights of all variants of endpoint "${endpoint.arn}" cannot all be 0.`);
    }
    const armed = endpoint.revertNextWeightChange;
    const revert = armed === true || (typeof armed === 'function' && armed(weights));
    const revertTo = revert
      ? endpoint.variants.map((variant) => ({
          variantName: variant.variantName,
          desiredWeight: variant.desiredWeight,
          desiredInstanceCount: variant.desiredInstanceCount,
        }))
      : undefined;
    if (revert) endpoint.revertNextWeightChange = false;
    for (const desired of input.DesiredWeightsAndCapacities) {
      const variant = byName.get(desired.VariantName);
      if (!variant) continue;
      if (desired.DesiredWeight !== undefined) variant.desiredWeight = desired.DesiredWeight;
      if (desired.DesiredInstanceCount !== undefined) variant.desiredInstanceCount = desired.DesiredInstanceCount;
    }
    const now = this.clock.now();
    endpoint.operation = { kind: 'weights', endsAt: now + this.timings.updateWeightsSeconds * 1000, revertTo };
    endpoint.lastModifiedTime = now;
    return { EndpointArn: endpoint.arn };
  }

  private deleteEndpoint(raw: unknown): unknown {
    const endpoint = this.requireEndpoint(this.parse(EndpointNameInput, raw).EndpointName);
    const status = this.statusOf(endpoint);
    if (IN_PROGRESS.has(status)) {
      throw validation(`Cannot delete in-progress endpoint "${endpoint.arn}".`);
    }
    const now = this.clock.now();
    endpoint.operation = { kind: 'delete', endsAt: now + this.timings.deleteEndpointSeconds * 1000 };
    endpoint.lastModifiedTime = now;
    return {};
  }

  // -------------------------------------------------------------------------------
  // State helpers.

  /** Applies every transition due by now; returns undefined once a deletion finished. */
  private settledEndpoint(name: string): EndpointRecord | undefined {
    const key = name.toLowerCase();
    const endpoint = this.endpointRecords.get(key);
    if (!endpoint) return undefined;
    const now = this.clock.now();
    if (endpoint.hold && now >= endpoint.hold.until) endpoint.hold = undefined;
    const failure = endpoint.scheduledFailure;
    const operation = endpoint.operation;
    // An operation completes unless the endpoint fails before it would have ended.
    if (operation && now >= operation.endsAt && !(failure && failure.at < operation.endsAt)) {
      endpoint.operation = undefined;
      endpoint.lastModifiedTime = operation.endsAt;
      if (!this.completeOperation(endpoint, operation)) {
        this.endpointRecords.delete(key);
        this.tags.delete(endpoint.arn);
        return undefined;
      }
    }
    if (failure && now >= failure.at) {
      endpoint.scheduledFailure = undefined;
      endpoint.operation = undefined;
      endpoint.hold = undefined;
      endpoint.settledStatus = 'Failed';
      endpoint.failureReason = failure.reason;
      endpoint.lastModifiedTime = failure.at;
    }
    return endpoint;
  }

  /** Applies the end of an operation; false when it was a deletion. */
  private completeOperation(endpoint: EndpointRecord, operation: PendingOperation): boolean {
    switch (operation.kind) {
      case 'create':
        if (operation.failure) {
          endpoint.settledStatus = 'Failed';
          endpoint.failureReason = failureReasonFor(operation.failure);
        } else {
          endpoint.settledStatus = 'InService';
          for (const variant of endpoint.variants) variant.currentInstanceCount = variant.desiredInstanceCount;
        }
        return true;
      case 'update':
        endpoint.settledStatus = 'InService';
        if (operation.failure) {
          // The failed deployment is rolled back: the endpoint keeps serving the previous
          // config. Only 'silent-revert' leaves no trace in FailureReason.
          endpoint.failureReason = operation.failure.mode === 'silent-revert' ? undefined : failureReasonFor(operation.failure);
        } else {
          endpoint.configName = operation.configName;
          endpoint.variants = operation.variants;
          endpoint.failureReason = undefined;
        }
        return true;
      case 'weights':
        endpoint.settledStatus = 'InService';
        for (const variant of endpoint.variants) {
          const previous = operation.revertTo?.find((candidate) => candidate.variantName === variant.variantName);
          if (previous) {
            // Silently reverted: the change is dropped, Desired goes back to what it was.
            variant.desiredWeight = previous.desiredWeight;
            variant.desiredInstanceCount = previous.desiredInstanceCount;
          }
          variant.currentWeight = variant.desiredWeight;
          variant.currentInstanceCount = variant.desiredInstanceCount;
        }
        return true;
      case 'delete':
        return false;
    }
  }

  private statusOf(endpoint: EndpointRecord): EndpointStatus {
    if (endpoint.hold) return endpoint.hold.status;
    switch (endpoint.operation?.kind) {
      case 'create':
        return 'Creating';
      case 'update':
      case 'weights':
        return 'Updating';
      case 'delete':
        return 'Deleting';
      case undefined:
        return endpoint.settledStatus;
    }
  }

  /** UpdateEndpoint and UpdateEndpointWeightsAndCapacities need an InService endpoint. */
  private assertUpdatable(endpoint: EndpointRecord): void {
    const status = this.statusOf(endpoint);
    if (status === 'InService') return;
    if (IN_PROGRESS.has(status)) throw validation(`Cannot update in-progress endpoint "${endpoint.arn}".`);
    throw validation(
      status === 'Failed'
        ? `Cannot update endpoint "${endpoint.arn}" because its status is Failed. DeleteEndpoint is the only operation allowed on a failed endpoint.`
        : `Cannot update endpoint "${endpoint.arn}" because its status is ${status}.`,
    );
  }

  private variantsFromConfig(config: EndpointConfigRecord, retainFrom: VariantState[] | undefined): VariantState[] {
    return config.variants.map((variant) => {
      const previous = retainFrom?.find((candidate) => candidate.variantName === variant.VariantName);
      const weight = previous ? previous.currentWeight : (variant.InitialVariantWeight ?? 1);
      const count = previous ? previous.currentInstanceCount : variant.InitialInstanceCount;
      return {
        variantName: variant.VariantName,
        modelName: variant.ModelName,
        currentWeight: weight,
        desiredWeight: weight,
        currentInstanceCount: count,
        desiredInstanceCount: count,
        instanceType: variant.InstanceType,
        serverlessConfig: variant.ServerlessConfig,
        packageArns: [...(this.modelRecords.get(variant.ModelName.toLowerCase())?.packageArns ?? [])],
      };
    });
  }

  private deploymentFailureOf(config: EndpointConfigRecord): DeploymentFailure | undefined {
    for (const variant of config.variants) {
      for (const packageArn of this.packageArnsOf(variant)) {
        const mode = this.failingPackages.get(packageArn);
        if (mode) return { variantName: variant.VariantName, instanceType: variant.InstanceType, mode };
      }
    }
    return undefined;
  }

  /** How long deploying the config takes: the default, or the slowest injected duration. */
  private deploymentSeconds(config: EndpointConfigRecord, defaultSeconds: number): number {
    const slow = config.variants.flatMap((variant) => this.packageArnsOf(variant).flatMap((arn) => this.slowPackages.get(arn) ?? []));
    return slow.length > 0 ? Math.max(...slow) : defaultSeconds;
  }

  private packageArnsOf(variant: ProductionVariantInput): string[] {
    return this.modelRecords.get(variant.ModelName.toLowerCase())?.packageArns ?? [];
  }

  /** A config an endpoint can run: it exists and all its models still exist. */
  private requireDeployableConfig(name: string): EndpointConfigRecord {
    const config = this.requireConfig(name);
    for (const variant of config.variants) this.requireModel(variant.ModelName);
    return config;
  }

  private requireModel(name: string): ModelRecord {
    const model = this.modelRecords.get(name.toLowerCase());
    if (!model) throw validation(`Could not find model "${this.arn('model', name)}".`);
    return model;
  }

  private requireConfig(name: string): EndpointConfigRecord {
    const config = this.configRecords.get(name.toLowerCase());
    if (!config) throw validation(`Could not find endpoint configuration "${this.arn('endpoint-config', name)}".`);
    return config;
  }

  private requireEndpoint(name: string): EndpointRecord {
    const endpoint = this.settledEndpoint(name);
    if (!endpoint) throw validation(`Could not find endpoint "${this.arn('endpoint', name)}".`);
    return endpoint;
  }

  private storeTags(arn: string, tags: Tag[] | undefined): void {
    if (tags && tags.length > 0)
      this.tags.set(
        arn,
        tags.map((tag) => ({ ...tag })),
      );
  }

  private parse<T>(schema: z.ZodType<T>, input: unknown): T {
    return parseInput(schema, input, validation);
  }

  private arn(resource: 'endpoint' | 'endpoint-config' | 'model', name: string): string {
    return `${this.arnPrefix()}${resource}/${name.toLowerCase()}`;
  }

  private arnPrefix(): string {
    return `arn:${partitionOf(this.region)}:sagemaker:${this.region}:${this.accountId}:`;
  }
}

function validation(message: string): SimulatedServiceError {
  return new SimulatedServiceError('ValidationException', message);
}

function assertSomeTraffic(variants: VariantState[]): void {
  if (variants.every((variant) => variant.desiredWeight === 0)) {
    throw validation('The sum of the weights of all production variants must be greater than 0.');
  }
}

function failureReasonFor(failure: DeploymentFailure): string {
  if (failure.mode === 'insufficient-capacity') {
    // First sentence as SageMaker reports it (AWS Knowledge Center "sagemaker-endpoint-creation-fail",
    // aws/deep-learning-containers#6673); the real message does not name the instance type,
    // the simulator appends it so a rehearsal report says which one.
    return `Unable to provision requested ML compute capacity due to InsufficientInstanceCapacity error. (Simulated: instance type ${failure.instanceType ?? 'serverless'}, production variant ${failure.variantName}.)`;
  }
  return `The primary container for production variant ${failure.variantName} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`;
}

function packageSnapshot(pkg: ModelPackageRecord): ModelPackageSnapshot {
  return {
    arn: pkg.arn,
    groupName: pkg.groupName,
    version: pkg.version,
    status: pkg.approvalStatus,
    creationTime: pkg.creationTime,
    lastModifiedTime: pkg.lastModifiedTime,
  };
}

/** The offset a ListModelPackages NextToken carries; a token this simulator did not issue is a ValidationException. */
function pageOffset(token: string): number {
  try {
    const offset = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown }).offset;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // reported below
  }
  throw validation('Invalid pagination token: NextToken was not issued by this operation.');
}

function epochSeconds(epochMs: number): number {
  return epochMs / 1000;
}
