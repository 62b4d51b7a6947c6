/**
 * cdk-nag AwsSolutions checks on the production stack. cdk-nag 3 runs as an
 * aws-cdk-lib validation plugin: during `app.synth()` it reports every finding that is
 * not acknowledged with `Validations.of(scope).acknowledge()`. Under jest
 * (NODE_ENV=test, "inmemory" app mode) a report with findings makes synth throw, and
 * the report is written to `validation-report.json` in the cloud assembly either way.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { build, ENV, type StackOptions } from './fixtures';

/** The parts of aws-cdk-lib's validation-report.json these tests read. */
interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly pluginName: string;
    readonly violations: ReadonlyArray<{ readonly ruleName: string; readonly violatingConstructs: ReadonlyArray<{ readonly constructPath?: string }> }>;
  }>;
}

describe.each<[string, StackOptions]>([
  ['the default stack', {}],
  [
    'a stack with a customer managed ledger key and a notification topic',
    {
      ledgerKeyArn: `arn:aws:kms:${ENV.region}:${ENV.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      notificationTopicArn: `arn:aws:sns:${ENV.region}:${ENV.account}:release-notifications`,
    },
  ],
])('cdk-nag AwsSolutions checks on %s', (_what, options) => {
  let outdir: string;
  let synthError: unknown;
  let report: ValidationReport;
  let checksRun: number;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'smrm-nag-'));
    const { app } = build(undefined, { outdir }, options);
    const checks = new AwsSolutionsChecks(app);
    // Counts the plugin's runs, so an empty report cannot come from checks that never ran.
    const validate = jest.spyOn(checks, 'validate');
    Validations.of(app).addPlugins(checks);
    try {
      app.synth();
    } catch (error) {
      synthError = error;
    }
    checksRun = validate.mock.calls.length;
    report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('It should run the AwsSolutions checks during synth', () => {
    expect(checksRun).toBe(1);
  });

  it('It should report no unacknowledged AwsSolutions finding', () => {
    const findings = report.pluginReports
      .filter((plugin) => plugin.pluginName.startsWith('AwsSolutions'))
      .flatMap((plugin) => plugin.violations)
      .flatMap((violation) => violation.violatingConstructs.map((c) => `${violation.ruleName} at ${c.constructPath ?? '?'}`));
    expect(findings).toEqual([]);
  });

  it('It should synthesize with the AwsSolutions checks on', () => {
    expect(synthError).toBeUndefined();
  });
});
