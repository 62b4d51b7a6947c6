#!/usr/bin/env node
/**
 * Operator CLI. `rehearse` runs the release state machine locally against simulated
 * SageMaker (control and data plane) and CloudWatch (metrics and alarms), with no AWS
 * account. Later commands (status, history, rollback, approve) come with the ledger.
 */
import '../rehearsal/polyfills';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { InvalidConfigurationError, parseConfig, type ReleaseManagerConfig } from '../lambdas/domain/config';
import { planSteps } from '../lambdas/domain/policy';
import { renderTerminalChart } from '../rehearsal/chart';
import { defaultRehearsals } from '../rehearsal/defaults';
import { Rehearsal, shutdownRehearsals, type RehearsalResult } from '../rehearsal/engine';
import { renderHtmlReport } from '../rehearsal/html-report';
import { ProgressLine } from '../rehearsal/progress';
import { formatResult, formatTimeline, reportInputOf } from '../rehearsal/report';
import { InvalidScenarioError, PolicyOverrideSchema, loadScenarioFile, readStructuredFile, type ScenarioInput } from '../rehearsal/scenario';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

interface RehearseOptions {
  config: string;
  scenario?: string[];
  target?: string;
  policy?: string;
  json?: boolean;
  report: string | false;
  chart: boolean;
  color: boolean;
}

/** `--policy` is a JSON/YAML file, or inline JSON. */
function readPolicy(value: string): ScenarioInput['policy'] {
  const document = value.trim().startsWith('{') ? parseInline(value) : readStructuredFile(resolve(value), 'policy file');
  const result = PolicyOverrideSchema.safeParse(document);
  if (!result.success) {
    throw new InvalidScenarioError(
      `Invalid --policy: expected an object with any of ${Object.keys(PolicyOverrideSchema.shape).join(', ')}; ${result.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return result.data;
}

function parseInline(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidScenarioError(`Invalid --policy: not valid JSON (${(error as Error).message})`);
  }
}

async function rehearse(options: RehearseOptions): Promise<number> {
  const config: ReleaseManagerConfig = parseConfig(readStructuredFile(resolve(options.config), 'targets file'), `targets file ${options.config}`);
  const policy = options.policy ? readPolicy(options.policy) : undefined;
  const scenarios: ScenarioInput[] = (
    options.scenario?.length ? options.scenario.map((file) => loadScenarioFile(file)) : defaultRehearsals(config, options.target)
  ).map((scenario) => ({
    ...scenario,
    ...(options.target ? { target: options.target } : {}),
    ...(policy ? { policy: { ...scenario.policy, ...policy } } : {}),
  }));
  const rehearsal = Rehearsal.fromConfig(config);
  const results: Array<RehearsalResult & { reportFile?: string }> = [];
  const color = options.color && process.stdout.isTTY === true && !process.env.NO_COLOR;
  for (const [i, scenario] of scenarios.entries()) {
    const label = `[${i + 1}/${scenarios.length}] ${scenario.name}`;
    const target = rehearsal.targetOf(scenario);
    // The progress line goes to standard error, on a terminal only; never with --json.
    const progress = options.json ? undefined : new ProgressLine(process.stderr, label, planSteps(target).length);
    const outcome = await rehearsal.run(scenario, { onEntry: (entry) => progress?.update(entry) });
    progress?.done();
    let reportFile: string | undefined;
    if (options.report !== false) {
      mkdirSync(resolve(options.report), { recursive: true });
      reportFile = join(resolve(options.report), `${outcome.scenario.name}.html`);
      writeFileSync(reportFile, renderHtmlReport(reportInputOf(outcome)));
    }
    const result: RehearsalResult & { reportFile?: string } = reportFile
      ? { ...outcome, reportFile: relative(process.cwd(), reportFile) || reportFile }
      : outcome;
    results.push(result);
    if (options.json) continue;
    console.log(`\nRehearsal ${label}${scenario.description ? ` - ${scenario.description}` : ''} (target ${result.target})`);
    console.log(`  ${'time'.padEnd(10)} ${'state'.padEnd(48)} ${'traffic'.padEnd(34)} detail`);
    for (const line of formatTimeline(result.timeline)) console.log(line);
    if (options.chart) {
      console.log('');
      for (const line of renderTerminalChart(result.series, result.markers, { color })) console.log(`  ${line}`);
    }
    console.log('');
    console.log(formatResult(result));
    if (result.reportFile) console.log(`  report: ${result.reportFile}`);
  }
  if (options.json) {
    console.log(
      JSON.stringify(
        results.map(({ timeline, ...rest }) => ({ ...rest, timeline: timeline.map(({ output: _o, ...entry }) => entry) })),
        null,
        2,
      ),
    );
  }
  const unmet = results.filter((r) => r.expectation && !r.expectation.met);
  for (const r of unmet) console.error(`smrm: rehearsal ${r.scenario.name} did not end as expected: ${r.expectation?.failures.join('; ')}`);
  return unmet.length === 0 ? 0 : 1;
}

const program = new Command()
  // Usage errors exit 2, like every other bad input; 1 is kept for rehearsals that did not end as expected.
  .exitOverride()
  .name('smrm')
  .description('SageMaker Release Manager: canary, linear and blue/green releases of SageMaker endpoints with automatic rollback');

program
  .command('rehearse')
  .description('Run the release state machine locally against simulated SageMaker and CloudWatch (no AWS account needed)')
  .option('-c, --config <file>', 'targets file (JSON or YAML)', 'config/targets.json')
  .option('-s, --scenario <file...>', 'scenario file(s), JSON or YAML; without it, the default rehearsals run')
  .option('-t, --target <name>', "target to rehearse (default: the scenario's target, or the first canary target)")
  .option('-p, --policy <json-or-file>', 'override the target policy for a what-if, e.g. \'{"strategy":{"type":"all-at-once","bakeSeconds":600}}\'')
  .option('--json', 'print machine-readable results instead of the timeline')
  .option('--report <dir>', 'directory for the HTML reports (one per rehearsal)', 'rehearsal-reports')
  .option('--no-report', 'do not write HTML reports')
  .option('--no-chart', 'do not print the terminal chart')
  .option('--no-color', 'no colours in the terminal chart')
  .action(async (options: RehearseOptions) => {
    try {
      process.exitCode = await rehearse(options);
    } finally {
      await shutdownRehearsals();
    }
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has printed the message (or the help).
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  const known = error instanceof InvalidScenarioError || error instanceof InvalidConfigurationError;
  console.error(`smrm: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  process.exitCode = 2;
});
