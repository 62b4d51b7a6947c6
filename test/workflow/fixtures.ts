/** Targets the workflow scenarios rehearse: one per strategy. */
import type { ReleaseManagerConfigInput } from '../../lambdas/domain/config';

const role = 'arn:aws:iam::123456789012:role/sagemaker-execution';

export const WORKFLOW_CONFIG: ReleaseManagerConfigInput = {
  targets: [
    {
      name: 'canary',
      modelPackageGroupName: 'canary-models',
      endpointName: 'canary-endpoint',
      modelExecutionRoleArn: role,
      candidate: { instanceType: 'ml.m5.large', instanceCount: 2 },
      strategy: {
        type: 'canary',
        steps: [
          { weightPercent: 10, bakeSeconds: 600 },
          { weightPercent: 50, bakeSeconds: 600 },
        ],
        finalBakeSeconds: 300,
      },
      alarms: ['canary-5xx', 'canary-latency'],
    },
    {
      name: 'linear',
      modelPackageGroupName: 'linear-models',
      endpointName: 'linear-endpoint',
      modelExecutionRoleArn: role,
      candidate: { instanceType: 'ml.c5.large', instanceCount: 1 },
      strategy: { type: 'linear', stepPercent: 25, intervalSeconds: 300 },
      alarms: ['linear-5xx'],
    },
    {
      name: 'blue-green',
      modelPackageGroupName: 'blue-green-models',
      endpointName: 'blue-green-endpoint',
      modelExecutionRoleArn: role,
      candidate: { instanceType: 'ml.g5.xlarge', instanceCount: 1 },
      strategy: { type: 'all-at-once', bakeSeconds: 900 },
      alarms: ['blue-green-5xx'],
      endpointWait: { timeoutSeconds: 1800, pollSeconds: 60 },
    },
  ],
};
