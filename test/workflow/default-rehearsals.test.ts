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

it('It should promote the canary and roll back the release whose alarm fires at step 2, as the README says', async () => {
  const config = parseConfig(JSON.parse(readFileSync(join(__dirname, '../../config/targets.json'), 'utf8')));
  const rehearsal = Rehearsal.fromConfig(config);
  const plans = defaultRehearsals(config);
  expect(plans.map((p) => p.expect)).toEqual([{ status: 'SUCCEEDED' }, { status: 'FAILED', error: 'ReleaseRolledBack' }]);

  const promoted = await rehearsal.run(plans[0]!.scenario);
  expect(promoted.status).toBe('SUCCEEDED');
  expect(promoted.endpoint?.variants.map((v) => v.variantName)).toEqual([expect.stringMatching(/^v2-[0-9a-f]{8}$/)]);

  const rolledBack = await rehearsal.run(plans[1]!.scenario);
  expect(rolledBack.error).toBe('ReleaseRolledBack');
  expect(rolledBack.endpoint?.variants.map((v) => v.variantName)).toEqual([BASELINE_VARIANT]);

  // The printed timeline shows the shift to 50 %, the unhealthy verdict and the rollback, with virtual times.
  const printed = formatTimeline(rolledBack.timeline).join('\n');
  expect(printed).toMatch(/\d\d:\d\d:\d\d {2}Shift traffic to the next step .*shifting 50 %/);
  expect(printed).toMatch(/Check the alarms .*unhealthy/);
  expect(printed).toMatch(/Roll back to the baseline .*done/);
  expect(formatResult(rolledBack)).toMatch(/^Outcome: FAILED with ReleaseRolledBack\n {2}cause: CandidateUnhealthy: alarm /);
});
