/**
 * `smrm rehearse` end to end, through the real CLI in a child process: exit statuses
 * (0 as expected, 1 when a rehearsal does not end as its scenario expects, 2 for bad
 * input), the JSON output, errors on stderr that name the field, policy what-ifs and the
 * HTML report. Each run synthesizes the stack (a few seconds), so the runs are few.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** A run synthesizes the stack and rehearses in virtual time: about 3 s on a quiet machine. */
const RUN_TIMEOUT_MS = 90_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The fields of `--json` output these tests read. */
interface JsonResult {
  status: string;
  error?: string;
  expectation?: { met: boolean; failures: string[] };
  candidateVariant: string;
  series: Array<{ at: number; candidateShare?: number }>;
  markers: Array<{ kind: string; label: string }>;
  cost: { totalUsd: number; lines: unknown[] };
  mutatingCalls: Array<{ operation: string; input: unknown; error?: string }>;
}

function rehearse(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/smrm.ts', 'rehearse', ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What the run printed, for a failing expectation's message. */
function shown(run: Run): string {
  return `exit ${run.code}\nstderr:\n${run.stderr}\nstdout (start):\n${run.stdout.slice(0, 2000)}`;
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smrm-cli-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('smrm rehearse', () => {
  it(
    'It should print the JSON results of a scenario that ends as expected (rolled back) and exit 0',
    async () => {
      const run = await rehearse('--scenario', 'scenarios/error-spike-at-step-2.yaml', '--json', '--no-report');

      expect({ code: run.code, run: run.code === 0 ? '' : shown(run) }).toEqual({ code: 0, run: '' });
      const results = JSON.parse(run.stdout) as JsonResult[];
      expect(results).toHaveLength(1);
      const [result] = results;
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('ReleaseRolledBack');
      expect(result.expectation).toEqual({ met: true, failures: [] });
      expect(result.series.length).toBeGreaterThan(10);
      expect(result.series.some((point) => point.candidateShare === 50)).toBe(true);
      expect(result.cost.totalUsd).toBeGreaterThan(0);
      expect(result.cost.lines.length).toBeGreaterThan(0);
      expect(result.markers.map((marker) => marker.kind)).toEqual(expect.arrayContaining(['step', 'fault', 'alarm', 'rollback', 'end']));
      // stderr is not a terminal: no progress line.
      expect(run.stderr).not.toContain('\r');
    },
    RUN_TIMEOUT_MS,
  );

  describe('a scenario whose expectation is wrong, with --report', () => {
    let run: Run;
    let reports: string;

    beforeAll(async () => {
      // No alarm is defined, so nothing notices anything: the release is promoted, not rolled back.
      const scenario = join(dir, 'wrong-expectation.yaml');
      writeFileSync(scenario, 'name: wrong-expectation\ntarget: fraud-scoring\nexpect: { status: FAILED, error: ReleaseRolledBack, liveVersion: 1 }\n');
      reports = join(dir, 'reports');
      run = await rehearse('--scenario', scenario, '--report', reports, '--no-color');
    }, RUN_TIMEOUT_MS);

    it('It should exit 1 and name the unmet expectation on stderr', () => {
      expect({ code: run.code, run: run.code === 1 ? '' : shown(run) }).toEqual({ code: 1, run: '' });
      expect(run.stderr).toContain(
        'smrm: rehearsal wrong-expectation did not end as expected: expected status FAILED, got SUCCEEDED; expected error ReleaseRolledBack, got none; expected version 1 live, got version 2',
      );
      expect(run.stdout).toContain('EXPECTATION NOT MET');
    });

    it('It should write the HTML report, with its charts, as <dir>/<scenario name>.html', () => {
      const file = join(reports, 'wrong-expectation.html');

      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file, 'utf8')).toContain('<svg');
      // The summary points to it (relative to the working directory).
      const shownPath = /^ {2}report: (.+)$/m.exec(run.stdout)?.[1];
      expect(shownPath && resolve(ROOT, shownPath)).toBe(file);
    });
  });

  it(
    'It should rehearse a what-if policy: all at once, one weight shift to 100 %, promoted',
    async () => {
      const run = await rehearse(
        '--policy',
        '{"strategy":{"type":"all-at-once","bakeSeconds":600}}',
        '--scenario',
        'scenarios/promoted-canary.yaml',
        '--json',
        '--no-report',
      );

      expect({ code: run.code, run: run.code === 0 ? '' : shown(run) }).toEqual({ code: 0, run: '' });
      const [result] = JSON.parse(run.stdout) as JsonResult[];
      expect(result.status).toBe('SUCCEEDED');
      expect(result.expectation).toEqual({ met: true, failures: [] });
      const shifts = result.mutatingCalls
        .filter((call) => call.operation === 'UpdateEndpointWeightsAndCapacities' && call.error === undefined)
        .map((call) => (call.input as { DesiredWeightsAndCapacities: Array<{ VariantName: string; DesiredWeight: number }> }).DesiredWeightsAndCapacities);
      expect(shifts).toHaveLength(1);
      expect(shifts[0]).toContainEqual({ VariantName: result.candidateVariant, DesiredWeight: 100 });
      expect(result.markers.filter((marker) => marker.kind === 'step').map((marker) => marker.label)).toEqual(['step 1: 100 %']);
    },
    RUN_TIMEOUT_MS,
  );

  describe('bad input, exit 2', () => {
    it(
      'It should reject a scenario with an unknown fault type, naming the file and the field',
      async () => {
        const scenario = join(dir, 'unknown-fault.yaml');
        writeFileSync(scenario, 'name: unknown-fault\nfaults:\n  - { type: meteor-strike }\n');

        const run = await rehearse('--scenario', scenario, '--no-report');

        expect(run.code).toBe(2);
        expect(run.stderr.startsWith(`smrm: Invalid scenario ${scenario}`)).toBe(true);
        expect(run.stderr).toContain('faults[0].type: expected a fault type: error-spike,');
        expect(run.stdout).toBe('');
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'It should reject an unknown target, naming the known ones',
      async () => {
        const run = await rehearse('--target', 'nope', '--no-report');

        expect(run.code).toBe(2);
        expect(run.stderr).toContain("smrm: Unknown target 'nope': expected one of fraud-scoring, churn-prediction");
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'It should exit 2 on an unknown option, as for every other bad input (1 means an expectation was not met)',
      async () => {
        const run = await rehearse('--bogus');

        expect(run.code).toBe(2);
        expect(run.stderr).toContain("error: unknown option '--bogus'");
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'It should reject a policy override that makes the target invalid, naming the strategy fields',
      async () => {
        const run = await rehearse('--policy', '{"strategy":{"type":"linear"}}', '--no-report');

        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/^smrm: Invalid policy override for target fraud-scoring:/);
        expect(run.stderr).toContain('targets[0].strategy.stepPercent');
        expect(run.stderr).toContain('targets[0].strategy.intervalSeconds');
      },
      RUN_TIMEOUT_MS,
    );
  });
});
