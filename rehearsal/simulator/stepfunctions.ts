/**
 * The Step Functions control plane the release manager calls, for Standard workflows:
 * StartExecution (with the name rules and the idempotent repeat of a running
 * execution), DescribeExecution, StopExecution, ListExecutions, and the task-token
 * callbacks SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat.
 *
 * The simulator keeps the executions' records; running them is not its business. A
 * state machine is defined with a runner (the rehearsal engine), which the simulator
 * tells to start or stop an execution, and which reports back how the execution ended
 * (`complete`) and which task tokens its tasks wait on (`createTaskToken`,
 * `awaitTaskToken`). Times are virtual.
 *
 * Wire format: AWS JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Operation>`, timestamps as
 * epoch seconds, errors as `{"__type": "<ErrorName>", "message": "..."}` with the error
 * names of the Step Functions API reference (ExecutionAlreadyExists, InvalidName,
 * InvalidArn, InvalidExecutionInput, StateMachineDoesNotExist, ExecutionDoesNotExist,
 * InvalidToken, TaskTimedOut, InvalidOutput).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { VirtualClock } from '../clock';
import { partitionOf } from './arn';
import { SimulatedServiceError } from './errors';
import { CallRecorder, type RecordedCall, type SimulatedService } from './recorder';
import { parseInput } from './validation';

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Execution names (and state machine names): 1-80 characters of A-Z, a-z, 0-9, - and _. */
export const EXECUTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
/** The largest input or output Step Functions accepts: 256 KiB of UTF-8. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export interface ExecutionSnapshot {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  /** The input as given (JSON text). */
  readonly input: string;
  /** Virtual epoch ms. */
  readonly startDate: number;
  readonly stopDate?: number;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** Runs the executions of a state machine (the rehearsal engine). */
export interface ExecutionRunner {
  /** A new execution, RUNNING: start it. Called during StartExecution; must not block. */
  start(execution: ExecutionSnapshot): void;
  /** StopExecution: the execution is ABORTED already; end the run. */
  stop(execution: ExecutionSnapshot): void;
}

export type ExecutionOutcome =
  | { readonly status: 'SUCCEEDED'; readonly output: unknown }
  | { readonly status: 'FAILED' | 'TIMED_OUT' | 'ABORTED'; readonly error?: string; readonly cause?: string };

export type TaskTokenOutcome =
  { readonly kind: 'success'; readonly output: string } | { readonly kind: 'failure'; readonly error?: string; readonly cause?: string };

export interface StepFunctionsSimulatorOptions {
  clock: VirtualClock;
  region?: string;
  accountId?: string;
}

export interface DefineStateMachineInput {
  readonly name: string;
  readonly runner: ExecutionRunner;
}

/** A recorded call; `service` is `stepfunctions`. */
export type StepFunctionsCall = Omit<RecordedCall, 'service'> & { service: 'stepfunctions' };

// ---------------------------------------------------------------------------------

const Arn = z.string().min(1).max(2048);
const StartExecutionInput = z.object({
  stateMachineArn: Arn,
  name: z.string().optional(),
  input: z.string().optional(),
  traceHeader: z.string().max(256).optional(),
});
const ExecutionArnInput = z.object({ executionArn: Arn, includedData: z.string().optional() });
const StopExecutionInput = z.object({
  executionArn: Arn,
  error: z.string().max(256).optional(),
  cause: z.string().max(32768).optional(),
});
const ListExecutionsInput = z.object({
  stateMachineArn: Arn,
  statusFilter: z.enum([...EXECUTION_STATUSES, 'PENDING_REDRIVE']).optional(),
  maxResults: z.number().int().min(0).max(1000).optional(),
  nextToken: z.string().min(1).max(3096).optional(),
});
const TaskToken = z.string().min(1).max(2048);
const SendTaskSuccessInput = z.object({ taskToken: TaskToken, output: z.string() });
const SendTaskFailureInput = z.object({
  taskToken: TaskToken,
  error: z.string().max(256).optional(),
  cause: z.string().max(32768).optional(),
});
const SendTaskHeartbeatInput = z.object({ taskToken: TaskToken });

const DEFAULT_PAGE_SIZE = 100;
const TOKEN_PREFIX = 'AQCEAAAAKgAAAAMAAAAAAAAAA';

interface StateMachineRecord {
  readonly arn: string;
  readonly name: string;
  readonly runner: ExecutionRunner;
}

interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: number;
  /** Order of creation, to sort executions started at the same virtual time. */
  readonly seq: number;
  status: ExecutionStatus;
  stopDate: number | undefined;
  output: string | undefined;
  error: string | undefined;
  cause: string | undefined;
}

