/**
 * The operator commands of `smrm` (status, history, release, rollback, approve, reject,
 * recover). In-process through the real command line parser (runCli), with the ledger
 * on dynalite through the real DynamoDB client and Step Functions and SageMaker mocked
 * (aws-sdk-client-mock); then a few runs of the real CLI in a child process: a missing
 * setting, an unreachable DynamoDB, and `history` against dynalite.
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DescribeEndpointCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, SFNClient, SFNServiceException, StartExecutionCommand, type StartExecutionInput } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Ledger } from '../../lambdas/aws/ledger';
import type { ReleaseRecord } from '../../lambdas/domain/ledger';
import { executionName, readableCause } from '../../bin/commands/actions';
import type { CommandContext, ClientSettings } from '../../bin/commands/context';
import { runCli } from '../../bin/commands/program';
import type { HistoryDocument } from '../../bin/commands/history';
import type { StatusDocument } from '../../bin/commands/status';
import { type LocalDynamo, createLedgerTable, startDynalite } from '../aws/dynalite';

const ROOT = join(__dirname, '..', '..');
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const ENDPOINT = 'fraud-scorer';
const SM_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:release-manager`;
const NOW = new Date('2025-06-01T12:00:00.000Z');
const STAMP = '20250601T120000Z';
const OPERATOR = 'alice@ops-laptop';
const execArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:release-manager:${name}`;
const packageArn = (version: number) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/fraud-models/${version}`;
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
const releaseId = (version: number) => `v${version}-1a2b3c4${version % 10}`;
/** A line of a stack trace: never printed for the errors these commands expect. */
const STACK_LINE = /\n\s+at /;

const sfn = new SFNClient({ region: REGION });
const sagemaker = new SageMakerClient({ region: REGION });
const sfnMock = mockClient(sfn);
const sagemakerMock = mockClient(sagemaker);

let dynamo: LocalDynamo;
let table: string;
let ledger: Ledger;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** How often the command asked for AWS clients (0: it made no AWS call at all). */
  clientsMade: number;
  settings: ClientSettings[];
  sleeps: number[];
}

async function smrm(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  const settings: ClientSettings[] = [];
  const ctx: CommandContext = {
    env,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    now: () => NOW,
    randomHex: (chars) => 'a1b2c3d4e5'.slice(0, chars),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    operator: () => OPERATOR,
    clients: (made) => {
      settings.push(made);
      return { sfn, sagemaker, dynamo: dynamo.client };
    },
  };
  const code = await runCli(args, ctx);
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), clientsMade: settings.length, settings, sleeps };
}

const common = () => ['--table', table, '--region', REGION, '--state-machine-arn', SM_ARN];

function shown(run: Run): string {
  return `exit ${run.code}\nstderr:\n${run.stderr}\nstdout:\n${run.stdout}`;
}

/** Expects the exit status, showing the output when it differs. */
function expectExit(run: Run, code: number): void {
  expect({ code: run.code, run: run.code === code ? '' : shown(run) }).toEqual({ code, run: '' });
}

function startedInputs(): Array<{ name: string; stateMachineArn: string; input: unknown }> {
  return sfnMock.commandCalls(StartExecutionCommand).map((call) => {
    const input = call.args[0].input as StartExecutionInput;
    return { name: input.name ?? '', stateMachineArn: input.stateMachineArn ?? '', input: JSON.parse(input.input ?? 'null') };
  });
}

function release(version: number, overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  const name = `approved-v${version}-0000000${version}`;
  return {
    endpointName: ENDPOINT,
    executionArn: execArn(name),
    executionName: name,
    releaseId: releaseId(version),
    modelPackageArn: packageArn(version),
    version,
    requestedBy: 'model registry approval',
    policy: { strategy: { type: 'canary', steps: [{ weightPercent: 10 }, { weightPercent: 50 }, { weightPercent: 100 }] } },
    status: 'running',
    steps: [],
    startedAt: minutesAgo(600 - version).toISOString(),
    ...overrides,
  };
}

