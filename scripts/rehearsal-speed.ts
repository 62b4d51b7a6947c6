/**
 * How fast is a rehearsal? Runs a three-step canary (10 %, 50 %, then 100 %) with an
 * hour of virtual bake (20 minutes per step) through the local engine, several times,
 * and prints the wall time of each phase. The synthesis of the stack is measured once
 * (it is paid once per process); the rehearsal itself is measured warm and cold.
 *
 *   npm run bench:rehearsal [-- --runs 20]
 */
import '../rehearsal/polyfills';
import { performance } from 'node:perf_hooks';
import type { ReleaseManagerConfigInput } from '../lambdas/domain/config';
import { Rehearsal, shutdownRehearsals } from '../rehearsal/engine';
import { formatDuration } from '../rehearsal/report';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const CONFIG: ReleaseManagerConfigInput = {
  targets: [
    {
      name: 'speed',
      modelPackageGroupName: 'speed-models',
      endpointName: 'speed-endpoint',
      modelExecutionRoleArn: 'arn:aws:iam::123456789012:role/speed-sagemaker-execution',
      candidate: { instanceType: 'ml.m5.large', instanceCount: 2 },
      strategy: {
        type: 'canary',
        steps: [
          { weightPercent: 10, bakeSeconds: 1200 },
          { weightPercent: 50, bakeSeconds: 1200 },
        ],
        finalBakeSeconds: 1200,
      },
      alarms: ['speed-5xx', 'speed-p99-latency'],
    },
  ],
};

const SCENARIO = {
  name: 'speed-three-step-canary',
  target: 'speed',
  traffic: { requestsPerSecond: 50 },
  alarms: {
    'speed-5xx': { metric: 'Invocation5XXErrors', statistic: 'Average', threshold: 0.05, evaluationPeriods: 3, datapointsToAlarm: 2 },
    'speed-p99-latency': { metric: 'ModelLatency', statistic: 'p99', threshold: 500_000, evaluationPeriods: 3 },
  },
  expect: { status: 'SUCCEEDED', liveVersion: 2 },
} as const;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const runsFlag = process.argv.indexOf('--runs');
  const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 10;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number >= 1, got ${process.argv[runsFlag + 1]}`);

  let t = performance.now();
  const rehearsal = Rehearsal.fromConfig(CONFIG);
  const synthMs = performance.now() - t;

  t = performance.now();
  const first = await rehearsal.run(SCENARIO);
  const coldMs = performance.now() - t;
  if (!first.expectation?.met) throw new Error(`The speed rehearsal did not end as expected: ${first.expectation?.failures.join('; ')}`);

  const walls: number[] = [];
  for (let i = 0; i < runs; i++) walls.push((await rehearsal.run(SCENARIO)).wallMilliseconds);
  walls.sort((a, b) => a - b);
  await shutdownRehearsals();

  const median = percentile(walls, 50);
  console.log('Rehearsal speed: three-step canary (10 %, 50 %, 100 %), 20 min bake per step');
  console.log(`  virtual time per release      ${formatDuration(first.virtualSeconds)} (${Math.round(first.virtualSeconds / 60)} min)`);
  console.log(
    `  per release                   ${first.usage.stateTransitions} state transitions, ${first.lambdaInvocations} Lambda invocations, ${first.sagemakerCalls} SageMaker and ${first.cloudwatchCalls} CloudWatch calls, ${first.series.length} minutes of traffic`,
  );
  console.log(`  stack synthesis (once)        ${synthMs.toFixed(0)} ms`);
  console.log(`  first rehearsal (cold)        ${coldMs.toFixed(0)} ms (starts the simulators and loads the handlers)`);
  console.log(
    `  warm rehearsal, ${runs} runs       min ${walls[0]!.toFixed(0)} ms, median ${median.toFixed(0)} ms, p90 ${percentile(walls, 90).toFixed(0)} ms, max ${walls[walls.length - 1]!.toFixed(0)} ms`,
  );
  console.log(`  speed-up over real time       ${Math.round((first.virtualSeconds * 1000) / median)}x (median)`);
}

main().catch((error: unknown) => {
  console.error(`rehearsal-speed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
