/**
 * The `smrm` command line: `rehearse` (local, no AWS account) and the operator commands
 * (status, history, release, rollback, approve, reject, recover) against a deployed
 * stack. `runCli` parses, runs and maps every outcome to an exit status: 0 done, 1 the
 * command could not do it (or a rehearsal or a waited-for execution did not end as
 * wanted), 2 bad input. Tests run it in-process with their own CommandContext.
 */
import { Command, CommanderError, Option } from 'commander';
import { InvalidConfigurationError } from '../../lambdas/domain/config';
import { CorruptLedgerItemError } from '../../lambdas/domain/errors';
import { InvalidScenarioError } from '../../rehearsal/scenario';
import { type ActionName, type ActionOptions, POLL_SECONDS_DEFAULT, runAction } from './actions';
import { type CommandContext, ENV, defaultContext } from './context';
import { CommandError, UsageError } from './errors';
import { HISTORY_LIMIT, type HistoryOptions, history } from './history';
import type { RehearseOptions } from './rehearse';
import { type StatusOptions, status } from './status';

/** Runs an operator command; its expected failures become `smrm: <one line>` and an exit status, never a stack trace. */
async function operatorCommand(ctx: CommandContext, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof UsageError || error instanceof CommandError) {
      ctx.err(`smrm: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof CorruptLedgerItemError) {
      ctx.err(`smrm: ${error.message}`);
      return 1;
    }
    const shown = ctx.env.SMRM_DEBUG
      ? ((error as Error).stack ?? String(error))
      : `${(error as Error).message ?? String(error)} (set SMRM_DEBUG=1 for the stack trace)`;
    ctx.err(`smrm: unexpected error: ${shown}`);
    return 1;
  } finally {
    ctx.close?.();
  }
}

function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('--state-machine-arn <arn>', `ARN of the release state machine (env ${ENV.stateMachineArn}; stack output StateMachineArn)`))
    .addOption(new Option('--table <name>', `ledger table name (env ${ENV.table}; stack output LedgerTableName)`))
    .addOption(new Option('--region <region>', `AWS region of the stack (env ${ENV.region}, then AWS_DEFAULT_REGION)`));
}

function withActionOptions(command: Command): Command {
  return withCommonOptions(command)
    .option('--requested-by <who>', 'who asks, recorded in the ledger (default: <os user>@<hostname>)')
    .option('--wait', 'wait until the execution ends; exit 0 if it SUCCEEDED, 1 otherwise')
    .option('--poll-seconds <seconds>', `with --wait, seconds between two DescribeExecution calls (default ${POLL_SECONDS_DEFAULT})`)
    .option('--json', 'print one JSON document');
}

export function buildProgram(ctx: CommandContext, setExitCode: (code: number) => void): Command {
  const program = new Command()
    // Usage errors exit 2, like every other bad input; 1 is kept for rehearsals that did not end as expected.
    .exitOverride()
    .configureOutput({ writeOut: (text) => ctx.out(text.replace(/\n$/, '')), writeErr: (text) => ctx.err(text.replace(/\n$/, '')) })
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
      // Loaded here: rehearsing synthesizes the CDK stack, which the operator commands do not need.
      const { rehearse, shutdownRehearsals } = await import('./rehearse');
      try {
        setExitCode(await rehearse(options));
      } finally {
        await shutdownRehearsals();
      }
    });

  withCommonOptions(program.command('status').argument('<endpoint>', 'endpoint name'))
    .description('Show the endpoint lock, the release in flight, the variants and their weights, and the last known good version')
    .option('--json', 'print one JSON document')
    .action(async (endpoint: string, options: StatusOptions) => setExitCode(await operatorCommand(ctx, () => status(ctx, endpoint, options))));

  withCommonOptions(program.command('history').argument('<endpoint>', 'endpoint name'))
    .description('List the releases of the endpoint, newest first, with their steps and verdicts')
    .option('--limit <n>', `at most this many releases, ${HISTORY_LIMIT.min} to ${HISTORY_LIMIT.max} (default ${HISTORY_LIMIT.default})`)
    .option('--json', 'print one JSON document')
    .action(async (endpoint: string, options: HistoryOptions) => setExitCode(await operatorCommand(ctx, () => history(ctx, endpoint, options))));

  const action = (name: ActionName, subject: string, description: string, extra: (command: Command) => Command = (command) => command) =>
    extra(
      withActionOptions(
        program
          .command(name)
          .argument(
            subject === 'modelPackageArn' ? '<modelPackageArn>' : '<endpoint>',
            subject === 'modelPackageArn' ? 'ARN of a versioned model package' : 'endpoint name',
          ),
      ),
    )
      .description(description)
      .action(async (value: string, options: ActionOptions) => setExitCode(await operatorCommand(ctx, () => runAction(ctx, name, value, options))));

  action('release', 'modelPackageArn', 'Start a release of a model package version to the endpoint of its group (as if it had just been approved)');
  action('rollback', 'endpoint', 'Roll back the release in flight, or re-release the last known good version when nothing is in flight', (c) =>
    c.option('--reason <text>', 'why, recorded in the ledger'),
  );
  action('approve', 'endpoint', 'Let the release waiting at the approval gate promote', (c) =>
    c
      .option('--release-id <id>', 'the release to approve, like v3-1a2b3c4d (default: the one waiting)')
      .option('--comment <text>', 'note recorded in the ledger'),
  );
  action('reject', 'endpoint', 'Roll back the release waiting at the approval gate', (c) =>
    c
      .option('--release-id <id>', 'the release to reject, like v3-1a2b3c4d (default: the one waiting)')
      .option('--reason <text>', 'why, recorded in the ledger'),
  );
  action('recover', 'endpoint', 'Restore the baseline after an interrupted release and free the endpoint lock');

  return program;
}

/** Parses `argv` (the arguments after `smrm`), runs the command and returns its exit status. */
export async function runCli(argv: readonly string[], ctx: CommandContext = defaultContext()): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(ctx, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help).
      return error.exitCode === 0 ? 0 : 2;
    }
    const known = error instanceof InvalidScenarioError || error instanceof InvalidConfigurationError;
    ctx.err(`smrm: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
    return 2;
  }
}
