/**
 * The ledger, Step Functions and EventBridge for handler tests. The ledger is real:
 * dynalite on 127.0.0.1, reached by the handlers' own lazily created DynamoDB client
 * through AWS_ENDPOINT_URL_DYNAMODB, with a fresh table per test (LEDGER_TABLE_NAME).
 * Step Functions and EventBridge are aws-sdk-client-mock stubs on the client classes,
 * which the adapters create lazily.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SFNClient, type ExecutionStatus } from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { ExecutionContext, Release } from '../../../lambdas/contracts';
import { Ledger } from '../../../lambdas/aws/ledger';
import type { LifecycleDetail } from '../../../lambdas/domain/events';
import type { Lock, ReleaseRecord } from '../../../lambdas/domain/ledger';
import { type LocalDynamo, createLedgerTable, startDynalite } from '../../aws/dynalite';
import { ACCOUNT, REGION } from '../fixtures';

export type SfnMock = AwsClientStub<SFNClient>;
export type EventBridgeMock = AwsClientStub<EventBridgeClient>;

export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:smrm-release`;

export function executionArn(name: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:execution:smrm-release:${name}`;
}

/** `$$.Execution` as the workflow passes it; the start time defaults to a fixed, recent instant. */
export function execution(name: string, startedAt = '2025-06-01T10:00:00.000Z'): ExecutionContext {
  return { arn: executionArn(name), name, startedAt };
}

export interface TestLedger {
  /** A Ledger on the test's own client, for seeding and reading back. */
  readonly ledger: Ledger;
  readonly tableName: string;
}

/**
 * Starts dynalite for the test file and gives every test an empty table. Call at the
 * top level of a test file; read `.ledger` inside tests.
 */
export function useLedger(): TestLedger {
  let dynamo: LocalDynamo;
  const state: { ledger?: Ledger; tableName?: string } = {};
  beforeAll(async () => {
    dynamo = await startDynalite(REGION);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    delete process.env.LEDGER_TABLE_NAME;
    await dynamo.close();
  });
  beforeEach(async () => {
    state.tableName = await createLedgerTable(dynamo);
    state.ledger = new Ledger({ client: dynamo.client, tableName: state.tableName });
    process.env.LEDGER_TABLE_NAME = state.tableName;
  });
  return {
    get ledger() {
      if (!state.ledger) throw new Error('useLedger: the ledger exists inside tests only');
      return state.ledger;
    },
    get tableName() {
      if (!state.tableName) throw new Error('useLedger: the table exists inside tests only');
      return state.tableName;
    },
  };
}

/** Mocks of the lazily created SFN and EventBridge clients; reset before every test, PutEvents accepted by default. */
export function useServiceMocks(): { sfn: SfnMock; eventBridge: EventBridgeMock } {
  const sfn = mockClient(SFNClient);
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => {
    sfn.reset();
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  });
  return { sfn, eventBridge };
}

/** DescribeExecution answers: each execution ARN with its status; others do not exist. */
export function givenExecutions(sfn: SfnMock, statuses: Record<string, ExecutionStatus>): void {
  sfn.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
    const status = statuses[input.executionArn];
    if (!status) throw sfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
    return { executionArn: input.executionArn, status, startDate: new Date('2025-06-01T09:00:00Z'), stateMachineArn: STATE_MACHINE_ARN };
  });
}

export interface PublishedEvent {
  source: string;
  detailType: string;
  busName: string;
  detail: LifecycleDetail;
}

/** Every lifecycle event sent with PutEvents, in order. */
export function publishedEvents(eventBridge: EventBridgeMock): PublishedEvent[] {
  return eventBridge.commandCalls(PutEventsCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      source: entry.Source ?? '',
      detailType: entry.DetailType ?? '',
      busName: entry.EventBusName ?? '',
      detail: JSON.parse(entry.Detail ?? '{}') as LifecycleDetail,
    })),
  );
}

/** The detail types sent, in order. */
export const publishedTypes = (eventBridge: EventBridgeMock): string[] => publishedEvents(eventBridge).map((e) => e.detailType);

/** An error as the SFN client raises it for a named service error. */
export function sfnError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Seeds the lock of `release.endpointName` (or `endpointName`) for `owner`, with a lease relative to now. */
export async function seedLock(
  ledger: Ledger,
  input: { endpointName: string; owner: string; leaseSeconds?: number; now?: Date } & Partial<Pick<Lock, 'action' | 'releaseId' | 'modelPackageArn'>>,
): Promise<Lock> {
  return ledger.acquireLock({ leaseSeconds: 3600, now: new Date(), ...input });
}

/** The release record plan-release writes for `release` run by `exec`. */
export function recordOf(release: Release, exec: ExecutionContext, overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    endpointName: release.endpointName,
    executionArn: exec.arn,
    executionName: exec.name,
    startedAt: new Date(exec.startedAt).toISOString(),
    releaseId: release.releaseId,
    modelPackageArn: release.modelPackageArn,
    version: release.modelVersion,
    requestedBy: release.requestedBy,
    policy: { kind: release.kind, strategy: { type: 'canary' } },
    status: 'running',
    steps: [],
    plan: release as unknown as Record<string, unknown>,
    ...overrides,
  };
}

/** The ref of an execution's release record on an endpoint. */
export function refOf(endpointName: string, exec: ExecutionContext): { endpointName: string; startedAt: string; executionName: string } {
  return { endpointName, startedAt: new Date(exec.startedAt).toISOString(), executionName: exec.name };
}
