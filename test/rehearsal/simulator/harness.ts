// Test harness for the simulator suites: starts both simulators on fresh ports with a
// fresh virtual clock, and real SDK v3 clients pointed at them (no retries, so every
// injected error reaches the test).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
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