/** Release 8 in flight at step 2 (50 %), waiting at the approval gate; release 7 succeeded and is the last known good. */
async function seedReleaseAtGate(options: { approval?: boolean } = {}): Promise<ReleaseRecord> {
  const previous = release(7, { startedAt: minutesAgo(24 * 60).toISOString() });
  await ledger.startRelease(previous);
  await ledger.finishRelease({ ...previous, status: 'succeeded', endedAt: minutesAgo(23 * 60).toISOString() });
  await ledger.setLastKnownGood({
    endpointName: ENDPOINT,
    version: 7,
    modelPackageArn: packageArn(7),
    variantName: 'v7-1a2b3c47',
    endpointConfigName: 'fraud-scorer-v7-p',
    releasedAt: minutesAgo(23 * 60).toISOString(),
    executionArn: previous.executionArn,
  });
  const current = release(8, { startedAt: minutesAgo(30).toISOString(), plan: { releaseId: releaseId(8), steps: [{}, {}, {}] } });
  await ledger.acquireLock({ endpointName: ENDPOINT, owner: current.executionArn, leaseSeconds: 3600, now: minutesAgo(30) });
  await ledger.updateLock({
    endpointName: ENDPOINT,
    owner: current.executionArn,
    now: minutesAgo(29),
    releaseId: current.releaseId,
    modelPackageArn: current.modelPackageArn,
  });
  await ledger.startRelease(current);
  await ledger.recordStep({ ...current, step: { index: 0, weightPercent: 10, startedAt: minutesAgo(25).toISOString() } });
  await ledger.recordStep({
    ...current,
    step: {
      index: 0,
      weightPercent: 10,
      startedAt: minutesAgo(25).toISOString(),
      endedAt: minutesAgo(15).toISOString(),
      verdict: { status: 'healthy', reason: 'all alarms OK' },
    },
  });
  await ledger.recordStep({
    ...current,
    step: {
      index: 1,
      weightPercent: 50,
      startedAt: minutesAgo(15).toISOString(),
      endedAt: minutesAgo(5).toISOString(),
      verdict: { status: 'healthy', reason: 'all alarms OK' },
    },
  });
  if (options.approval !== false) {
    await ledger.updateLock({
      endpointName: ENDPOINT,
      owner: current.executionArn,
      now: minutesAgo(5),
      approval: {
        taskToken: 'SECRET-TASK-TOKEN',
        releaseId: current.releaseId,
        requestedAt: minutesAgo(5).toISOString(),
        expiresAt: new Date(NOW.getTime() + 3600_000).toISOString(),
      },
    });
  }
  return current;
}

function endpointNotFound(name: string): SageMakerServiceException {
  return new SageMakerServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `Could not find endpoint "arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/${name}".`,
  });
}

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(async () => {
  table = await createLedgerTable(dynamo);
  ledger = new Ledger({ client: dynamo.client, tableName: table });
  sfnMock.reset();
  sagemakerMock.reset();
  sfnMock.on(StartExecutionCommand).callsFake((input: StartExecutionInput) => ({ executionArn: execArn(input.name ?? ''), startDate: NOW }));
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  sagemakerMock.on(DescribeEndpointCommand).resolves({
    EndpointName: ENDPOINT,
    EndpointStatus: 'InService',
    EndpointConfigName: 'fraud-scorer-v8-d',
    ProductionVariants: [
      { VariantName: 'v7-1a2b3c47', CurrentWeight: 50, DesiredWeight: 50, CurrentInstanceCount: 2, DesiredInstanceCount: 2 },
      { VariantName: 'v8-1a2b3c48', CurrentWeight: 50, DesiredWeight: 50, CurrentInstanceCount: 1, DesiredInstanceCount: 1 },
    ],
  });
});

