/**
 * What `npm run rehearse` rehearses with no arguments: against the sample config, a
 * canary release that is promoted, then one whose alarm fires at the second step and
 * is rolled back (at the only step, for an all-at-once target). Each has the outcome it must have; a different one fails the run.
 */
import type { ReleaseManagerConfig } from '../lambdas/domain/config';
import { planSteps } from '../lambdas/domain/policy';
import type { ScenarioInput } from './scenario';

export interface DefaultRehearsal {
  readonly scenario: ScenarioInput;
  readonly expect: { status: 'SUCCEEDED' | 'FAILED'; error?: string };
}

/** `target` picks the target by name; by default the first canary target (or the first target). */
export function defaultRehearsals(config: ReleaseManagerConfig, target?: string): DefaultRehearsal[] {
  const named = target === undefined ? undefined : config.targets.find((t) => (t.name ?? t.endpointName) === target);
  if (target !== undefined && !named) {
    throw new Error(`Unknown target '${target}': expected one of ${config.targets.map((t) => t.name ?? t.endpointName).join(', ')}`);
  }
  const canary = named ?? config.targets.find((t) => t.strategy.type === 'canary') ?? config.targets[0]!;
  const chosen = canary.name ?? canary.endpointName;
  const alarm = canary.alarms[0];
  const rehearsals: DefaultRehearsal[] = [
    {
      scenario: { name: 'promoted', description: `A healthy ${canary.strategy.type} release on ${chosen} is promoted`, target: chosen },
      expect: { status: 'SUCCEEDED' },
    },
  ];
  // The second step, or the only one for an all-at-once target.
  const step = Math.min(2, planSteps(canary).length);
  if (alarm) {
    rehearsals.push({
      scenario: {
        name: `alarm-at-step-${step}-rolled-back`,
        description: `Alarm ${alarm} fires at step ${step} of a release on ${chosen}: rolled back to the baseline`,
        target: chosen,
        candidate: { version: 3 },
        faults: [{ type: 'alarm', alarm, state: 'ALARM', atStep: step, reason: 'Rehearsal: 5XX errors above threshold' }],
      },
      expect: { status: 'FAILED', error: 'ReleaseRolledBack' },
    });
  }
  return rehearsals;
}
