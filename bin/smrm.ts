#!/usr/bin/env node
/**
 * Operator CLI. `rehearse` runs the release state machine locally against simulated
 * SageMaker (control and data plane) and CloudWatch (metrics and alarms), with no AWS
 * account. `status`, `history`, `release`, `rollback`, `approve`, `reject` and `recover`
 * work on a deployed stack: they read the ledger and the endpoint, and start executions
 * of the release state machine with the documented input (docs/cli.md).
 * The commands live in bin/commands/.
 */
import '../rehearsal/polyfills';
import { runCli } from './commands/program';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`smrm: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 2;
  },
);