interface TaskTokenRecord {
  readonly token: string;
  readonly executionArn: string;
  stateName: string;
  open: boolean;
  /** An outcome sent before anyone awaited it (the task's own function answered). */
  pending: TaskTokenOutcome | undefined;
  listener: ((outcome: TaskTokenOutcome) => void) | undefined;
  heartbeats: number;
}

export class StepFunctionsSimulator {
  readonly region: string;
  readonly accountId: string;

  private readonly clock: VirtualClock;
  private readonly recorder: CallRecorder<SimulatedService>;
  private readonly stateMachines = new Map<string, StateMachineRecord>();
  private readonly executionRecords = new Map<string, ExecutionRecord>();
  private readonly tokens = new Map<string, TaskTokenRecord>();
  private nextSeq = 0;
  private readonly operations: ReadonlyMap<string, (input: unknown) => unknown>;

  constructor(options: StepFunctionsSimulatorOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '123456789012';
    // recorder.ts names the services it was written for; the call log is the same for this one.
    this.recorder = new CallRecorder('stepfunctions', this.clock);
    this.operations = new Map<string, (input: unknown) => unknown>([
      ['StartExecution', (input) => this.startExecution(input)],
      ['DescribeExecution', (input) => this.describeExecution(input)],
      ['StopExecution', (input) => this.stopExecution(input)],
      ['ListExecutions', (input) => this.listExecutions(input)],
      ['SendTaskSuccess', (input) => this.sendTaskSuccess(input)],
      ['SendTaskFailure', (input) => this.sendTaskFailure(input)],
      ['SendTaskHeartbeat', (input) => this.sendTaskHeartbeat(input)],
    ]);
  }

  /** Forgets every state machine, execution, token and recorded call. */
  reset(): void {
    this.stateMachines.clear();
    this.executionRecords.clear();
    this.tokens.clear();
    this.recorder.reset();
  }

  /** Every request received, in order, including throttled and rejected ones. */
  get calls(): StepFunctionsCall[] {
    return this.recorder.calls as unknown as StepFunctionsCall[];
  }

  /** Calls that could change state: everything but Describe*, List* and Get*. */
  mutatingCalls(): StepFunctionsCall[] {
    return this.recorder.mutatingCalls() as unknown as StepFunctionsCall[];
  }

  /** The next `times` calls of `operation` get ThrottlingException. */
  throttle(operation: string, times: number): void {
    this.recorder.throttle(operation, times);
  }

  /** Entry point of the HTTP layer: one JSON-protocol operation. */
  handle(operation: string, input: unknown): unknown {
    return this.recorder.run(operation, input, () => {
      const handler = this.operations.get(operation);
      if (!handler) throw new SimulatedServiceError('UnknownOperationException', `Operation AWSStepFunctions.${operation} is not supported.`);
      return handler(input);
    });
  }

  // -------------------------------------------------------------------------------
  // Scenario API and the runner's side.

  /** Creates (or replaces) a Standard state machine whose executions `runner` runs; returns its ARN. */
  defineStateMachine(input: DefineStateMachineInput): string {
    if (!EXECUTION_NAME_PATTERN.test(input.name)) throw new RangeError(`defineStateMachine: invalid state machine name '${input.name}'`);
    const arn = `${this.arnPrefix()}stateMachine:${input.name}`;
    this.stateMachines.set(arn, { arn, name: input.name, runner: input.runner });
    return arn;
  }

  /** The ARN a state machine of this name has. */
  stateMachineArn(name: string): string {
    return `${this.arnPrefix()}stateMachine:${name}`;
  }

  /** Records how a RUNNING execution ended; ignored once it has ended (a stopped execution stays ABORTED). */
  complete(executionArn: string, outcome: ExecutionOutcome): void {
    const execution = this.executionRecords.get(executionArn);
    if (!execution) throw new Error(`complete: no execution ${executionArn}`);
    if (execution.status !== 'RUNNING') return;
    execution.status = outcome.status;
    execution.stopDate = this.clock.now();
    if (outcome.status === 'SUCCEEDED') execution.output = JSON.stringify(outcome.output ?? null);
    else {
      execution.error = outcome.error;
      execution.cause = outcome.cause;
    }
    this.closeTokensOf(executionArn);
  }

  /** A new task token for a task of an execution (`$$.Task.Token`); opaque, like the service's. */
  createTaskToken(executionArn: string): string {
    const seq = this.nextSeq++;
    const token = TOKEN_PREFIX + Buffer.from(JSON.stringify({ e: executionArn, n: seq, r: randomUUID() })).toString('base64url');
    this.tokens.set(token, { token, executionArn, stateName: '', open: true, pending: undefined, listener: undefined, heartbeats: 0 });
    return token;
  }

