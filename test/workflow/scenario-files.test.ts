/**
 * The scenario files shipped in scenarios/: each runs against the sample config through
 * the rehearsal engine and must end as its `expect` says.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../lambdas/domain/config';
import { Rehearsal, shutdownRehearsals } from '../../rehearsal/engine';
import { FAULT_TYPES, loadScenarioFile } from '../../rehearsal/scenario';

const dir = join(__dirname, '../../scenarios');
const files = readdirSync(dir)
  .filter((f) => /\.(json|ya?ml)$/.test(f))
  .sort();
const config = parseConfig(JSON.parse(readFileSync(join(__dirname, '../../config/targets.json'), 'utf8')));
let rehearsal: Rehearsal;

beforeAll(() => {
  rehearsal = Rehearsal.fromConfig(config);
});

afterAll(async () => {
  await shutdownRehearsals();
});

it('It should ship at least 10 scenario files, some promoted, using every fault of the catalogue but the forced alarm and the busy endpoint', () => {
  const scenarios = files.map((f) => loadScenarioFile(join(dir, f)));
  expect(scenarios.length).toBeGreaterThanOrEqual(10);
  expect(scenarios.every((s) => s.expect !== undefined)).toBe(true);
  expect(scenarios.filter((s) => s.expect?.status === 'SUCCEEDED').length).toBeGreaterThanOrEqual(2);
  const used = new Set(scenarios.flatMap((s) => s.faults.map((f) => f.type)));
  expect(FAULT_TYPES.filter((t) => !used.has(t))).toEqual(['endpoint-busy', 'alarm']);
  // File names are scenario names, so reports and outputs line up.
  expect(scenarios.map((s) => s.name)).toEqual(files.map((f) => f.replace(/\.(json|ya?ml)$/, '')));
});

it.each(files)('It should end %s as its expect says', async (file) => {
  const result = await rehearsal.run(loadScenarioFile(join(dir, file)));
  expect(result.expectation).toEqual({ met: true, failures: [] });
  // Every fault that was armed fired.
  expect(result.faults.filter((f) => f.firedAt === undefined)).toEqual([]);
});
