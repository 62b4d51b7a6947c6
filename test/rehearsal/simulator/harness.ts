// Test harness for the simulator suites: starts both simulators on fresh ports with a
// fresh virtual clock, and real SDK v3 clients pointed at them (no retries, so every
// injected error reaches the test).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateEndpointConfigCommand, CreateModelCommand, SageMakerClient, type ProductionVariantInstanceType } from '@aws-sdk/client-sagemaker';
import { VirtualClock } from '../../../rehearsal/clock';
import { startSimulators, type RunningSimulators, type Timings } from '../../../rehearsal/simulator';

export interface Harness {
  clock: VirtualClock;
  simulators: RunningSimulators;
  sagemaker: SageMakerClient;
  cloudwatch: CloudWatchClient;
  close(): Promise<void>;
}

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/sagemaker-execution`;

export async function startHarness(timings?: Partial<Timings>): Promise<Harness> {
  const clock = new VirtualClock();
  const simulators = await startSimulators({ clock, timings });
  const sagemaker = new SageMakerClient({ endpoint: simulators.urls.sagemaker, region: REGION, maxAttempts: 1 });
  const cloudwatch = new CloudWatchClient({ endpoint: simulators.urls.cloudwatch, region: REGION, maxAttempts: 1 });
  return {
    clock,
    simulators,
    sagemaker,
    cloudwatch,
    close: async () => {
      sagemaker.destroy();
      cloudwatch.destroy();
      await simulators.close();
    },
  };
}

export interface CaughtServiceError extends Error {
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<CaughtServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`Rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('Expected the call to be rejected, but it succeeded');
}

export const arnOf = {
  endpoint: (name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/${name.toLowerCase()}`,
  endpointConfig: (name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint-config/${name.toLowerCase()}`,
  model: (name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model/${name.toLowerCase()}`,
};

export interface CanaryConfigOptions {
  /** Instances of the blue (baseline) variant, on the endpoint and in the canary config. @default 1 */
  readonly blueInstanceCount?: number;
  /** Instance type of the green (candidate) variant. @default 'ml.m5.large' */
  readonly greenInstanceType?: ProductionVariantInstanceType;
}

/**
 * Seeds endpoint `ep` (variant blue on package fraud/1, ml.m5.large) and creates, through
 * the SDK, model `ep-green` on package fraud/2 and config `ep-config-canary`: blue 0.9,
 * green 0.1.
 */
export async function endpointWithCanaryConfig(h: Harness, options: CanaryConfigOptions = {}): Promise<{ v1: string; v2: string }> {
  const blueCount = options.blueInstanceCount ?? 1;
  const sim = h.simulators.sagemaker;
  const v1 = sim.putModelPackage({ groupName: 'fraud', version: 1 });
  const v2 = sim.putModelPackage({ groupName: 'fraud', version: 2 });
  sim.putEndpoint({
    name: 'ep',
    variants: [{ variantName: 'blue', modelPackageArn: v1, instanceType: 'ml.m5.large', instanceCount: blueCount, weight: 1 }],
  });
  await h.sagemaker.send(new CreateModelCommand({ ModelName: 'ep-green', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { ModelPackageName: v2 } }));
  await h.sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: 'ep-config-canary',
      ProductionVariants: [
        { VariantName: 'blue', ModelName: 'ep-blue', InstanceType: 'ml.m5.large', InitialInstanceCount: blueCount, InitialVariantWeight: 0.9 },
        {
          VariantName: 'green',
          ModelName: 'ep-green',
          InstanceType: options.greenInstanceType ?? 'ml.m5.large',
          InitialInstanceCount: 1,
          InitialVariantWeight: 0.1,
        },
      ],
    }),
  );
  return { v1, v2 };
}