describe('smrm status', () => {
  it('It should show the lock, the release in flight at the approval gate, the variants and the last known good version (--json)', async () => {
    const current = await seedReleaseAtGate();

    const run = await smrm(['status', ENDPOINT, ...common(), '--json']);

    expectExit(run, 0);
    const status = JSON.parse(run.stdout) as StatusDocument;
    expect(status.lock).toEqual({
      holder: current.executionArn,
      holderExecutionName: current.executionName,
      holderStatus: 'RUNNING',
      action: 'release',
      releaseId: 'v8-1a2b3c48',
      modelPackageArn: packageArn(8),
      since: minutesAgo(30).toISOString(),
      leaseExpiresAt: new Date(minutesAgo(30).getTime() + 3600_000).toISOString(),
      leaseExpired: false,
      abortRequested: null,
      approval: { releaseId: 'v8-1a2b3c48', waitingSince: minutesAgo(5).toISOString(), until: '2025-06-01T13:00:00.000Z' },
    });
    expect(status.inFlight).toMatchObject({
      releaseId: 'v8-1a2b3c48',
      version: 8,
      requestedBy: 'model registry approval',
      executionArn: current.executionArn,
      status: 'running',
      stepIndex: 1,
      weightPercent: 50,
      plannedSteps: 3,
      lastVerdict: { status: 'healthy', reason: 'all alarms OK' },
    });
    expect(status.endpoint).toEqual({
      status: 'InService',
      configName: 'fraud-scorer-v8-d',
      variants: [
        { name: 'v7-1a2b3c47', currentWeight: 50, desiredWeight: 50, trafficPercent: 50, currentInstanceCount: 2, desiredInstanceCount: 2 },
        { name: 'v8-1a2b3c48', currentWeight: 50, desiredWeight: 50, trafficPercent: 50, currentInstanceCount: 1, desiredInstanceCount: 1 },
      ],
    });
    expect(status.lastKnownGood).toMatchObject({ version: 7, variantName: 'v7-1a2b3c47', endpointConfigName: 'fraud-scorer-v7-p' });
    // The task token completes the gate: it is never shown.
    expect(run.stdout).not.toContain('SECRET-TASK-TOKEN');
    expect(sfnMock.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input.executionArn)).toEqual([current.executionArn]);
    expect(sagemakerMock.commandCalls(DescribeEndpointCommand).map((call) => call.args[0].input.EndpointName)).toEqual([ENDPOINT]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('It should print the same as text, with the approve and reject commands for the waiting release', async () => {
    await seedReleaseAtGate();

    const run = await smrm(['status', ENDPOINT, ...common()]);

    expectExit(run, 0);
    expect(run.stdout).toContain(`Endpoint ${ENDPOINT} (${REGION})`);
    expect(run.stdout).toContain('SageMaker: InService, config fraud-scorer-v8-d');
    expect(run.stdout).toMatch(/v8-1a2b3c48 +50 \(50 %\) +50 +1/);
    expect(run.stdout).toContain('Lock: held by execution approved-v8-00000008 (RUNNING)');
    expect(run.stdout).toContain('lease:   expires 2025-06-01T12:30:00.000Z (in 30 min)');
    expect(run.stdout).toContain('abort:   not requested');
    expect(run.stdout).toContain(
      'approval gate: release v8-1a2b3c48 waiting since 2025-06-01T11:55:00.000Z (5 min ago), until 2025-06-01T13:00:00.000Z (in 1 h)',
    );
    expect(run.stdout).toContain(`smrm approve ${ENDPOINT} --release-id v8-1a2b3c48`);
    expect(run.stdout).toContain('In flight: version 8 (release v8-1a2b3c48), requested by model registry approval');
    expect(run.stdout).toContain('step: 2 of 3 at 50 %, last verdict: healthy (all alarms OK)');
    expect(run.stdout).toContain('Previous release: version 7 (release v7-1a2b3c47) succeeded, started 2025-05-31T12:00:00.000Z (24 h ago)');
    expect(run.stdout).toContain('Last known good: version 7, variant v7-1a2b3c47, config fraud-scorer-v7-p');
    expect(run.stdout).not.toContain('SECRET-TASK-TOKEN');
  });

  it('It should show an abort request and a holder that is no longer running, and point to recover', async () => {
    const current = await seedReleaseAtGate({ approval: false });
    await ledger.requestAbort({
      endpointName: ENDPOINT,
      owner: current.executionArn,
      reason: 'error rate too high',
      requestedBy: 'bob@desk',
      now: minutesAgo(2),
    });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });

    const json = JSON.parse((await smrm(['status', ENDPOINT, ...common(), '--json'])).stdout) as StatusDocument;
    const text = await smrm(['status', ENDPOINT, ...common()]);

    expect(json.lock?.abortRequested).toEqual({ reason: 'error rate too high', requestedBy: 'bob@desk', at: minutesAgo(2).toISOString() });
    expect(json.lock?.holderStatus).toBe('FAILED');
    expect(json.lock?.approval).toBeNull();
    expectExit(text, 0);
    expect(text.stdout).toContain('abort:   requested by bob@desk at 2025-06-01T11:58:00.000Z: error rate too high');
    expect(text.stdout).toContain('approval gate: not waiting');
    expect(text.stdout).toContain(`run \`smrm recover ${ENDPOINT}\``);
  });

  it('It should show an endpoint the ledger knows nothing about yet: lock free, no releases', async () => {
    const run = await smrm(['status', ENDPOINT, ...common()]);

    expectExit(run, 0);
    expect(run.stdout).toContain('Lock: free (no release in flight)');
    expect(run.stdout).toContain('Releases: none recorded');
    expect(run.stdout).toContain('Last known good: none recorded');
  });

  it('It should exit 1 with "Unknown endpoint" when neither the ledger nor SageMaker knows the endpoint, printing nothing on stdout', async () => {
    sagemakerMock.on(DescribeEndpointCommand).rejects(endpointNotFound('ghost'));

    const run = await smrm(['status', 'ghost', ...common(), '--json']);

    expectExit(run, 1);
    expect(run.stderr).toBe(
      `smrm: Unknown endpoint ghost: the ledger table ${table} has no record of it and SageMaker has no endpoint of that name in ${REGION}`,
    );
    expect(run.stdout).toBe('');
  });

  it('It should still show a deleted endpoint the ledger remembers', async () => {
    await seedReleaseAtGate();
    sagemakerMock.on(DescribeEndpointCommand).rejects(endpointNotFound(ENDPOINT));

    const run = await smrm(['status', ENDPOINT, ...common()]);

    expectExit(run, 0);
    expect(run.stdout).toContain('SageMaker: no endpoint of that name');
  });

  it('It should name a ledger table that does not exist, with where its name comes from', async () => {
    const run = await smrm(['status', ENDPOINT, '--table', 'no-such-table', '--region', REGION]);

    expectExit(run, 1);
    expect(run.stderr).toContain(
      'smrm: Ledger table no-such-table not found in eu-west-1: check --table or SMRM_LEDGER_TABLE (the LedgerTableName output of `cdk deploy`)',
    );
    expect(run.stderr).not.toMatch(STACK_LINE);
  });
});

