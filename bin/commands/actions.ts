/**
 * The operator actions: `release`, `rollback`, `approve`, `reject` and `recover` each
 * start an execution of the release state machine with the documented input
 * (lambdas/contracts.ts), validated by the contract's schema before any AWS call.
 * approve, reject and rollback first read the endpoint lock, so that asking for what
 * cannot happen fails here with a clear message instead of in an execution.
 */
import { DescribeExecutionCommand, type DescribeExecutionOutput, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { z } from 'zod';
import {
  ApproveRequestSchema,
  ManualReleaseInputSchema,
  type OperatorInput,
  RecoverRequestSchema,
  RejectRequestSchema,
  RollbackRequestSchema,
} from '../../lambdas/contracts';
import { type CommandContext, type CommonOptions, ENV, type Services, resolveSettings, services } from './context';
import { executionNameOf, readHistory, readLastKnownGood, readLock, requireKnownEndpoint } from './endpoint';
import { CommandError, UsageError, viaAws } from './errors';
import { relative } from './format';

export type ActionName = OperatorInput['action'];

export interface ActionOptions extends CommonOptions {
  requestedBy?: string;
  reason?: string;
  comment?: string;
  releaseId?: string;
  wait?: boolean;
  pollSeconds?: string;
  json?: boolean;
}

export const POLL_SECONDS_DEFAULT = 2;
const POLL_SECONDS_MAX = 3600;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

const SCHEMAS: Record<ActionName, z.ZodType> = {
  release: ManualReleaseInputSchema,
  rollback: RollbackRequestSchema,
  approve: ApproveRequestSchema,
  reject: RejectRequestSchema,
  recover: RecoverRequestSchema,
};

/** The CLI's name of each input field, for messages. */
const FIELD_LABELS: Record<string, string> = {
  modelPackageArn: '<modelPackageArn>',
  endpointName: '<endpoint>',
  releaseId: '--release-id',
  comment: '--comment',
  reason: '--reason',
  requestedBy: '--requested-by',
};

/**
 * The execution input for an action, validated by its contract schema. `subject` is the
 * model package ARN for `release`, else the endpoint name. A bad value is a UsageError
 * naming the option and the field.
 */
export function buildInput(action: ActionName, subject: string, options: ActionOptions, defaultRequestedBy: string): OperatorInput {
  const requestedBy = options.requestedBy ?? defaultRequestedBy;
  const fields: Record<string, string | undefined> =
    action === 'release'
      ? { modelPackageArn: subject }
      : {
          endpointName: subject,
          ...(action === 'approve' || action === 'reject' ? { releaseId: options.releaseId } : {}),
          ...(action === 'approve' ? { comment: options.comment } : {}),
          ...(action === 'rollback' || action === 'reject' ? { reason: options.reason } : {}),
        };
  const candidate: Record<string, string> = { action };
  for (const [key, value] of Object.entries({ ...fields, requestedBy })) if (value !== undefined) candidate[key] = value;
  const result = SCHEMAS[action].safeParse(candidate);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? '');
      const label = FIELD_LABELS[field] ?? field;
      return `${label} ${JSON.stringify(candidate[field] ?? null)}: ${issue.message}`;
    });
    throw new UsageError(`Invalid ${action} input: ${problems.join('; ')}`);
  }
  return result.data as OperatorInput;
}

/** `20250601T100000Z` */
export function utcStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export const EXECUTION_NAME_MAX = 80;

/** `<action>-<endpoint>-<UTC yyyymmddThhmmssZ>-<4 random hex>`, at most 80 characters of [A-Za-z0-9-_]; the endpoint part is trimmed. */
export function executionName(action: ActionName, subject: string, now: Date, hex: string): string {
  const suffix = `-${utcStamp(now)}-${hex}`;
  const head = `${action}-${subject}`.replace(/[^A-Za-z0-9_-]/g, '-');
  return `${head.slice(0, EXECUTION_NAME_MAX - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** What a release's execution name says in place of an endpoint: `<group>-v<version>` of its model package. */
export function releaseSubject(modelPackageArn: string): string {
  const match = /model-package\/([^/]+)\/(\d+)$/.exec(modelPackageArn);
  return match ? `${match[1]}-v${match[2]}` : 'model-package';
}

export function consoleUrl(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

export function parsePollSeconds(value: string | undefined): number {
  if (value === undefined) return POLL_SECONDS_DEFAULT;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > POLL_SECONDS_MAX) {
    throw new UsageError(`Invalid --poll-seconds ${JSON.stringify(value)}: expected a number of seconds above 0 and at most ${POLL_SECONDS_MAX}`);
  }
  return seconds;
}

/** `--json` output of an action. */
export interface ActionDocument {
  action: ActionName;
  executionName: string;
  executionArn: string;
  startDate: string | null;
  consoleUrl: string;
  input: OperatorInput;
  /** With --wait: how the execution ended. */
  status?: string;
  output?: unknown;
  error?: string;
  cause?: string;
}

/** Checks the lock before approve, reject or rollback; returns the notes to print. Fails when there is nothing to act on. */
async function preflight(s: Services, input: OperatorInput, now: Date): Promise<string[]> {
  if (input.action !== 'approve' && input.action !== 'reject' && input.action !== 'rollback') return [];
  const endpointName = input.endpointName;
  const lock = await readLock(s, endpointName);
  if (input.action === 'rollback') {
    if (lock) {
      const notes = [
        `Rolling back what execution ${executionNameOf(lock.owner)} does on endpoint ${endpointName} (${lock.action}${lock.releaseId ? ` ${lock.releaseId}` : ''}).`,
      ];
      if (lock.abortRequested)
        notes.push(`Note: ${lock.abortRequested.requestedBy} already asked for a rollback at ${lock.abortRequested.at}: ${lock.abortRequested.reason}`);
      return notes;
    }
    const good = await readLastKnownGood(s, endpointName);
    if (good) return [`Nothing is in flight on endpoint ${endpointName}: re-releasing the last known good version ${good.version} (${good.modelPackageArn}).`];
    const [latest] = await readHistory(s, endpointName, 1);
    await requireKnownEndpoint(s, endpointName, Boolean(latest));
    throw new CommandError(`Nothing to roll back on endpoint ${endpointName}: no release is in flight and the ledger records no last known good version`);
  }
  const verb = input.action;
  if (!lock) {
    const [good, [latest]] = await Promise.all([readLastKnownGood(s, endpointName), readHistory(s, endpointName, 1)]);
    if (!good && !latest) await requireKnownEndpoint(s, endpointName, false);
    throw new CommandError(`Nothing to ${verb} on endpoint ${endpointName}: no release is in flight (the endpoint is not locked)`);
  }
  if (!lock.approval) {
    throw new CommandError(
      `Nothing to ${verb} on endpoint ${endpointName}: execution ${executionNameOf(lock.owner)}${lock.releaseId ? ` (release ${lock.releaseId})` : ''} is not waiting at the approval gate`,
    );
  }
  if (input.releaseId && input.releaseId !== lock.approval.releaseId) {
    throw new CommandError(
      `Release ${input.releaseId} is not waiting for approval on endpoint ${endpointName}: release ${lock.approval.releaseId} is (see \`smrm status ${endpointName}\`)`,
    );
  }
  const notes = [
    `Release ${lock.approval.releaseId} on endpoint ${endpointName} waits for approval since ${lock.approval.requestedAt} (${relative(lock.approval.requestedAt, now)}).`,
  ];
  if (new Date(lock.approval.expiresAt).getTime() < now.getTime()) {
    notes.push(`Warning: its approval window ended at ${lock.approval.expiresAt}; the gate may have timed out already.`);
  }
  return notes;
}

