/**
 * The release workflow's Lambda functions, one per task, with the house defaults:
 * Node.js 24 on ARM64, bundled by the local esbuild (minified, SDK v3 bundled, source
 * maps), X-Ray tracing, and an explicit log group with retention. The functions that
 * resolve a target (TARGETS_FILE_USERS) get the validated targets as a file in their
 * bundle, so the configuration can grow without touching the 4 KB Lambda environment
 * limit. Each function gets only the environment variables of what it uses: the ledger
 * table, the event bus, the state machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ReleaseManagerConfig } from '../lambdas/domain/config';

export const HANDLER_NAMES = [
  'start-release',
  'take-lock',
  'plan-release',
  'create-candidate',
  'deploy-candidate',
  'check-endpoint',
  'shift-traffic',
  'evaluate-alarms',
  'promote-candidate',
  'finish-promotion',
  'roll-back',
  'record-outcome',
  'request-approval',
  'operator-action',
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** The functions that resolve a target and so get targets.json next to their code. */
export const TARGETS_FILE_USERS: readonly HandlerName[] = ['plan-release', 'take-lock', 'operator-action'];
/** The functions that read or write the ledger (LEDGER_TABLE_NAME). */
export const LEDGER_USERS: readonly HandlerName[] = [
  'take-lock',
  'plan-release',
  // The tasks that change the endpoint first check that their execution still holds the lock.
  'deploy-candidate',
  'promote-candidate',
  'roll-back',
  'check-endpoint',
  'shift-traffic',
  'evaluate-alarms',
  'record-outcome',
  'request-approval',
  'operator-action',
];
/** The functions that put lifecycle events (EVENT_BUS_NAME); take-lock emits "Release Recovered". */
export const EVENT_EMITTERS: readonly HandlerName[] = ['take-lock', 'plan-release', 'evaluate-alarms', 'record-outcome', 'request-approval'];
/** The functions that start executions (STATE_MACHINE_ARN). */
export const EXECUTION_STARTERS: readonly HandlerName[] = ['start-release'];

export interface ReleaseFunctionsProps {
  readonly config: ReleaseManagerConfig;
  /** LEDGER_TABLE_NAME of the LEDGER_USERS. */
  readonly ledgerTableName: string;
  /** STATE_MACHINE_ARN of the EXECUTION_STARTERS; built from the state machine's name, not a token of it (no dependency cycle). */
  readonly stateMachineArn: string;
  /** EVENT_BUS_NAME of the EVENT_EMITTERS. @default 'default' */
  readonly eventBusName?: string;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN, so logs outlive the stack for audits */
  readonly logRemovalPolicy?: RemovalPolicy;
}

const HANDLERS_DIR = join(__dirname, '..', 'lambdas', 'handlers');
const PROJECT_ROOT = join(__dirname, '..');

export class ReleaseFunctions extends Construct {
  public readonly functions: Readonly<Record<HandlerName, NodejsFunction>>;

  constructor(scope: Construct, id: string, props: ReleaseFunctionsProps) {
    super(scope, id);
    const targetsDir = mkdtempSync(join(tmpdir(), 'smrm-targets-'));
    writeFileSync(join(targetsDir, 'targets.json'), JSON.stringify(props.config));

    const functions = {} as Record<HandlerName, NodejsFunction>;
    for (const name of HANDLER_NAMES) {
      const logGroup = new LogGroup(this, `${name}-logs`, {
        retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
        removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      });
      const fn = new NodejsFunction(this, name, {
        entry: join(HANDLERS_DIR, `${name}.ts`),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
        runtime: Runtime.NODEJS_24_X,
        architecture: Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(60),
        tracing: Tracing.ACTIVE,
        logGroup,
        description: `SageMaker Release Manager: ${name}`,
        environment: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'sagemaker-release-manager',
          ...(LEDGER_USERS.includes(name) ? { LEDGER_TABLE_NAME: props.ledgerTableName } : {}),
          ...(EVENT_EMITTERS.includes(name) ? { EVENT_BUS_NAME: props.eventBusName ?? 'default' } : {}),
          ...(EXECUTION_STARTERS.includes(name) ? { STATE_MACHINE_ARN: props.stateMachineArn } : {}),
        },
        bundling: {
          forceDockerBundling: false,
          minify: true,
          sourceMap: true,
          target: 'node24',
          format: OutputFormat.CJS,
          // Bundle the SDK v3 clients: a pinned, tested version instead of the runtime's.
          externalModules: [],
          ...(TARGETS_FILE_USERS.includes(name)
            ? {
                commandHooks: {
                  beforeBundling: () => [],
                  beforeInstall: () => [],
                  afterBundling: (_inputDir: string, outputDir: string) => [`cp "${join(targetsDir, 'targets.json')}" "${join(outputDir, 'targets.json')}"`],
                },
              }
            : {}),
        },
      });
      functions[name] = fn;
    }
    // Bundling ran while the functions were constructed; the staged file is no longer needed.
    rmSync(targetsDir, { recursive: true, force: true });
    this.functions = functions;
  }
}
