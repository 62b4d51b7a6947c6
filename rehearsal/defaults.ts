/**
 * What `npm run rehearse` rehearses with no scenario: against the target (by default the
 * first canary target), a healthy release that must be promoted, then one whose
 * candidate starts answering 25 % 5XX errors at the second step (the only step of an
 * all-at-once target) and must be rolled back because an alarm notices it.
 *
 * The targets file names alarms but not how they are defined, so the defaults assume
 * the target's first alarm watches the candidate variant's 5XX error rate:
 * Average of Invocation5XXErrors above 5 % in 2 of 3 one-minute periods. To rehearse
 * the real definitions, write a scenario (docs/rehearsal.md).
 */
import type { ReleaseManagerConfig } from '../lambdas/domain/config';
import { planSteps } from '../lambdas/domain/policy';
import { InvalidScenarioError, type AlarmDefinition, type ScenarioInput } from './scenario';

export const DEFAULT_ERROR_RATE_ALARM: AlarmDefinition = {
  metric: 'Invocation5XXErrors',
  variant: 'candidate',
  statistic: 'Average',
  comparison: 'GreaterThanThreshold',
  threshold: 0.05,
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  treatMissingData: 'notBreaching',
};

/** `target` picks the target by name; by default the first canary target (or the first target). */
export function defaultRehearsals(config: ReleaseManagerConfig, target?: string): ScenarioInput[] {
  const named = target === undefined ? undefined : config.targets.find((t) => (t.name ?? t.endpointName) === target);
  if (target !== undefined && !named) {
    throw new InvalidScenarioError(`Unknown target '${target}': expected one of ${config.targets.map((t) => t.name ?? t.endpointName).join(', ')}`);
  }
  const chosen = named ?? config.targets.find((t) => t.strategy.type === 'canary') ?? config.targets[0]!;
  const name = chosen.name ?? chosen.endpointName;
  const alarm = chosen.alarms[0];
  const alarms = alarm ? { [alarm]: DEFAULT_ERROR_RATE_ALARM } : {};
  const rehearsals: ScenarioInput[] = [
    {
      name: 'promoted',
      description: `A healthy ${chosen.strategy.type} release of version 2 on ${name} is promoted`,
      target: name,
      alarms,
      expect: { status: 'SUCCEEDED', liveVersion: 2 },
    },
  ];
  // The second step, or the only one for an all-at-once target.
  const step = Math.min(2, planSteps(chosen).length);
  if (alarm) {
    rehearsals.push({
      name: `error-spike-at-step-${step}-rolled-back`,
      description: `Version 3 answers 25 % 5XX errors from step ${step}; alarm ${alarm} notices and the release is rolled back to version 1`,
      target: name,
      candidate: { version: 3 },
      alarms,
      faults: [{ type: 'error-spike', errorRate5xx: 0.25, atStep: step }],
      expect: { status: 'FAILED', error: 'ReleaseRolledBack', liveVersion: 1 },
    });
  }
  return rehearsals;
}