describe('smrm history', () => {
  /** Releases 1..n of the endpoint, written in a scrambled order. */
  async function seedReleases(n: number): Promise<void> {
    const versions = Array.from({ length: n }, (_, i) => i + 1).sort((a, b) => ((a * 7) % n) - ((b * 7) % n));
    for (const version of versions) {
      const record = release(version, { startedAt: minutesAgo(1000 - version * 10).toISOString() });
      await ledger.startRelease(record);
      await ledger.recordStep({
        ...record,
        step: { index: 0, weightPercent: 10, startedAt: record.startedAt, verdict: { status: 'healthy', reason: 'all alarms OK' } },
      });
      if (version === 3) {
        await ledger.recordStep({
          ...record,
          step: { index: 1, weightPercent: 50, startedAt: record.startedAt, verdict: { status: 'unhealthy', reason: 'alarm fraud-scorer-5xx in ALARM' } },
        });
        await ledger.finishRelease({
          ...record,
          status: 'rolled-back',
          reason: 'alarm fraud-scorer-5xx in ALARM',
          endedAt: minutesAgo(1000 - version * 10 - 5).toISOString(),
        });
        await ledger.annotateRelease({
          ...record,
          recovery: { by: execArn('recover-x'), at: NOW.toISOString(), ownerStatus: 'ABORTED', action: 'rolled-back' },
        });
      } else {
        await ledger.finishRelease({ ...record, status: 'succeeded', endedAt: minutesAgo(1000 - version * 10 - 5).toISOString() });
      }
      if (version === 4) {
        await ledger.annotateRelease({ ...record, approval: { decision: 'approved', by: 'carol@desk', at: NOW.toISOString(), note: 'metrics look fine' } });
      }
    }
  }

  it('It should list the releases newest first, at most --limit, with steps, verdicts and notes (--json)', async () => {
    await seedReleases(5);

    const run = await smrm(['history', ENDPOINT, ...common(), '--limit', '3', '--json']);

    expectExit(run, 0);
    const document = JSON.parse(run.stdout) as HistoryDocument;
    expect(document.limit).toBe(3);
    expect(document.releases.map((r) => r.version)).toEqual([5, 4, 3]);
    expect(document.releases[1].approval).toEqual({ decision: 'approved', by: 'carol@desk', at: NOW.toISOString(), note: 'metrics look fine' });
    expect(document.releases[2]).toMatchObject({
      status: 'rolled-back',
      reason: 'alarm fraud-scorer-5xx in ALARM',
      recovery: { action: 'rolled-back', ownerStatus: 'ABORTED' },
    });
    expect(document.releases[2].steps.map((step) => step.verdict?.status)).toEqual(['healthy', 'unhealthy']);
  });

  it('It should print the releases as text, newest first', async () => {
    await seedReleases(5);

    const run = await smrm(['history', ENDPOINT, ...common()]);

    expectExit(run, 0);
    const versions = [...run.stdout.matchAll(/^\S+ {2}version (\d+) {2}/gm)].map((match) => Number(match[1]));
    expect(versions).toEqual([5, 4, 3, 2, 1]);
    expect(run.stdout).toContain(`${minutesAgo(970).toISOString()}  version 3  ROLLED-BACK: alarm fraud-scorer-5xx in ALARM`);
    expect(run.stdout).toContain('  step 2: 50 % unhealthy (alarm fraud-scorer-5xx in ALARM)');
    expect(run.stdout).toContain('  approval: approved by carol@desk at 2025-06-01T12:00:00.000Z: metrics look fine');
    expect(run.stdout).toContain(`  recovery: rolled-back by ${execArn('recover-x')}`);
    expect(run.stdout).toContain('requested by model registry approval');
  });

  it('It should show 20 releases by default', async () => {
    await seedReleases(23);

    const run = await smrm(['history', ENDPOINT, ...common(), '--json']);

    expectExit(run, 0);
    const versions = (JSON.parse(run.stdout) as HistoryDocument).releases.map((r) => r.version);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => 23 - i));
  });

  it.each(['0', '1001', 'abc', '2.5', '-1'])('It should reject --limit %s with exit 2 before any AWS call', async (limit) => {
    const run = await smrm(['history', ENDPOINT, ...common(), '--limit', limit]);

    expectExit(run, 2);
    expect(run.stderr).toBe(`smrm: Invalid --limit ${JSON.stringify(limit)}: expected a whole number from 1 to 1000`);
    expect(run.clientsMade).toBe(0);
  });

  it('It should say so when a known endpoint has no releases, and exit 1 for an unknown one', async () => {
    const known = await smrm(['history', ENDPOINT, ...common()]);
    sagemakerMock.on(DescribeEndpointCommand).rejects(endpointNotFound('ghost'));
    const unknown = await smrm(['history', 'ghost', ...common()]);

    expectExit(known, 0);
    expect(known.stdout).toBe(`No releases recorded for endpoint ${ENDPOINT} in ledger table ${table}.`);
    expectExit(unknown, 1);
    expect(unknown.stderr).toMatch(/^smrm: Unknown endpoint ghost: /);
  });
});

