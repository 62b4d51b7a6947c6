/**
 * `smrm rehearse`: runs the release state machine locally against simulated SageMaker
 * (control and data plane) and CloudWatch (metrics and alarms), with no AWS account.
 * Loaded only when `rehearse` runs: it synthesizes the CDK stack, which the operator
 * commands do not need.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseConfig, type ReleaseManagerConfig } from '../../lambdas/domain/config';
import { planSteps } from '../../lambdas/domain/policy';
import { renderTerminalChart } from '../../rehearsal/chart';
import { defaultRehearsals } from '../../rehearsal/defaults';
import { Rehearsal, shutdownRehearsals, type RehearsalResult } from '../../rehearsal/engine';
import { renderHtmlReport } from '../../rehearsal/html-report';
import { ProgressLine } from '../../rehearsal/progress';
import { formatResult, formatTimeline, reportInputOf } from '../../rehearsal/report';
import { InvalidScenarioError, PolicyOverrideSchema, loadScenarioFile, readStructuredFile, type ScenarioInput } from '../../rehearsal/scenario';

export { shutdownRehearsals };

export interface RehearseOptions {
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

export async function rehearse(options: RehearseOptions): Promise<number> {
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
