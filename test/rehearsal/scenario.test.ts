/** Scenario files: what they may say, and the errors a wrong one gets (naming the field). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULT_TYPES, InvalidScenarioError, loadScenarioFile, parseScenario } from '../../rehearsal/scenario';

const dir = mkdtempSync(join(tmpdir(), 'smrm-scenario-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('parsing', () => {
  it('It should fill in the documented defaults for a scenario with only a name', () => {
    const scenario = parseScenario({ name: 'minimal' });
    expect(scenario).toMatchObject({
      baselineVersion: 1,
      candidate: { version: 2, status: 'Approved' },
      start: 'event',
      traffic: { requestsPerSecond: 20, seed: 1, baseline: { errorRate5xx: 0.0005, errorRate4xx: 0.002, latencyMs: { p50: 40, p99: 150 } }, candidate: {} },
      alarms: {},
      faults: [],
    });
    expect(scenario.expect).toBeUndefined();
  });

  it('It should read the same scenario from YAML and from JSON', () => {
    const yaml = file('s.yaml', 'name: same\nfaults:\n  - { type: error-spike, atStep: 2 }\n');
    const json = file('s.json', JSON.stringify({ name: 'same', faults: [{ type: 'error-spike', atStep: 2 }] }));
    expect(loadScenarioFile(yaml)).toEqual(loadScenarioFile(json));
    expect(loadScenarioFile(yaml).faults[0]).toEqual({ type: 'error-spike', version: 'candidate', errorRate5xx: 0.25, atStep: 2 });
  });

  it('It should accept every fault type of the catalogue', () => {
    const faults = [
      { type: 'error-spike' },
      { type: 'latency-regression', factor: 2 },
      { type: 'candidate-never-healthy' },
      { type: 'insufficient-capacity' },
      { type: 'throttling-burst', operations: ['DescribeEndpoint'], times: 2 },
      { type: 'endpoint-stuck-updating', forSeconds: 3600 },
      { type: 'endpoint-failed', atStep: 1 },
      { type: 'endpoint-busy', forSeconds: 60 },
      { type: 'missing-alarm', alarm: 'a' },
      { type: 'no-traffic-to-candidate' },
      { type: 'silent-revert' },
      { type: 'alarm', alarm: 'a' },
    ];
    expect(parseScenario({ name: 'all', faults }).faults.map((f) => f.type)).toEqual([...FAULT_TYPES]);
  });
});

describe('errors name the field', () => {
  it.each([
    [{ name: 'x', faults: [{ type: 'meteor-strike' }] }, /faults\[0\].*expected a fault type: error-spike, latency-regression/],
    [{ name: 'x', faults: [{ type: 'error-spike', errorRate5xx: 1.5 }] }, /faults\[0\]\.errorRate5xx: expected a rate <= 1/],
    [{ name: 'x', faults: [{ type: 'error-spike', atStep: 0 }] }, /faults\[0\]\.atStep: expected a step number >= 1/],
    [{ name: 'x', traffic: { baseline: { latencyMs: { p50: 100, p99: 50 } } } }, /traffic\.baseline\.latencyMs\.p99: expected p99 >= p50/],
    [{ name: 'x', traffic: { requestsPerSecond: -1 } }, /traffic\.requestsPerSecond: expected requests per second >= 0/],
    [{ name: 'x', alarms: { a: { metric: 'CPUUtilization', threshold: 1 } } }, /alarms\.a\.metric: expected one of Invocations, /],
    [
      { name: 'x', alarms: { a: { metric: 'ModelLatency', statistic: 'median', threshold: 1 } } },
      /alarms\.a\.statistic: expected Average, Sum, .* percentile like p99/,
    ],
    [{ name: 'x', alarms: { a: { metric: 'Invocations', threshold: 1, periodSeconds: 90 } } }, /alarms\.a\.periodSeconds: expected a multiple of 60 seconds/],
    [
      { name: 'x', alarms: { a: { metric: 'Invocations', threshold: 1, evaluationPeriods: 2, datapointsToAlarm: 3 } } },
      /alarms\.a\.datapointsToAlarm: expected datapointsToAlarm <= evaluationPeriods/,
    ],
    [
      { name: 'x', alarms: { a: { metric: 'Invocations', threshold: 1, periodSeconds: 3600, evaluationPeriods: 25 } } },
      /alarms\.a\.evaluationPeriods: expected periodSeconds x evaluationPeriods <= 86400/,
    ],
    [{ name: 'x', surprise: true }, /surprise/],
    [{ name: 'has spaces' }, /name: expected a name of 1-80 letters/],
    [{ name: 'x', expect: { status: 'MAYBE' } }, /expect\.status/],
  ])('It should reject %j', (document, message) => {
    const error = errorOf(() => parseScenario(document, 'scenario test'));
    expect(error).toBeInstanceOf(InvalidScenarioError);
    expect(error.message).toMatch(/^Invalid scenario test:/);
    expect(error.message).toMatch(message);
  });

  it('It should reject a fault with both atStep and afterSeconds', () => {
    expect(errorOf(() => parseScenario({ name: 'x', faults: [{ type: 'error-spike', atStep: 1, afterSeconds: 60 }] })).message).toMatch(
      /faults\[0\]: expected either atStep or afterSeconds, not both/,
    );
  });

  it('It should reject a latency regression with both factor and latencyMs', () => {
    expect(errorOf(() => parseScenario({ name: 'x', faults: [{ type: 'latency-regression', factor: 2, latencyMs: { p50: 1, p99: 2 } }] })).message).toMatch(
      /faults\[0\]: expected either factor or latencyMs, not both/,
    );
  });

  it('It should name the file, line and column of a YAML syntax error', () => {
    const path = file('broken.yaml', 'name: broken\nfaults:\n  - { type: error-spike\n');
    expect(errorOf(() => loadScenarioFile(path)).message).toMatch(
      new RegExp(`^Cannot parse scenario ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(line \\d+, column \\d+\\)`),
    );
  });

  it('It should name the file of an invalid scenario and refuse other extensions', () => {
    const path = file('bad.json', JSON.stringify({ name: 'bad', baselineVersion: 0 }));
    expect(errorOf(() => loadScenarioFile(path)).message).toMatch(/^Invalid scenario .*bad\.json:\n {2}baselineVersion/);
    expect(errorOf(() => loadScenarioFile(file('s.txt', 'name: x'))).message).toMatch(/expected a \.json, \.yaml or \.yml file/);
    expect(errorOf(() => loadScenarioFile(join(dir, 'absent.yaml'))).message).toMatch(/^Cannot read scenario .*absent\.yaml/);
  });
});
