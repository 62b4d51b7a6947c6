/**
 * What every operator command runs with: where output goes, the clock, randomness, who
 * the operator is, and the AWS clients. The CLI builds the real one; tests build one
 * with captured output, a fixed clock and clients pointed at dynalite or mocked.
 * Also: the common options (state machine ARN, ledger table, region) and their
 * environment variables.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Ledger } from '../../lambdas/aws/ledger';
import { type AwsService, UsageError } from './errors';

export interface AwsClients {
  readonly sfn: SFNClient;
  readonly sagemaker: SageMakerClient;
  readonly dynamo: DynamoDBDocumentClient;
}

export interface ClientSettings {
  /** Region of the ledger table and the endpoint. */
  readonly region: string;
  /** Region of the state machine (the one in its ARN), else `region`. */
  readonly sfnRegion: string;
}

export interface CommandContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
  now(): Date;
  /** `chars` random lowercase hex digits. */
  randomHex(chars: number): string;
  sleep(ms: number): Promise<void>;
  /** The default requestedBy: `<os user>@<hostname>`. */
  operator(): string;
  /** The AWS clients for these settings; called only once the input is valid. */
  clients(settings: ClientSettings): AwsClients;
  /** Frees what `clients` made. */
  close?(): void;
}

/** The real context: process output, the system clock, SDK v3 clients (AWS_ENDPOINT_URL_* and AWS_MAX_ATTEMPTS apply). */
export function defaultContext(): CommandContext {
  const made: Array<{ destroy(): void }> = [];
  return {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    now: () => new Date(),
    randomHex: (chars) =>
      randomBytes(Math.ceil(chars / 2))
        .toString('hex')
        .slice(0, chars),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    operator: defaultOperator,
    clients(settings) {
      const raw = new DynamoDBClient({ region: settings.region });
      const clients = {
        sfn: new SFNClient({ region: settings.sfnRegion }),
        sagemaker: new SageMakerClient({ region: settings.region }),
        dynamo: DynamoDBDocumentClient.from(raw),
      };
      made.push(clients.sfn, clients.sagemaker, clients.dynamo, raw);
      return clients;
    },
    close() {
      for (const client of made.splice(0)) client.destroy();
    },
  };
}

function defaultOperator(): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  user ||= process.env.USER || process.env.USERNAME || 'unknown';
  return `${user}@${hostname() || 'localhost'}`;
}

// ---- common options --------------------------------------------------------------------

/** `--state-machine-arn`, `--table`, `--region` as given on the command line. */
export interface CommonOptions {
  stateMachineArn?: string;
  table?: string;
  region?: string;
}

export interface Settings extends ClientSettings {
  readonly stateMachineArn?: string;
  readonly tableName?: string;
}

export const ENV = {
  stateMachineArn: 'SMRM_STATE_MACHINE_ARN',
  table: 'SMRM_LEDGER_TABLE',
  region: 'AWS_REGION',
} as const;

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
const REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d{1,2}$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

const pick = (option: string | undefined, env: string | undefined): string | undefined => option?.trim() || env?.trim() || undefined;

/**
 * The settings a command needs, from its options, else their environment variables.
 * A missing or malformed one is a UsageError naming the option, the variable and where
 * the value comes from. The region falls back to AWS_DEFAULT_REGION, then to the
 * region in the state machine ARN.
 */
export function resolveSettings(ctx: CommandContext, options: CommonOptions, needs: { stateMachine?: boolean; table?: boolean }): Settings {
  const stateMachineArn = pick(options.stateMachineArn, ctx.env[ENV.stateMachineArn]);
  if (needs.stateMachine && !stateMachineArn) {
    throw new UsageError(
      `Missing the state machine ARN: pass --state-machine-arn or set ${ENV.stateMachineArn}. It is the StateMachineArn output of \`cdk deploy\` (aws cloudformation describe-stacks --stack-name SageMakerReleaseManager).`,
    );
  }
  const arnRegion = stateMachineArn ? STATE_MACHINE_ARN.exec(stateMachineArn)?.[1] : undefined;
  if (needs.stateMachine && stateMachineArn && !arnRegion) {
    throw new UsageError(
      `Invalid --state-machine-arn (or ${ENV.stateMachineArn}) "${stateMachineArn}": expected arn:aws:states:<region>:<account>:stateMachine:<name>, the StateMachineArn output of \`cdk deploy\``,
    );
  }
  const tableName = pick(options.table, ctx.env[ENV.table]);
  if (needs.table && !tableName) {
    throw new UsageError(
      `Missing the ledger table: pass --table or set ${ENV.table}. It is the LedgerTableName output of \`cdk deploy\` (aws cloudformation describe-stacks --stack-name SageMakerReleaseManager).`,
    );
  }
  if (needs.table && tableName && !TABLE_NAME.test(tableName)) {
    throw new UsageError(
      `Invalid --table (or ${ENV.table}) "${tableName}": expected a DynamoDB table name (3-255 letters, digits, _ . -), the LedgerTableName output of \`cdk deploy\``,
    );
  }
  const region = pick(options.region, ctx.env[ENV.region]) ?? ctx.env.AWS_DEFAULT_REGION?.trim() ?? arnRegion;
  if (!region) {
    throw new UsageError(`Missing the AWS region: pass --region or set ${ENV.region} to the region the stack was deployed to (\`cdk deploy\`).`);
  }
  if (!REGION.test(region)) throw new UsageError(`Invalid --region (or ${ENV.region}) "${region}": expected an AWS region like eu-west-1`);
  return {
    region,
    sfnRegion: needs.stateMachine && arnRegion ? arnRegion : region,
    ...(needs.stateMachine ? { stateMachineArn } : {}),
    ...(needs.table ? { tableName } : {}),
  };
}

/** The services of a command run, for calls and their error messages. */
export interface Services {
  readonly clients: AwsClients;
  readonly settings: Settings;
  readonly dynamo: AwsService;
  readonly sagemaker: AwsService;
  readonly sfn: AwsService;
  /** The ledger; only when the settings name a table. */
  readonly ledger?: Ledger;
}

export function services(ctx: CommandContext, settings: Settings): Services {
  const clients = ctx.clients(settings);
  return {
    clients,
    settings,
    dynamo: { name: 'DynamoDB', envKey: 'DYNAMODB', client: clients.dynamo, env: ctx.env },
    sagemaker: { name: 'SageMaker', envKey: 'SAGEMAKER', client: clients.sagemaker, env: ctx.env },
    sfn: { name: 'Step Functions', envKey: 'SFN', client: clients.sfn, env: ctx.env },
    ...(settings.tableName ? { ledger: new Ledger({ client: clients.dynamo, tableName: settings.tableName }) } : {}),
  };
}

/** The hint for a ledger table that does not exist. */
export const tableNotFound = (settings: Settings): string =>
  `Ledger table ${settings.tableName} not found in ${settings.region}: check --table or ${ENV.table} (the LedgerTableName output of \`cdk deploy\`) and --region`;