describe('operator actions start an execution with the documented input', () => {
  it('release: the model package ARN, requestedBy defaulting to <user>@<host>; prints the execution ARN and the console link', async () => {
    const arn = packageArn(9);

    const run = await smrm(['release', arn, '--state-machine-arn', SM_ARN]);

    expectExit(run, 0);
    const name = `release-fraud-models-v9-${STAMP}-a1b2`;
    expect(startedInputs()).toEqual([{ stateMachineArn: SM_ARN, name, input: { action: 'release', modelPackageArn: arn, requestedBy: OPERATOR } }]);
    expect(run.stdout.split('\n')).toEqual([
      `Started release of ${arn}: execution ${name}`,
      `  arn:     ${execArn(name)}`,
      `  console: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${execArn(name)}`,
    ]);
    // No ledger table needed, and the region comes from the state machine ARN.
    expect(run.settings).toEqual([{ region: REGION, sfnRegion: REGION, stateMachineArn: SM_ARN }]);
  });

  it('rollback of the release in flight: reason and --requested-by', async () => {
    await seedReleaseAtGate({ approval: false });

    const run = await smrm(['rollback', ENDPOINT, ...common(), '--reason', 'error rate too high', '--requested-by', 'bob@desk']);

    expectExit(run, 0);
    expect(startedInputs()).toEqual([
      {
        stateMachineArn: SM_ARN,
        name: `rollback-${ENDPOINT}-${STAMP}-a1b2`,
        input: { action: 'rollback', endpointName: ENDPOINT, reason: 'error rate too high', requestedBy: 'bob@desk' },
      },
    ]);
    expect(run.stderr).toContain('Rolling back what execution approved-v8-00000008 does on endpoint fraud-scorer (release v8-1a2b3c48).');
  });

  it('rollback with nothing in flight re-releases the last known good version', async () => {
    await ledger.setLastKnownGood({
      endpointName: ENDPOINT,
      version: 7,
      modelPackageArn: packageArn(7),
      variantName: 'v7-1a2b3c47',
      endpointConfigName: 'fraud-scorer-v7-p',
      releasedAt: minutesAgo(60).toISOString(),
      executionArn: execArn('approved-v7'),
    });

    const run = await smrm(['rollback', ENDPOINT, ...common()]);

    expectExit(run, 0);
    expect(startedInputs().map((started) => started.input)).toEqual([{ action: 'rollback', endpointName: ENDPOINT, requestedBy: OPERATOR }]);
    expect(run.stderr).toContain(`Nothing is in flight on endpoint ${ENDPOINT}: re-releasing the last known good version 7 (${packageArn(7)}).`);
  });

  it('rollback with nothing in flight and no last known good version fails with exit 1 and starts nothing', async () => {
    const run = await smrm(['rollback', ENDPOINT, ...common()]);

    expectExit(run, 1);
    expect(run.stderr).toBe(`smrm: Nothing to roll back on endpoint ${ENDPOINT}: no release is in flight and the ledger records no last known good version`);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('approve the release waiting at the gate, with --release-id and --comment', async () => {
    await seedReleaseAtGate();

    const run = await smrm(['approve', ENDPOINT, ...common(), '--release-id', 'v8-1a2b3c48', '--comment', 'latency is fine']);

    expectExit(run, 0);
    expect(startedInputs()).toEqual([
      {
        stateMachineArn: SM_ARN,
        name: `approve-${ENDPOINT}-${STAMP}-a1b2`,
        input: { action: 'approve', endpointName: ENDPOINT, releaseId: 'v8-1a2b3c48', comment: 'latency is fine', requestedBy: OPERATOR },
      },
    ]);
    expect(run.stderr).toContain('Release v8-1a2b3c48 on endpoint fraud-scorer waits for approval since 2025-06-01T11:55:00.000Z (5 min ago).');
  });

  it('reject the release waiting at the gate, with a reason; without --release-id the input has none', async () => {
    await seedReleaseAtGate();

    const run = await smrm(['reject', ENDPOINT, ...common(), '--reason', 'p99 latency doubled']);

    expectExit(run, 0);
    expect(startedInputs()).toEqual([
      {
        stateMachineArn: SM_ARN,
        name: `reject-${ENDPOINT}-${STAMP}-a1b2`,
        input: { action: 'reject', endpointName: ENDPOINT, reason: 'p99 latency doubled', requestedBy: OPERATOR },
      },
    ]);
  });

  it('recover needs no ledger table and sends only the endpoint and who asks', async () => {
    const run = await smrm(['recover', ENDPOINT, '--state-machine-arn', SM_ARN, '--json']);

    expectExit(run, 0);
    const name = `recover-${ENDPOINT}-${STAMP}-a1b2`;
    expect(startedInputs()).toEqual([{ stateMachineArn: SM_ARN, name, input: { action: 'recover', endpointName: ENDPOINT, requestedBy: OPERATOR } }]);
    expect(JSON.parse(run.stdout)).toEqual({
      action: 'recover',
      executionName: name,
      executionArn: execArn(name),
      startDate: NOW.toISOString(),
      consoleUrl: `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${execArn(name)}`,
      input: { action: 'recover', endpointName: ENDPOINT, requestedBy: OPERATOR },
    });
  });

  it('reads the state machine ARN and the table from SMRM_STATE_MACHINE_ARN and SMRM_LEDGER_TABLE', async () => {
    await seedReleaseAtGate();

    const run = await smrm(['approve', ENDPOINT], { SMRM_STATE_MACHINE_ARN: SM_ARN, SMRM_LEDGER_TABLE: table, AWS_REGION: REGION });

    expectExit(run, 0);
    expect(startedInputs().map((started) => started.stateMachineArn)).toEqual([SM_ARN]);
  });

  it('trims the execution name to 80 characters of [A-Za-z0-9-_], keeping the time stamp and the random suffix', async () => {
    const longEndpoint = `e${'-x'.repeat(31)}`; // 63 characters, the longest endpoint name

    const run = await smrm(['recover', longEndpoint, '--state-machine-arn', SM_ARN]);

    expectExit(run, 0);
    const [{ name }] = startedInputs();
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^recover-e-x-x[A-Za-z0-9_-]*-20250601T120000Z-a1b2$/);
    expect(executionName('release', 'group with spaces/and:colons-v3', NOW, 'ffff')).toBe(`release-group-with-spaces-and-colons-v3-${STAMP}-ffff`);
  });
});

describe('approve, reject and rollback check the lock first', () => {
  it('approve with no release in flight: exit 1, nothing started', async () => {
    await ledger.setLastKnownGood({
      endpointName: ENDPOINT,
      version: 7,
      modelPackageArn: packageArn(7),
      variantName: 'v7-1a2b3c47',
      endpointConfigName: 'fraud-scorer-v7-p',
      releasedAt: minutesAgo(60).toISOString(),
      executionArn: execArn('approved-v7'),
    });

    const run = await smrm(['approve', ENDPOINT, ...common()]);

    expectExit(run, 1);
    expect(run.stderr).toBe(`smrm: Nothing to approve on endpoint ${ENDPOINT}: no release is in flight (the endpoint is not locked)`);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('reject a release that is not at the approval gate: exit 1, nothing started', async () => {
    await seedReleaseAtGate({ approval: false });

    const run = await smrm(['reject', ENDPOINT, ...common()]);

    expectExit(run, 1);
    expect(run.stderr).toBe(
      `smrm: Nothing to reject on endpoint ${ENDPOINT}: execution approved-v8-00000008 (release v8-1a2b3c48) is not waiting at the approval gate`,
    );
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('approve another release than the one waiting: exit 1, naming the one waiting', async () => {
    await seedReleaseAtGate();

    const run = await smrm(['approve', ENDPOINT, ...common(), '--release-id', 'v9-00000000']);

    expectExit(run, 1);
    expect(run.stderr).toContain('smrm: Release v9-00000000 is not waiting for approval on endpoint fraud-scorer: release v8-1a2b3c48 is');
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('approve on an unknown endpoint: "Unknown endpoint", exit 1', async () => {
    sagemakerMock.on(DescribeEndpointCommand).rejects(endpointNotFound('ghost'));

    const run = await smrm(['approve', 'ghost', ...common()]);

    expectExit(run, 1);
    expect(run.stderr).toMatch(/^smrm: Unknown endpoint ghost: /);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('bad input exits 2 naming the field, before any AWS call', () => {
  it.each([
    [['approve', 'Bad_Name'], '<endpoint> "Bad_Name": expected endpointName: 1-63 letters, digits or hyphens'],
    [['approve', ENDPOINT, '--release-id', '42'], '--release-id "42": expected releaseId like v3-1a2b3c4d'],
    [['reject', ENDPOINT, '--release-id', 'v3-XYZ'], '--release-id "v3-XYZ": expected releaseId like v3-1a2b3c4d'],
    [
      ['release', `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/fraud-models`],
      '<modelPackageArn> "arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud-models": expected modelPackageArn',
    ],
    [['rollback', ENDPOINT, '--reason', 'x'.repeat(1025)], '--reason "xxx'],
    [['approve', ENDPOINT, '--comment', 'y'.repeat(1025)], 'expected comment of at most 1024 characters'],
    [['recover', ENDPOINT, '--requested-by', ''], '--requested-by "": expected requestedBy to name who asks'],
    [['recover', ENDPOINT, '--wait', '--poll-seconds', '0'], 'Invalid --poll-seconds "0"'],
    [['status', '-bad'], "error: unknown option '-bad'"],
    [['history', 'x'.repeat(64)], '<endpoint> "xxxx'],
  ])('%j', async (args, message) => {
    const run = await smrm([...args, ...common()]);

    expectExit(run, 2);
    expect(run.stderr).toContain(message);
    expect(run.clientsMade).toBe(0);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(sagemakerMock.calls()).toHaveLength(0);
  });

  it('a missing state machine ARN names the option, the environment variable and the stack output', async () => {
    const run = await smrm(['recover', ENDPOINT, '--region', REGION]);

    expectExit(run, 2);
    expect(run.stderr).toContain(
      'smrm: Missing the state machine ARN: pass --state-machine-arn or set SMRM_STATE_MACHINE_ARN. It is the StateMachineArn output of `cdk deploy`',
    );
    expect(run.clientsMade).toBe(0);
  });

  it('a missing ledger table for approve names --table, SMRM_LEDGER_TABLE and LedgerTableName', async () => {
    const run = await smrm(['approve', ENDPOINT, '--state-machine-arn', SM_ARN]);

    expectExit(run, 2);
    expect(run.stderr).toContain('smrm: Missing the ledger table: pass --table or set SMRM_LEDGER_TABLE. It is the LedgerTableName output of `cdk deploy`');
    expect(run.clientsMade).toBe(0);
  });

  it('a missing region names --region and AWS_REGION; a malformed state machine ARN is refused', async () => {
    const noRegion = await smrm(['status', ENDPOINT, '--table', table]);
    const badArn = await smrm(['recover', ENDPOINT, '--state-machine-arn', 'release-manager']);

    expectExit(noRegion, 2);
    expect(noRegion.stderr).toContain('smrm: Missing the AWS region: pass --region or set AWS_REGION');
    expectExit(badArn, 2);
    expect(badArn.stderr).toContain('smrm: Invalid --state-machine-arn (or SMRM_STATE_MACHINE_ARN) "release-manager"');
    expect(noRegion.clientsMade + badArn.clientsMade).toBe(0);
  });
});

describe('--wait', () => {
  it('polls DescribeExecution every 2 s until the execution ends, prints its output and exits 0 when it SUCCEEDED', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'SUCCEEDED', output: '{"status":"succeeded","lock":"released"}' });

    const run = await smrm(['recover', ENDPOINT, '--state-machine-arn', SM_ARN, '--wait']);

    expectExit(run, 0);
    expect(run.sleeps).toEqual([2000, 2000]);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(3);
    const name = `recover-${ENDPOINT}-${STAMP}-a1b2`;
    expect(sfnMock.commandCalls(DescribeExecutionCommand)[0].args[0].input).toEqual({ executionArn: execArn(name) });
    expect(run.stdout).toContain(`Execution ${name} ended: SUCCEEDED`);
    expect(run.stdout).toContain('    "lock": "released"');
  });

  it('exits 1 when the execution FAILED, with its error and a readable cause; --poll-seconds sets the interval', async () => {
    await seedReleaseAtGate();
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'FAILED', error: 'LockNotHeld', cause: '{"errorType":"LockNotHeld","errorMessage":"nobody holds the lock","trace":["at x"]}' });

    const run = await smrm(['reject', ENDPOINT, ...common(), '--wait', '--poll-seconds', '5']);
    const json = await smrm(['reject', ENDPOINT, ...common(), '--wait', '--poll-seconds', '0.5', '--json']);

    expectExit(run, 1);
    expect(run.sleeps).toEqual([5000]);
    expect(run.stdout).toContain('ended: FAILED');
    expect(run.stdout).toContain('  error: LockNotHeld');
    expect(run.stdout).toContain('  cause: LockNotHeld: nobody holds the lock');
    expectExit(json, 1);
    expect(JSON.parse(json.stdout)).toMatchObject({ action: 'reject', status: 'FAILED', error: 'LockNotHeld' });
    expect(readableCause('plain text')).toBe('plain text');
  });
});

describe('AWS errors are one clear line, exit 1, no stack trace', () => {
  it('access denied names the action', async () => {
    sfnMock.on(StartExecutionCommand).rejects(
      new SFNServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: `User: arn:aws:iam::${ACCOUNT}:user/bob is not authorized to perform: states:StartExecution on resource: ${SM_ARN}`,
      }),
    );

    const run = await smrm(['recover', ENDPOINT, '--state-machine-arn', SM_ARN]);

    expectExit(run, 1);
    expect(run.stderr).toMatch(/^smrm: Access denied: states:StartExecution on Step Functions: User: .* is not authorized/);
    expect(run.stderr).not.toMatch(STACK_LINE);
  });

  it('an unreachable service names the service and where it was looked for', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED', $metadata: { attempts: 1 } }));

    const run = await smrm(['recover', ENDPOINT, '--state-machine-arn', SM_ARN]);

    expectExit(run, 1);
    expect(run.stderr).toBe('smrm: Cannot reach Step Functions at https://states.eu-west-1.amazonaws.com: connect ECONNREFUSED 10.0.0.1:443');
  });

  it('missing credentials say how to provide them; a missing state machine names the setting', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejectsOnce(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }))
      .rejectsOnce(
        new SFNServiceException({
          name: 'StateMachineDoesNotExist',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: `State Machine Does Not Exist: '${SM_ARN}'`,
        }),
      );
    const noCredentials = await smrm(['recover', ENDPOINT, '--state-machine-arn', SM_ARN]);
    const noStateMachine = await smrm(['recover', ENDPOINT, '--state-machine-arn', SM_ARN]);

    expectExit(noCredentials, 1);
    expect(noCredentials.stderr).toMatch(/^smrm: No AWS credentials for Step Functions: Could not load credentials from any providers\. Set AWS_PROFILE/);
    expectExit(noStateMachine, 1);
    expect(noStateMachine.stderr).toMatch(
      /^smrm: State machine .* not found: check --state-machine-arn or SMRM_STATE_MACHINE_ARN \(the StateMachineArn output of `cdk deploy`\)/,
    );
  });
});

