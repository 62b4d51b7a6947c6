/** `npm run rehearse` with no arguments: the sample config's default rehearsals must end as documented. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../lambdas/domain/config';
import { defaultRehearsals } from '../../rehearsal/defaults';
import { BASELINE_VARIANT, Rehearsal, shutdownRehearsals } from '../../rehearsal/engine';
import { formatResult, formatTimeline } from '../../rehearsal/report';

afterAll(async () => {
  await shutdownRehearsals();
});

it('It should promote the canary and roll back the release whose candidate answers 5XX errors from step 2, as the README says', async () => {
  const config = parseConfig(JSON.parse(readFileSync(join(__dirname, '../../config/targets.json'), 'utf8')));
  const rehearsal = Rehearsal.fromConfig(config);
  const plans = defaultRehearsals(config);
  expect(plans.map((p) => p.expect)).toEqual([
    { status: 'SUCCEEDED', liveVersion: 2 },
    { status: 'FAILED', error: 'ReleaseRolledBack', liveVersion: 1 },
  ]);

  const promoted = await rehearsal.run(plans[0]!);
  expect(promoted.expectation).toEqual({ met: true, failures: [] });
  expect(promoted.endpoint?.variants.map((v) => v.variantName)).toEqual([expect.stringMatching(/^v2-[0-9a-f]{8}$/)]);

  const rolledBack = await rehearsal.run(plans[1]!);
  expect(rolledBack.expectation).toEqual({ met: true, failures: [] });
  expect(rolledBack.endpoint?.variants.map((v) => v.variantName)).toEqual([BASELINE_VARIANT]);

  // The printed timeline shows the shift to 50 %, the fault, the unhealthy verdict and the rollback, with virtual times.
  const printed = formatTimeline(rolledBack.timeline).join('\n');
  expect(printed).toMatch(/\d\d:\d\d:\d\d {2}Shift traffic to the next step .*shifting 50 %/);
  expect(printed).toMatch(/\* \d\d:\d\d:\d\d {2}Fault: error-spike .*25 % 5XX/);
  expect(printed).toMatch(/Check the alarms .*unhealthy .*fraud-scoring-prod-5xx-errors is in ALARM \(Threshold Crossed/);
  expect(printed).toMatch(/Roll back to the baseline .*done/);
  expect(formatResult(rolledBack)).toMatch(/^Outcome: FAILED with ReleaseRolledBack\n {2}reason: CandidateUnhealthy: alarm /);
  // The alarm was evaluated from the candidate's metrics, not forced.
  expect(rolledBack.alarms.find((a) => a.name === 'fraud-scoring-prod-5xx-errors')).toMatchObject({ watched: true, evaluated: true });
  expect(rolledBack.markers.map((m) => m.kind)).toEqual(expect.arrayContaining(['step', 'fault', 'alarm', 'rollback', 'end']));
});