  /** The task in state `stateName` waits on `token`: `listener` gets its outcome once (at once if it was sent already). */
  awaitTaskToken(token: string, stateName: string, listener: (outcome: TaskTokenOutcome) => void): void {
    const record = this.tokens.get(token);
    if (!record) throw new Error(`awaitTaskToken: unknown task token`);
    record.stateName = stateName;
    if (record.pending) {
      const outcome = record.pending;
      record.pending = undefined;
      listener(outcome);
      return;
    }
    record.listener = listener;
  }

  /** The task no longer waits (it timed out, or its execution ended): later callbacks get TaskTimedOut. */
  closeTaskToken(token: string): void {
    const record = this.tokens.get(token);
    if (record) {
      record.open = false;
      record.listener = undefined;
    }
  }

  /** Task tokens still open, oldest first (for tests and for operator actions in scenarios). */
  openTaskTokens(executionArn?: string): Array<{ token: string; executionArn: string; stateName: string; heartbeats: number }> {
    return [...this.tokens.values()]
      .filter((record) => record.open && (executionArn === undefined || record.executionArn === executionArn))
      .map(({ token, executionArn: arn, stateName, heartbeats }) => ({ token, executionArn: arn, stateName, heartbeats }));
  }

  execution(executionArn: string): ExecutionSnapshot | undefined {
    const record = this.executionRecords.get(executionArn);
    return record && snapshotOf(record);
  }

  /** Executions in the order they were started, of one state machine or of all. */
  executions(stateMachineArn?: string): ExecutionSnapshot[] {
    return [...this.executionRecords.values()].filter((e) => stateMachineArn === undefined || e.stateMachineArn === stateMachineArn).map(snapshotOf);
  }

  // -------------------------------------------------------------------------------
  // Operations.