/** Runs one action: validate, check the lock, start the execution, and with --wait follow it to its end. */
export async function runAction(ctx: CommandContext, action: ActionName, subject: string, options: ActionOptions): Promise<number> {
  const input = buildInput(action, subject, options, ctx.operator());
  const pollSeconds = parsePollSeconds(options.pollSeconds);
  const needsLedger = action === 'approve' || action === 'reject' || action === 'rollback';
  const settings = resolveSettings(ctx, options, { stateMachine: true, table: needsLedger });
  const s = services(ctx, settings);
  const started = ctx.now();

  for (const note of await preflight(s, input, started)) ctx.err(note);

  const name = executionName(action, action === 'release' ? releaseSubject(subject) : subject, started, ctx.randomHex(4));
  const stateMachineArn = settings.stateMachineArn as string;
  const start = await viaAws(
    s.sfn,
    {
      action: 'states:StartExecution',
      notFound: `State machine ${stateMachineArn} not found: check --state-machine-arn or ${ENV.stateMachineArn} (the StateMachineArn output of \`cdk deploy\`)`,
    },
    () => s.clients.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
  );
  const executionArn = start?.executionArn ?? `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const document: ActionDocument = {
    action,
    executionName: name,
    executionArn,
    startDate: start?.startDate ? start.startDate.toISOString() : null,
    consoleUrl: consoleUrl(settings.sfnRegion, executionArn),
    input,
  };
  if (!options.json) {
    ctx.out(`Started ${action} ${action === 'release' ? `of ${subject}` : `on endpoint ${subject}`}: execution ${name}`);
    ctx.out(`  arn:     ${executionArn}`);
    ctx.out(`  console: ${document.consoleUrl}`);
  }
  if (!options.wait) {
    if (options.json) ctx.out(JSON.stringify(document, null, 2));
    return 0;
  }

  ctx.err(`Waiting for execution ${name} to end (polling every ${pollSeconds} s; Ctrl-C stops waiting, not the execution)...`);
  const ended = await waitForEnd(ctx, s, executionArn, pollSeconds);
  document.status = ended.status ?? 'UNKNOWN';
  if (ended.output !== undefined) document.output = parseJson(ended.output);
  if (ended.error !== undefined) document.error = ended.error;
  if (ended.cause !== undefined) document.cause = ended.cause;
  if (options.json) {
    ctx.out(JSON.stringify(document, null, 2));
  } else {
    ctx.out(`Execution ${name} ended: ${document.status}`);
    if (document.error !== undefined) ctx.out(`  error: ${document.error}`);
    if (document.cause !== undefined) ctx.out(`  cause: ${readableCause(document.cause)}`);
    if (document.output !== undefined) {
      ctx.out('  output:');
      for (const line of JSON.stringify(document.output, null, 2).split('\n')) ctx.out(`    ${line}`);
    }
  }
  return document.status === 'SUCCEEDED' ? 0 : 1;
}

async function waitForEnd(ctx: CommandContext, s: Services, executionArn: string, pollSeconds: number): Promise<DescribeExecutionOutput> {
  for (;;) {
    const described = await viaAws(s.sfn, { action: 'states:DescribeExecution' }, () => s.clients.sfn.send(new DescribeExecutionCommand({ executionArn })));
    if (TERMINAL.has(described.status ?? '')) return described;
    await ctx.sleep(pollSeconds * 1000);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A Lambda error document as cause (`{"errorType", "errorMessage", "trace"}`) reads as `<errorType>: <errorMessage>`. */
export function readableCause(cause: string): string {
  const parsed = parseJson(cause) as { errorType?: unknown; errorMessage?: unknown } | string;
  if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string') {
    return typeof parsed.errorType === 'string' ? `${parsed.errorType}: ${parsed.errorMessage}` : parsed.errorMessage;
  }
  return cause;
}
