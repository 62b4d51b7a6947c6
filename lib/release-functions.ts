/**
 * The release workflow's Lambda functions, one per task, with the house defaults:
 * Node.js 24 on ARM64, bundled by the local esbuild (minified, SDK v3 bundled, source
 * maps), X-Ray tracing, and an explicit log group with retention. The plan function
 * gets the validated targets as a file in its bundle, so the configuration can grow
 * without touching the 4 KB Lambda environment limit.
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
  'plan-release',
  'create-candidate',
  'deploy-candidate',
  'check-endpoint',
  'shift-traffic',
  'evaluate-alarms',
  'promote-candidate',
  'finish-promotion',
  'roll-back',
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

export interface ReleaseFunctionsProps {
  readonly config: ReleaseManagerConfig;
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
        },
        bundling: {
          forceDockerBundling: false,
          minify: true,
          sourceMap: true,
          target: 'node24',
          format: OutputFormat.CJS,
          // Bundle the SDK v3 clients: a pinned, tested version instead of the runtime's.
          externalModules: [],
          ...(name === 'plan-release'
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
