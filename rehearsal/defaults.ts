/**
 * What `npm run rehearse` rehearses with no arguments: against the sample config, a
 * canary release that is promoted, then one whose alarm fires at the second step and
 * is rolled back. Each has the outcome it must have; a different one fails the run.
 */
import type { ReleaseManagerConfig } from '../lambdas/domain/config';
import type { ScenarioInput } from './scenario';

export interface DefaultRehearsal {
  readonly scenario: ScenarioInput;
  readonly expect: { status: 'SUCCEEDED' | 'FAILED'; error?: string };
}

export function defaultRehearsals(config: ReleaseManagerConfig): DefaultRehearsal[] {
  const canary = config.targets.find((t) => t.strategy.type === 'canary') ?? config.targets[0]!;
  const target = canary.name ?? canary.endpointName;
  const alarm = canary.alarms[0];
  const rehearsals: DefaultRehearsal[] = [
    {
      scenario: { name: 'canary-promoted', description: `A healthy ${canary.strategy.type} release on ${target} is promoted`, target },
      expect: { status: 'SUCCEEDED' },
    },
  ];
  if (alarm) {
    rehearsals.push({
      scenario: {
        name: 'alarm-at-step-2-rolled-back',
        description: `Alarm ${alarm} fires at the second step of a release on ${target}: rolled back to the baseline`,
        target,
        candidate: { version: 3 },
        faults: [{ type: 'alarm', alarm, state: 'ALARM', atStep: 2, reason: 'Rehearsal: 5XX errors above threshold' }],
      },
      expect: { status: 'FAILED', error: 'ReleaseRolledBack' },
    });
  }
  return rehearsals;
}