// ---- the real CLI in a child process -------------------------------------------------------

const RUN_TIMEOUT_MS = 60_000;

function spawnSmrm(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(base)) if (key.startsWith('SMRM_') || key.startsWith('AWS_')) delete base[key];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/smrm.ts', ...args], {
      cwd: ROOT,
      env: {
        ...base,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_ACCESS_KEY_ID: 'AKIDFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_MAX_ATTEMPTS: '1',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('smrm in a child process', () => {
  it(
    'It should exit 2 when the state machine ARN is missing, naming the option, the variable and the stack output',
    async () => {
      const run = await spawnSmrm(['release', packageArn(3)], { AWS_REGION: REGION });

      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('smrm: Missing the state machine ARN') });
      expect(run.stderr).toContain('--state-machine-arn');
      expect(run.stderr).toContain('SMRM_STATE_MACHINE_ARN');
      expect(run.stderr).toContain('StateMachineArn output of `cdk deploy`');
      expect(run.stdout).toBe('');
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'It should exit 1 with "Cannot reach DynamoDB at <endpoint>" when DynamoDB is unreachable, without a stack trace',
    async () => {
      const port = await closedPort();

      const run = await spawnSmrm(['status', ENDPOINT, '--table', 'ledger-table'], {
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
      });

      expect({ code: run.code, stderr: run.stderr }).toEqual({
        code: 1,
        stderr: expect.stringContaining(`smrm: Cannot reach DynamoDB at http://127.0.0.1:${port}: `),
      });
      expect(run.stderr).toContain('ECONNREFUSED');
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(run.stdout).toBe('');
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'It should read the history from DynamoDB (dynalite) through the environment settings',
    async () => {
      await ledger.startRelease(release(2));
      await ledger.startRelease(release(3));

      const run = await spawnSmrm(['history', ENDPOINT, '--json'], {
        AWS_REGION: REGION,
        SMRM_LEDGER_TABLE: table,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      });

      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect((JSON.parse(run.stdout) as HistoryDocument).releases.map((r) => `${r.version} ${r.status}`)).toEqual(['3 running', '2 running']);
    },
    RUN_TIMEOUT_MS,
  );
});
