#!/usr/bin/env node
/**
 * Operator CLI. `rehearse` runs the release state machine locally against the
 * SageMaker and CloudWatch simulators, with no AWS account. Later commands (status,
 * history, rollback, approve) come with the release ledger.
 */
import '../rehearsal/polyfills';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parseConfig, type ReleaseManagerConfig } from '../lambdas/domain/config';
import { defaultRehearsals, type DefaultRehearsal } from '../rehearsal/defaults';
import { Rehearsal, shutdownRehearsals, type RehearsalResult } from '../rehearsal/engine';
import { formatResult, formatTimeline } from '../rehearsal/report';
import { parseScenario } from '../rehearsal/scenario';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(resolve(path), 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`Cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

async function rehearse(options: { config: string; scenario?: string; target?: string; json?: boolean }): Promise<number> {
  const config: ReleaseManagerConfig = parseConfig(readJson(options.config, 'the targets file'), `targets file ${options.config}`);
  const rehearsals: DefaultRehearsal[] = options.scenario
    ? [
        {
          scenario: {
            ...parseScenario(readJson(options.scenario, 'the scenario'), `scenario ${options.scenario}`),
            ...(options.target ? { target: options.target } : {}),
          },
          expect: { status: 'SUCCEEDED' },
        },
      ]
    : defaultRehearsals(config, options.target);
  const rehearsal = Rehearsal.fromConfig(config);
  const results: RehearsalResult[] = [];
  let unexpected = 0;
  for (const [i, { scenario, expect }] of rehearsals.entries()) {
    if (!options.json) {
      console.log(`\nRehearsal ${i + 1}/${rehearsals.length}: ${scenario.name}${scenario.description ? ` - ${scenario.description}` : ''}`);
      console.log(`  ${'time'.padEnd(10)} ${'state'.padEnd(48)} ${'traffic'.padEnd(34)} detail`);
    }
    const result = await rehearsal.run(scenario);
    results.push(result);
    if (!options.json) {
      for (const line of formatTimeline(result.timeline)) console.log(line);
      console.log(formatResult(result));
    }
    if (!options.scenario && (result.status !== expect.status || (expect.error && result.error !== expect.error))) {
      unexpected++;
      console.error(`  UNEXPECTED: expected ${expect.status}${expect.error ? ` with ${expect.error}` : ''}`);
    }
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
  return unexpected === 0 ? 0 : 1;
}

const program = new Command()
  .name('smrm')
  .description('SageMaker Release Manager: canary, linear and blue/green releases of SageMaker endpoints with automatic rollback');

program
  .command('rehearse')
  .description('Run the release state machine locally against simulated SageMaker and CloudWatch (no AWS account needed)')
  .option('-c, --config <file>', 'targets file', 'config/targets.json')
  .option('-s, --scenario <file>', 'scenario file (JSON); without it, the default rehearsals run')
  .option('-t, --target <name>', "target to rehearse (default: the scenario's target, or the first canary target)")
  .option('--json', 'print machine-readable results')
  .action(async (options: { config: string; scenario?: string; target?: string; json?: boolean }) => {
    try {
      process.exitCode = await rehearse(options);
    } finally {
      await shutdownRehearsals();
    }
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`smrm: ${(error as Error).message}`);
  process.exitCode = 2;
});