  private startExecution(raw: unknown): unknown {
    const input = this.parse(StartExecutionInput, raw);
    const stateMachine = this.requireStateMachine(input.stateMachineArn);
    const name = input.name ?? randomUUID();
    if (!EXECUTION_NAME_PATTERN.test(name)) throw new SimulatedServiceError('InvalidName', `Invalid Name: '${name}'`);
    const executionInput = input.input ?? '{}';
    if (Buffer.byteLength(executionInput, 'utf8') > MAX_PAYLOAD_BYTES) {
      throw new SimulatedServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: 'Input is larger than ${MAX_PAYLOAD_BYTES} bytes'`);
    }
    try {
      JSON.parse(executionInput);
    } catch (error) {
      throw new SimulatedServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`);
    }
    const executionArn = `${this.arnPrefix()}execution:${stateMachine.name}:${name}`;
    const existing = this.executionRecords.get(executionArn);
    if (existing) {
      // Standard workflows: the same name and input while RUNNING is the same request again.
      if (existing.status === 'RUNNING' && existing.input === executionInput) {
        return { executionArn, startDate: epochSeconds(existing.startDate) };
      }
      throw new SimulatedServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: stateMachine.arn,
      name,
      input: executionInput,
      startDate: this.clock.now(),
      seq: this.nextSeq++,
      status: 'RUNNING',
      stopDate: undefined,
      output: undefined,
      error: undefined,
      cause: undefined,
    };
    this.executionRecords.set(executionArn, record);
    stateMachine.runner.start(snapshotOf(record));
    return { executionArn, startDate: epochSeconds(record.startDate) };
  }

  private describeExecution(raw: unknown): unknown {
    const execution = this.requireExecution(this.parse(ExecutionArnInput, raw).executionArn);
    return {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: epochSeconds(execution.startDate),
      ...(execution.stopDate !== undefined ? { stopDate: epochSeconds(execution.stopDate) } : {}),
      input: execution.input,
      inputDetails: { included: true },
      ...(execution.output !== undefined ? { output: execution.output, outputDetails: { included: true } } : {}),
      ...(execution.error !== undefined ? { error: execution.error } : {}),
      ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
  }

  private stopExecution(raw: unknown): unknown {
    const input = this.parse(StopExecutionInput, raw);
    const execution = this.requireExecution(input.executionArn);
    // Stopping an execution that has ended changes nothing; the call still succeeds.
    if (execution.status !== 'RUNNING') return { stopDate: epochSeconds(execution.stopDate ?? this.clock.now()) };
    execution.status = 'ABORTED';
    execution.stopDate = this.clock.now();
    execution.error = input.error;
    execution.cause = input.cause;
    this.closeTokensOf(execution.executionArn);
    this.stateMachines.get(execution.stateMachineArn)?.runner.stop(snapshotOf(execution));
    return { stopDate: epochSeconds(execution.stopDate) };
  }

  private listExecutions(raw: unknown): unknown {
    const input = this.parse(ListExecutionsInput, raw);
    const stateMachine = this.requireStateMachine(input.stateMachineArn);
    const matching = [...this.executionRecords.values()]
      .filter((e) => e.stateMachineArn === stateMachine.arn && (input.statusFilter === undefined || e.status === input.statusFilter))
      // Newest first, as the service lists them.
      .sort((a, b) => b.startDate - a.startDate || b.seq - a.seq);
    const offset = input.nextToken === undefined ? 0 : this.offsetOf(input.nextToken, stateMachine.arn, input.statusFilter);
    const pageSize = input.maxResults || DEFAULT_PAGE_SIZE;
    const page = matching.slice(offset, offset + pageSize);
    const next = offset + page.length;
    return {
      executions: page.map((e) => ({
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: epochSeconds(e.startDate),
        ...(e.stopDate !== undefined ? { stopDate: epochSeconds(e.stopDate) } : {}),
      })),
      ...(next < matching.length
        ? { nextToken: Buffer.from(JSON.stringify({ o: next, m: stateMachine.arn, f: input.statusFilter ?? null })).toString('base64url') }
        : {}),
    };
  }

  private sendTaskSuccess(raw: unknown): unknown {
    const input = this.parse(SendTaskSuccessInput, raw);
    const record = this.requireOpenToken(input.taskToken);
    if (Buffer.byteLength(input.output, 'utf8') > MAX_PAYLOAD_BYTES) {
      throw new SimulatedServiceError('InvalidOutput', `Invalid Output: 'Output is larger than ${MAX_PAYLOAD_BYTES} bytes'`);
    }
    try {
      JSON.parse(input.output);
    } catch (error) {
      throw new SimulatedServiceError('InvalidOutput', `Invalid Output: '${(error as Error).message}'`);
    }
    this.deliver(record, { kind: 'success', output: input.output });
    return {};
  }

  private sendTaskFailure(raw: unknown): unknown {
    const input = this.parse(SendTaskFailureInput, raw);
    const record = this.requireOpenToken(input.taskToken);
    this.deliver(record, {
      kind: 'failure',
      ...(input.error !== undefined ? { error: input.error } : {}),
      ...(input.cause !== undefined ? { cause: input.cause } : {}),
    });
    return {};
  }

  private sendTaskHeartbeat(raw: unknown): unknown {
    const record = this.requireOpenToken(this.parse(SendTaskHeartbeatInput, raw).taskToken);
    record.heartbeats++;
    return {};
  }

  // -------------------------------------------------------------------------------

  private deliver(record: TaskTokenRecord, outcome: TaskTokenOutcome): void {
    record.open = false;
    const listener = record.listener;
    record.listener = undefined;
    if (listener) listener(outcome);
    else record.pending = outcome;
  }

  private closeTokensOf(executionArn: string): void {
    for (const record of this.tokens.values()) {
      if (record.executionArn === executionArn) {
        record.open = false;
        record.listener = undefined;
        record.pending = undefined;
      }
    }
  }

  private requireOpenToken(token: string): TaskTokenRecord {
    const record = this.tokens.get(token);
    if (!record) {
      // Tokens are opaque: one this account never issued is simply not valid.
      throw new SimulatedServiceError('InvalidToken', `Invalid Token: 'Invalid token'`);
    }
    if (!record.open) throw new SimulatedServiceError('TaskTimedOut', `Task Timed Out: 'Provided task does not exist anymore'`);
    return record;
  }

  private requireStateMachine(arn: string): StateMachineRecord {
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}(:[A-Za-z0-9_$.-]+)?$/.test(arn)) {
      throw new SimulatedServiceError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
    }
    const stateMachine = this.stateMachines.get(arn);
    if (!stateMachine) throw new SimulatedServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return stateMachine;
  }

  private requireExecution(arn: string): ExecutionRecord {
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}$/.test(arn)) {
      throw new SimulatedServiceError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
    }
    const execution = this.executionRecords.get(arn);
    if (!execution) throw new SimulatedServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  private offsetOf(token: string, stateMachineArn: string, statusFilter: string | undefined): number {
    try {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; m?: unknown; f?: unknown };
      if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 && parsed.m === stateMachineArn && parsed.f === (statusFilter ?? null)) {
        return parsed.o;
      }
    } catch {
      // falls through to the error below
    }
    throw new SimulatedServiceError('InvalidToken', `Invalid Token: 'Invalid nextToken'`);
  }

  private parse<T>(schema: z.ZodType<T>, input: unknown): T {
    return parseInput(schema, input, (message) => new SimulatedServiceError('ValidationException', message));
  }

  private arnPrefix(): string {
    return `arn:${partitionOf(this.region)}:states:${this.region}:${this.accountId}:`;
  }
}

function snapshotOf(record: ExecutionRecord): ExecutionSnapshot {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    input: record.input,
    startDate: record.startDate,
    ...(record.stopDate !== undefined ? { stopDate: record.stopDate } : {}),
    ...(record.output !== undefined ? { output: record.output } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
  };
}

function epochSeconds(epochMs: number): number {
  return epochMs / 1000;
}
