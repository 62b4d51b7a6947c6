/**
 * The rehearsal engine: runs the very state machine `cdk deploy` ships, locally, with
 * aws-local-stepfunctions. Every Lambda task is bound to its real handler module (in the
 * `{ Payload }` envelope lambda:invoke produces); the handlers reach the SageMaker,
 * CloudWatch, Step Functions and EventBridge simulators and a dynalite DynamoDB over HTTP
 * through the real SDK clients. Time is virtual: Wait states, Retry intervals and tasks
 * waiting for their token sleep in virtual time, and at every virtual minute the data
 * plane publishes the endpoint's traffic metrics and CloudWatch evaluates the alarms.
 *
 * Several executions run at once in one virtual time: each is an actor of the scheduler
 * (rehearsal/scheduler.ts), started through the Step Functions simulator's
 * StartExecution like the real service starts them. A RehearsalSession drives one
 * rehearsal (start executions, deliver approval events, act at a virtual time or when an
 * execution enters a state, run, inspect); `Rehearsal.run` is a session with one
 * execution.
 */
import './polyfills';
import { join } from 'node:path';
import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import {
  InvalidConfigurationError,
  parseConfig,
  targetName,
  type ReleaseManagerConfig,
  type ReleaseManagerConfigInput,
  type TargetConfig,
} from '../lambdas/domain/config';
import { Ledger } from '../lambdas/aws/ledger';
import type * as CommonModule from '../lambdas/handlers/common';
import type { HandlerName } from '../lib/release-functions';
import { VirtualClock, virtualDate, withGlobalDate } from './clock';
import { estimateCost } from './cost';
import {
  interpreterDefinition,
  synthesizeWorkflow,
  REHEARSAL_ACCOUNT,
  REHEARSAL_REGION,
  TIMEOUT_PARAMETER,
  waitsForTaskToken,
  type AslDefinition,
  type AslState,
} from './definition';
import { checkExpectation, liveVersionOf, markersOf, seriesOf, type AlarmSummary } from './measure';
import type { CostEstimate, Marker, SeriesPoint, Usage } from './model';
import { readableCause, sharesOf } from './report';
import { InvalidScenarioError, parseScenario, type Scenario, type ScenarioInput, type PolicyOverride, type Traffic } from './scenario';
import { DeadlockError, Scheduler, type Actor } from './scheduler';
import { recreateLedgerTable, startDynalite, startSimulators, type LocalDynamo, type RunningSimulators } from './simulator';
import { DataPlaneSimulator } from './simulator/dataplane';
import type { RecordedEvent } from './simulator/eventbridge';
import type { EndpointSnapshot } from './simulator/sagemaker';
import type {
  ExecutionOutcome,
  ExecutionRunner,
  ExecutionSnapshot,
  ExecutionStatus,
  StepFunctionsSimulator,
  TaskTokenOutcome,
} from './simulator/stepfunctions';
import { seedWorld, type ModelPackageStateChangeEvent, type World } from './world';

export { BASELINE_VARIANT } from './world';
export type { ModelPackageStateChangeEvent } from './world';
export type { ExecutionStatus } from './simulator/stepfunctions';
export type { RecordedEvent } from './simulator/eventbridge';

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface TimelineEntry {
  /** Virtual seconds since the rehearsal started (its first execution starts then). */
  readonly at: number;
  readonly state: string;
  readonly kind: 'task' | 'wait' | 'error' | 'retry' | 'fault' | 'end';
  readonly detail: string;
  /** Candidate and baseline traffic shares after the state, in percent. */
  readonly weights?: Record<string, number>;
  readonly output?: unknown;
}

/** One execution of a rehearsal, as the session saw it. */
export interface ExecutionSummary {
  readonly name: string;
  readonly executionArn: string;
  readonly input: unknown;
  readonly status: ExecutionStatus;
  readonly error?: string;
  readonly cause?: string;
  readonly output?: unknown;
  /** Virtual seconds since the rehearsal started. */
  readonly startedAt: number;
  readonly stoppedAt?: number;
  /** States entered, retries included (what Step Functions bills); known once the execution ended. */
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** This execution's entries, `at` in virtual seconds since the rehearsal started. */
  readonly timeline: readonly TimelineEntry[];
}

export interface RehearsalResult {
  readonly scenario: Scenario;
  readonly target: string;
  /** SUCCEEDED, or FAILED for any other end (a timed-out or stopped execution too, with error States.Timeout / ExecutionAborted). */
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly cause?: string;
  readonly virtualSeconds: number;
  readonly wallMilliseconds: number;
  readonly timeline: readonly TimelineEntry[];
  /** The endpoint after the execution; undefined when it does not exist. */
  readonly endpoint: EndpointSnapshot | undefined;
  /** The model package version serving all the endpoint's traffic at the end; null without an endpoint, undefined when traffic is split or the endpoint serves nothing (Failed, Creating). */
  readonly liveVersion: number | null | undefined;
  readonly candidateVariant: string;
  readonly lambdaInvocations: number;
  readonly sagemakerCalls: number;
  readonly cloudwatchCalls: number;
  readonly usage: Usage;
  readonly cost: CostEstimate;
  /** Every SageMaker call that could change something, in order; `error` is set for a call that was rejected (throttled, invalid). */
  readonly mutatingCalls: ReadonlyArray<{ operation: string; input: unknown; error?: string }>;
  readonly models: readonly string[];
  readonly endpointConfigs: readonly string[];
  /** One point per virtual minute of traffic on the endpoint. */
  readonly series: readonly SeriesPoint[];
  readonly markers: readonly Marker[];
  readonly alarms: readonly AlarmSummary[];
  readonly faults: ReadonlyArray<{ type: string; trigger: string; firedAt?: number }>;
  /** Present when the scenario has `expect`. */
  readonly expectation?: { readonly met: boolean; readonly failures: readonly string[] };
  /** Every execution of the rehearsal (one for `Rehearsal.run`). Always set by the engine; optional for hand-built results. */
  readonly executions?: readonly ExecutionSummary[];
  /** The lifecycle events put on EventBridge, in order. Always set by the engine; optional for hand-built results. */
  readonly events?: readonly RecordedEvent[];
}

// =====================================================================================
// Running a state machine definition on the scheduler.

/** An execution, as task functions and observers see it. */
export interface ExecutionView {
  readonly executionArn: string;
  readonly name: string;
  readonly input: unknown;
  /** Virtual epoch ms. */
  readonly startDate: number;
}

export interface TaskInvocation {
  readonly stateName: string;
  readonly execution: ExecutionView;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /** The task token, for a `.waitForTaskToken` task whose Parameters use `$$.Task.Token`. */
  readonly taskToken?: string;
}

/**
 * What runs a Task state: it gets the state's effective input after Parameters and
 * returns its result. For a `.waitForTaskToken` task the result is ignored: the task's
 * result is the output of SendTaskSuccess.
 */
export type TaskFunction = (input: unknown, invocation: TaskInvocation) => Promise<unknown>;

export interface StateMachineObserver {
  /** A Task or Wait state was entered (not on retries), before it does anything. Return true when actors were scheduled to act first (the execution lets them). */
  stateEntered?(execution: ExecutionView, stateName: string, occurrence: number): boolean;
  waited?(execution: ExecutionView, stateName: string, seconds: number): void;
  /** A task failed; `retryInSeconds` when its Retry policy will run it again after that long. */
  taskFailed?(execution: ExecutionView, stateName: string, error: Error, retryInSeconds: number | undefined): void;
  /** SendTaskSuccess answered a task waiting for its token. */
  tokenAnswered?(execution: ExecutionView, stateName: string, output: unknown, waitedSeconds: number): void;
  ended?(execution: ExecutionView, snapshot: ExecutionSnapshot, stateTransitions: number): void;
}

export interface LocalStateMachineOptions {
  /** The state machine's name (the last part of its ARN). */
  readonly name: string;
  readonly definition: AslDefinition;
  /** A function for every Task state, by state name. */
  readonly tasks: Readonly<Record<string, TaskFunction>>;
  readonly scheduler: Scheduler;
  readonly stepfunctions: StepFunctionsSimulator;
  readonly observer?: StateMachineObserver;
}

/** Thrown inside an execution that has ended from outside (stopped, timed out, deadlocked, abandoned): unwinds the interpreter. */
class RunEnded extends Error {
  // aws-local-stepfunctions reads these: the error must neither be retried nor caught.
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor() {
    super('The execution has ended');
    this.name = 'Rehearsal.ExecutionEnded';
  }
}

class ExecutionRun implements ExecutionView {
  readonly executionArn: string;
  readonly name: string;
  readonly input: unknown;
  readonly startDate: number;
  actor: Actor | undefined;
  readonly controller = new AbortController();
  deadline: number | undefined;
  /** How the execution ends when something outside the interpreter ended it (timeout, deadlock). */
  forced: ExecutionOutcome | undefined;
  abandoned = false;
  libraryAbort: (() => void) | undefined;
  stateTransitions = 0;
  readonly occurrences = new Map<string, number>();
  readonly attempts = new Map<string, number>();
  readonly retrying = new Set<string>();
  readonly retryCounts = new Map<string, number[]>();
  /** The token `$$.Task.Token` resolved to while the interpreter built the current task's input. */
  issuedToken: string | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(snapshot: ExecutionSnapshot) {
    this.executionArn = snapshot.executionArn;
    this.name = snapshot.name;
    this.input = JSON.parse(snapshot.input) as unknown;
    this.startDate = snapshot.startDate;
  }

  get ended(): boolean {
    return this.abandoned || this.forced !== undefined || this.controller.signal.aborted;
  }

  track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight++;
    return promise.finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  /** Resolves once no state of this execution is still unwinding. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** The interpreter for a definition (built once: validating it is most of the cost). */
const interpreters = new WeakMap<AslDefinition, StateMachine>();
function interpreterOf(definition: AslDefinition): StateMachine {
  let machine = interpreters.get(definition);
  if (!machine) {
    machine = new StateMachine(interpreterDefinition(definition) as never, { validationOptions: { checkArn: false, checkPaths: false } });
    interpreters.set(definition, machine);
  }
  return machine;
}

/**
 * The error aws-local-stepfunctions raises for a task timeout, captured once: a Catch or
 * Retry on States.TaskFailed must not match it (nor the one the engine raises in virtual
 * time), and the interpreter tells them apart by class.
 */
let statesTimeoutError: (new () => Error) | undefined;
async function captureStatesTimeoutError(): Promise<new () => Error> {
  if (statesTimeoutError) return statesTimeoutError;
  const machine = new StateMachine(
    {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:timeout', TimeoutSeconds: 0.001, End: true } },
    } as never,
    { validationOptions: { noValidate: true } },
  );
  const run = machine.run({}, { overrides: { taskResourceLocalHandlers: { T: () => new Promise<never>(() => undefined) } } });
  try {
    await run.result;
  } catch (error) {
    const inner = (error as Error).cause as Error | undefined;
    if (inner?.name === 'States.Timeout') statesTimeoutError = inner.constructor as new () => Error;
  }
  statesTimeoutError ??= class extends Error {
    constructor() {
      super('States.Timeout');
      this.name = 'States.Timeout';
    }
  };
  return statesTimeoutError;
}

/**
 * Runs the executions of one state machine definition on the scheduler: one actor per
 * execution, every Wait, Retry interval and task-token wait a virtual sleep, the
 * execution's TimeoutSeconds and each Task's TimeoutSeconds(Path) in virtual time. It is
 * the runner the Step Functions simulator starts and stops executions with.
 */
export class LocalStateMachine implements ExecutionRunner {
  readonly arn: string;
  readonly name: string;
  readonly definition: AslDefinition;
  private readonly tasks: Readonly<Record<string, TaskFunction>>;
  private readonly scheduler: Scheduler;
  private readonly stepfunctions: StepFunctionsSimulator;
  private readonly observer: StateMachineObserver | undefined;
  private readonly runs = new Map<string, ExecutionRun>();
  private timeoutError: new () => Error = class extends Error {};

  private constructor(options: LocalStateMachineOptions) {
    this.name = options.name;
    this.definition = options.definition;
    this.tasks = options.tasks;
    this.scheduler = options.scheduler;
    this.stepfunctions = options.stepfunctions;
    this.observer = options.observer;
    const unbound = Object.entries(options.definition.States)
      .filter(([name, state]) => state.Type === 'Task' && !options.tasks[name])
      .map(([name]) => name);
    if (unbound.length > 0) throw new Error(`No local task for Task state(s) ${unbound.map((n) => `"${n}"`).join(', ')}`);
    this.arn = options.stepfunctions.defineStateMachine({ name: options.name, runner: this });
  }

  /** Validates the definition (once per definition) and defines the state machine in the simulator. */
  static async create(options: LocalStateMachineOptions): Promise<LocalStateMachine> {
    const machine = new LocalStateMachine(options);
    interpreterOf(options.definition);
    machine.timeoutError = await captureStatesTimeoutError();
    return machine;
  }

  start(snapshot: ExecutionSnapshot): void {
    const run = new ExecutionRun(snapshot);
    this.runs.set(snapshot.executionArn, run);
    void this.scheduler.spawn(`execution ${snapshot.name}`, (actor) => this.execute(run, actor));
  }

  stop(snapshot: ExecutionSnapshot): void {
    // The interpreter is aborted from the execution's own turn, so that only one actor runs at a time.
    this.runs.get(snapshot.executionArn)?.controller.abort(new RunEnded());
  }

  /** Gives up every execution still going (a new rehearsal starts): nothing is recorded for them any more. */
  abandon(): void {
    for (const run of this.runs.values()) {
      run.abandoned = true;
      run.controller.abort(new RunEnded());
    }
  }

  private async execute(run: ExecutionRun, actor: Actor): Promise<void> {
    run.actor = actor;
    if (this.definition.TimeoutSeconds !== undefined) run.deadline = run.startDate + this.definition.TimeoutSeconds * 1000;
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, state] of Object.entries(this.definition.States)) {
      if (state.Type === 'Task' || state.Type === 'Wait') overrides[name] = (input) => run.track(this.runState(run, name, input));
    }
    const stepfunctions = this.stepfunctions;
    const clock = this.scheduler.clock;
    const context = {
      Execution: {
        Id: run.executionArn,
        Name: run.name,
        Input: run.input,
        StartTime: new Date(run.startDate).toISOString(),
        RoleArn: `arn:aws:iam::${this.stepfunctions.accountId}:role/${this.name}-role`,
        RedriveCount: 0,
      },
      StateMachine: { Id: this.arn, Name: this.name },
      // One token per task attempt, made when the interpreter resolves `$$.Task.Token` in the task's Parameters.
      Task: {
        get Token(): string {
          return (run.issuedToken ??= stepfunctions.createTaskToken(run.executionArn));
        },
      },
      State: {
        get EnteredTime(): string {
          return new Date(clock.now()).toISOString();
        },
      },
    };
    // The interpreter stamps $$.Execution.StartTime with `new Date()` when the run starts: the execution's virtual start.
    const execution = withGlobalDate(
      virtualDate(() => run.startDate),
      () =>
        interpreterOf(this.definition).run(run.input as never, {
          overrides: {
            taskResourceLocalHandlers: overrides as never,
            // Retry intervals are slept in virtual time by the task overrides.
            retryIntervalOverrides: new Proxy({}, { get: () => 0 }) as never,
          },
          context: context as never,
        }),
    );
    run.libraryAbort = () => execution.abort();
    // Step Functions bills every state entered, retries included.
    const counting = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered' || event.type === 'StateRetried') run.stateTransitions++;
      }
    })();

    let outcome: ExecutionOutcome;
    try {
      outcome = { status: 'SUCCEEDED', output: await execution.result };
    } catch (failure) {
      if (run.forced) outcome = run.forced;
      else if (run.controller.signal.aborted || failure instanceof ExecutionAbortedError) outcome = { status: 'ABORTED' };
      else {
        const inner = ((failure as Error).cause as Error | undefined) ?? (failure as Error);
        outcome = { status: 'FAILED', error: inner.name, cause: inner.message };
      }
    }
    await run.idle();
    await counting.catch(() => undefined);
    if (run.abandoned) return;
    this.stepfunctions.complete(run.executionArn, outcome);
    this.observer?.ended?.(run, this.stepfunctions.execution(run.executionArn)!, run.stateTransitions);
  }

  private async runState(run: ExecutionRun, name: string, rawInput: unknown): Promise<unknown> {
    // First, while the interpreter is still where it resolved the Parameters: the token they carry.
    const token = run.issuedToken;
    run.issuedToken = undefined;
    const state = this.definition.States[name]!;
    const { input, timeoutSeconds } = this.unwrap(state, rawInput);
    await Promise.resolve();
    this.ensureLive(run);
    if (run.retrying.delete(name)) {
      run.attempts.set(name, (run.attempts.get(name) ?? 1) + 1);
    } else {
      const occurrence = (run.occurrences.get(name) ?? 0) + 1;
      run.occurrences.set(name, occurrence);
      run.attempts.set(name, 1);
      // Actors acting on this state entry (operator actions, faults) take their turn before the state works.
      if (this.observer?.stateEntered?.(run, name, occurrence)) await this.pause(run, 0);
    }
    if (state.Type === 'Wait') {
      const seconds = waitSecondsOf(state, input, this.scheduler.clock.now());
      await this.pause(run, seconds);
      this.observer?.waited?.(run, name, seconds);
      return input;
    }
    return this.runTask(run, name, state, input, token, timeoutSeconds);
  }

  private async runTask(
    run: ExecutionRun,
    name: string,
    state: AslState,
    input: unknown,
    token: string | undefined,
    timeoutSeconds: number | undefined,
  ): Promise<unknown> {
    const callback = waitsForTaskToken(state);
    const taskToken = callback ? (token ?? this.stepfunctions.createTaskToken(run.executionArn)) : token;
    try {
      const result = await this.tasks[name]!(input, {
        stateName: name,
        execution: run,
        attempt: run.attempts.get(name) ?? 1,
        ...(taskToken !== undefined ? { taskToken } : {}),
      });
      this.ensureLive(run);
      const output = callback ? await this.awaitToken(run, name, taskToken!, timeoutSeconds) : result;
      run.retryCounts.delete(name);
      return output;
    } catch (caught) {
      if (caught instanceof RunEnded || run.ended) {
        this.ensureLive(run);
        throw caught;
      }
      const error = caught instanceof Error ? caught : new Error(String(caught));
      const delay = retryDelay(state, error, run.retryCounts, name, error instanceof this.timeoutError);
      this.observer?.taskFailed?.(run, name, error, delay);
      if (delay === undefined) {
        // A final failure: the next entry of this state starts its Retry count afresh, as the interpreter does.
        run.retryCounts.delete(name);
        throw error;
      }
      run.retrying.add(name);
      await this.pause(run, delay);
      throw error;
    }
  }

  /** Waits (asleep) for SendTaskSuccess / SendTaskFailure on `token`, at most `timeoutSeconds`. */
  private async awaitToken(run: ExecutionRun, name: string, token: string, timeoutSeconds: number | undefined): Promise<unknown> {
    const now = this.scheduler.clock.now();
    const untilDeadline = run.deadline === undefined ? Infinity : Math.max(0, (run.deadline - now) / 1000);
    const limit = Math.min(timeoutSeconds ?? Infinity, untilDeadline);
    const waiting = this.scheduler.wait<TaskTokenOutcome>(run.actor!, {
      reason: `its task token in state "${name}" (SendTaskSuccess or SendTaskFailure)`,
      signal: run.controller.signal,
      ...(Number.isFinite(limit) ? { timeoutSeconds: limit } : {}),
    });
    this.stepfunctions.awaitTaskToken(token, name, (outcome) => waiting.wake(outcome));
    let result;
    try {
      result = await waiting.promise;
    } catch (error) {
      this.stepfunctions.closeTaskToken(token);
      if (error instanceof DeadlockError) run.forced = { status: 'FAILED', error: error.name, cause: error.message };
      this.ensureLive(run);
      throw error;
    }
    this.ensureLive(run);
    if (!result.woken) {
      this.stepfunctions.closeTaskToken(token);
      if (limit === untilDeadline && limit < (timeoutSeconds ?? Infinity)) this.timeOut(run);
      throw new this.timeoutError();
    }
    const outcome = result.value;
    if (outcome.kind === 'failure') {
      const error = new Error(outcome.cause ?? '');
      // Without an error name, Step Functions reports the failure as a task failure.
      error.name = outcome.error ?? 'States.TaskFailed';
      throw error;
    }
    const output = JSON.parse(outcome.output) as unknown;
    this.observer?.tokenAnswered?.(run, name, output, (this.scheduler.clock.now() - now) / 1000);
    return output;
  }

  /** Sleeps `seconds` of virtual time, or until the execution's deadline and then times it out. */
  private async pause(run: ExecutionRun, seconds: number): Promise<void> {
    const now = this.scheduler.clock.now();
    const timesOut = run.deadline !== undefined && now + seconds * 1000 > run.deadline;
    try {
      await this.scheduler.sleep(run.actor!, timesOut ? Math.max(0, (run.deadline! - now) / 1000) : seconds, run.controller.signal);
    } catch (error) {
      this.ensureLive(run);
      throw error;
    }
    if (timesOut) this.timeOut(run);
    this.ensureLive(run);
  }

  private timeOut(run: ExecutionRun): never {
    run.forced ??= {
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: `The execution ran longer than the state machine's TimeoutSeconds (${this.definition.TimeoutSeconds} s)`,
    };
    this.ensureLive(run);
    throw new RunEnded();
  }

  /** Throws RunEnded (aborting the interpreter) when the execution has ended from outside. */
  private ensureLive(run: ExecutionRun): void {
    if (!run.ended) return;
    if (!run.abandoned) run.libraryAbort?.();
    throw new RunEnded();
  }

  /** The task's input without the engine's hidden parameter, and its timeout in seconds (TimeoutSeconds or TimeoutSecondsPath). */
  private unwrap(state: AslState, rawInput: unknown): { input: unknown; timeoutSeconds: number | undefined } {
    let input = rawInput;
    let fromPath: unknown;
    if (state.Type === 'Task' && isRecord(rawInput) && TIMEOUT_PARAMETER in rawInput) {
      const { [TIMEOUT_PARAMETER]: value, ...rest } = rawInput;
      fromPath = value;
      input = rest;
    } else if (state.Type === 'Task' && typeof state.TimeoutSecondsPath === 'string') {
      fromPath = readPath(rawInput, state.TimeoutSecondsPath);
    }
    if (fromPath !== undefined && (typeof fromPath !== 'number' || !Number.isInteger(fromPath) || fromPath < 1)) {
      // States.Runtime, as Step Functions raises it: neither retried nor caught by States.ALL.
      throw Object.assign(new Error(`TimeoutSecondsPath ${String(state.TimeoutSecondsPath)} must select a positive integer, got ${JSON.stringify(fromPath)}`), {
        name: 'States.Runtime',
        isRetryable: false,
        isCatchable: false,
      });
    }
    const timeoutSeconds = typeof fromPath === 'number' ? fromPath : typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
    return { input, timeoutSeconds };
  }
}

/** Seconds a Wait state waits: Seconds, SecondsPath, or until Timestamp / TimestampPath (0 when that has passed). */
function waitSecondsOf(state: AslState, input: unknown, now: number): number {
  if (typeof state.Seconds === 'number') return state.Seconds;
  if (typeof state.SecondsPath === 'string') return Number(readPath(input, state.SecondsPath));
  const timestamp =
    typeof state.Timestamp === 'string' ? state.Timestamp : typeof state.TimestampPath === 'string' ? String(readPath(input, state.TimestampPath)) : undefined;
  if (timestamp !== undefined) return Math.max(0, (Date.parse(timestamp) - now) / 1000);
  return Number(readPath(input, '$'));
}

// =====================================================================================
// The process-wide host: simulators, dynalite, handler modules.

/** The handler modules, loaded on first use: a module that does not exist fails only the task that needs it. */
class HandlerLoader {
  private readonly dir = join(__dirname, '..', 'lambdas', 'handlers');
  private readonly modules = new Map<HandlerName, Promise<HandlerModule>>();
  private readonly bound = new WeakMap<ReleaseManagerConfig, Map<HandlerName, Promise<LambdaHandler>>>();
  private common: Promise<typeof CommonModule> | undefined;

  /** The Lambda handler `name` runs with for `config`. */
  handler(name: HandlerName, config: ReleaseManagerConfig): Promise<LambdaHandler> {
    let byName = this.bound.get(config);
    if (!byName) this.bound.set(config, (byName = new Map()));
    let handler = byName.get(name);
    if (!handler) {
      handler = this.bind(name, config);
      byName.set(name, handler);
      // A failed load is not cached: the module may appear (a team member is writing it).
      handler.catch(() => byName.delete(name));
    }
    return handler;
  }

  private async bind(name: HandlerName, config: ReleaseManagerConfig): Promise<LambdaHandler> {
    let loading = this.modules.get(name);
    if (!loading) {
      loading = import(join(this.dir, name)) as Promise<HandlerModule>;
      this.modules.set(name, loading);
      loading.catch(() => this.modules.delete(name));
    }
    const module = await loading;
    // A handler that needs the targets gets them as `configured(config)`.
    const configured = module.configured;
    if (configured) {
      this.common ??= import(join(this.dir, 'common')) as Promise<typeof CommonModule>;
      return (await this.common).lambdaHandler(configured(config)) as unknown as LambdaHandler;
    }
    if (typeof module.handler !== 'function') throw new Error(`Handler module ${name} exports neither handler nor configured(config)`);
    return module.handler;
  }
}

interface HandlerModule {
  handler?: LambdaHandler;
  configured?: (config: ReleaseManagerConfig) => (event: unknown) => Promise<unknown>;
}

/** One set of simulators and handler modules per process: the SDK clients keep the endpoint they first resolved. */
interface Host {
  readonly clock: VirtualClock;
  readonly scheduler: Scheduler;
  readonly sims: RunningSimulators;
  readonly dataPlane: DataPlaneSimulator;
  readonly dynamo: LocalDynamo;
  readonly ledgerTable: string;
  readonly ledger: Ledger;
  readonly handlers: HandlerLoader;
  /** The session running now; a new one abandons it. */
  session: RehearsalSession | undefined;
}
let hostPromise: Promise<Host> | undefined;

/** The ledger table of every rehearsal (emptied between rehearsals). */
export const REHEARSAL_LEDGER_TABLE = 'sagemaker-release-manager-ledger';

async function host(): Promise<Host> {
  hostPromise ??= (async () => {
    const clock = new VirtualClock();
    const scheduler = new Scheduler(clock);
    const [sims, dynamo] = await Promise.all([
      startSimulators({ clock, region: REHEARSAL_REGION, accountId: REHEARSAL_ACCOUNT }),
      startDynalite(REHEARSAL_REGION),
    ]);
    const dataPlane = new DataPlaneSimulator({ clock, sagemaker: sims.sagemaker, publish: (sample) => sims.cloudwatch.recordMetric(sample) });
    // Once a minute, as the services do: SageMaker publishes the minute's metrics, then CloudWatch evaluates the alarms.
    clock.onMinute((minute) => {
      dataPlane.tick(minute);
      sims.cloudwatch.evaluateAlarms(minute);
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SAGEMAKER: sims.urls.sagemaker,
      AWS_ENDPOINT_URL_CLOUDWATCH: sims.urls.cloudwatch,
      AWS_ENDPOINT_URL_SFN: sims.urls.stepfunctions,
      AWS_ENDPOINT_URL_EVENTBRIDGE: sims.urls.eventbridge,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      LEDGER_TABLE_NAME: REHEARSAL_LEDGER_TABLE,
      EVENT_BUS_NAME: 'default',
      AWS_REGION: REHEARSAL_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'AKIDREHEARSAL',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'rehearsal-secret',
      // Throttling reaches the state machine's Retry policies (in virtual time) instead of SDK sleeps in wall time.
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    });
    await recreateLedgerTable(dynamo, REHEARSAL_LEDGER_TABLE);
    await captureStatesTimeoutError();
    const ledger = new Ledger({ client: dynamo.client, tableName: REHEARSAL_LEDGER_TABLE });
    return { clock, scheduler, sims, dataPlane, dynamo, ledgerTable: REHEARSAL_LEDGER_TABLE, ledger, handlers: new HandlerLoader(), session: undefined };
  })();
  return hostPromise;
}

/** Stops the simulators and dynalite; the next rehearsal in this process starts them again. */
export async function shutdownRehearsals(): Promise<void> {
  const current = hostPromise;
  hostPromise = undefined;
  if (!current) return;
  const h = await current;
  h.session?.abandon();
  h.scheduler.reset();
  await Promise.all([h.sims.close(), h.dynamo.close()]);
}

// =====================================================================================
// Sessions.

export interface RehearsalOptions {
  /** Called for each timeline entry as it happens (live progress). */
  readonly onEntry?: (entry: TimelineEntry) => void;
}

export interface RehearsalSessionOptions extends RehearsalOptions {
  /**
   * While the executions run, `new Date()` and `Date.now()` give the virtual time in the
   * whole process, so handlers computing leases and timestamps live in the rehearsal's
   * time. @default true
   */
  readonly virtualDate?: boolean;
}

export interface WhenStateOptions {
  /** Only the N-th entry (1-based) of the state by an execution; every entry when absent. */
  readonly occurrence?: number;
  /** Only this execution (name or ARN). */
  readonly execution?: string;
}

type SessionAction = (session: RehearsalSession) => unknown;
type StateAction = (execution: ExecutionSummary, session: RehearsalSession) => unknown;

interface SessionExecution {
  readonly arn: string;
  readonly name: string;
  readonly timeline: TimelineEntry[];
  lambdaInvocations: number;
  readonly invocationsByHandler: Map<HandlerName, number>;
  stateTransitions: number;
}

/** What a Lambda function error looks like to the task (lambda:invoke's error), with the error the handler threw. */
const functionErrors = new WeakMap<Error, Error>();

/**
 * One rehearsal: the world of a scenario, the synthesized state machine defined in the
 * Step Functions simulator, and any number of executions in one virtual time. Create it
 * with `Rehearsal.session(scenario)`; only one session is live per process (a new one
 * resets the simulators and the ledger).
 */
export class RehearsalSession {
  readonly scenario: Scenario;
  readonly target: TargetConfig;
  readonly world: World;
  /** Virtual epoch ms when the session started; timeline times count from here. */
  readonly startedAt: number;
  /** The ledger, on the rehearsal's table. */
  readonly ledger: Ledger;
  private machine!: LocalStateMachine;
  private readonly entries: Array<{ execution: string | undefined; entry: TimelineEntry }> = [];
  private readonly executionRecords = new Map<string, SessionExecution>();
  private readonly hooks: Array<{ stateName: string; options: WhenStateOptions; action: StateAction }> = [];
  private readonly wallStart = performance.now();
  private deliveries = 0;

  private constructor(
    private readonly rehearsal: Rehearsal,
    private readonly host: Host,
    scenario: Scenario,
    private readonly options: RehearsalSessionOptions,
  ) {
    this.scenario = scenario;
    this.target = rehearsal.targetFor(scenario);
    this.startedAt = host.clock.now();
    this.ledger = host.ledger;
    this.world = seedWorld({
      scenario,
      target: this.target,
      sims: host.sims,
      dataPlane: host.dataPlane,
      clock: host.clock,
      onFault: (fault, detail) => this.record(undefined, { state: `Fault: ${fault.type}`, kind: 'fault', detail }),
    });
  }

  /** @internal Use Rehearsal.session. */
  static async open(rehearsal: Rehearsal, scenario: Scenario, options: RehearsalSessionOptions): Promise<RehearsalSession> {
    const h = await host();
    h.session?.abandon();
    h.session = undefined;
    h.scheduler.reset();
    h.clock.reset();
    for (const sim of [h.sims.sagemaker, h.sims.cloudwatch, h.sims.stepfunctions, h.sims.eventbridge]) sim.reset();
    await recreateLedgerTable(h.dynamo, h.ledgerTable);
    const session = new RehearsalSession(rehearsal, h, scenario, options);
    const workflow = rehearsal.workflow;
    session.machine = await LocalStateMachine.create({
      name: workflow.stateMachineArn.split(':').pop()!,
      definition: workflow.definition,
      tasks: Object.fromEntries(Object.entries(workflow.taskHandlers).map(([state, handler]) => [state, session.taskFunction(state, handler)])),
      scheduler: h.scheduler,
      stepfunctions: h.sims.stepfunctions,
      observer: session.observer(),
    });
    process.env.STATE_MACHINE_ARN = session.machine.arn;
    h.session = session;
    return session;
  }

  get stateMachineArn(): string {
    return this.machine.arn;
  }

  get sims(): RunningSimulators {
    return this.host.sims;
  }

  get clock(): VirtualClock {
    return this.host.clock;
  }

  get scheduler(): Scheduler {
    return this.host.scheduler;
  }

  /** Virtual seconds since the session started. */
  now(): number {
    return (this.host.clock.now() - this.startedAt) / 1000;
  }

  // ---- acting -------------------------------------------------------------------------

  /** StartExecution through the Step Functions simulator (name rules, idempotent repeat, errors as the API raises them). */
  startExecution(input: unknown, name?: string): { executionArn: string; startDate: Date } {
    const output = this.host.sims.stepfunctions.handle('StartExecution', {
      stateMachineArn: this.machine.arn,
      input: JSON.stringify(input),
      ...(name !== undefined ? { name } : {}),
    }) as { executionArn: string; startDate: number };
    return { executionArn: output.executionArn, startDate: new Date(output.startDate * 1000) };
  }

  /** Invokes the `start-release` handler with `event`, as the EventBridge rule does; returns what it returned. */
  async deliver(event: unknown): Promise<unknown> {
    this.deliveries++;
    const handler = await this.host.handlers.handler('start-release', this.rehearsal.config);
    return handler(structuredClone(event), lambdaContext('start-release'));
  }

  /** Approves version `version` in the registry (behaving like the scenario's candidate unless `behaviour` says otherwise); returns SageMaker's event. */
  approveVersion(version: number, behaviour?: Traffic['candidate']): ModelPackageStateChangeEvent {
    return this.world.approveVersion(version, behaviour);
  }

  /** Runs `action` (as its own actor) when the rehearsal is `virtualSeconds` old; a failure fails `run`. */
  at(virtualSeconds: number, action: SessionAction): void {
    this.host.scheduler.at(this.startedAt + virtualSeconds * 1000, `action at ${virtualSeconds} s`, () => action(this));
  }

  /**
   * Runs `action` (as its own actor) when an execution enters the Task or Wait state
   * `stateName`, before the state does anything; the execution goes on once the action
   * has ended or sleeps. Retries are not entries.
   */
  whenState(stateName: string, action: StateAction, options: WhenStateOptions = {}): void {
    const state = this.machine.definition.States[stateName];
    if (!state || (state.Type !== 'Task' && state.Type !== 'Wait')) {
      const known = Object.entries(this.machine.definition.States)
        .filter(([, s]) => s.Type === 'Task' || s.Type === 'Wait')
        .map(([n]) => n);
      throw new InvalidScenarioError(`whenState: "${stateName}" is not a Task or Wait state of the workflow (${known.join(', ')})`);
    }
    this.hooks.push({ stateName, options, action });
  }

  /** StopExecution through the Step Functions simulator. */
  stop(executionArn: string, error?: string, cause?: string): void {
    this.host.sims.stepfunctions.handle('StopExecution', {
      executionArn,
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  /** SendTaskSuccess through the Step Functions simulator. */
  sendTaskSuccess(taskToken: string, output: unknown): void {
    this.host.sims.stepfunctions.handle('SendTaskSuccess', { taskToken, output: JSON.stringify(output) });
  }

  /** SendTaskFailure through the Step Functions simulator. */
  sendTaskFailure(taskToken: string, error?: string, cause?: string): void {
    this.host.sims.stepfunctions.handle('SendTaskFailure', { taskToken, ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) });
  }

  /** Tasks waiting for their token now, oldest first. */
  taskTokens(executionArn?: string): Array<{ token: string; executionArn: string; stateName: string }> {
    return this.host.sims.stepfunctions.openTaskTokens(executionArn);
  }

  /**
   * Runs until every execution has ended (and every `at` action has run). Stuck
   * executions (all waiting, nothing scheduled) end FAILED with error Rehearsal.Deadlock.
   * With `untilSeconds`, stops once nothing is due by then (executions may still run).
   */
  async run(options: { untilSeconds?: number } = {}): Promise<readonly ExecutionSummary[]> {
    const run = () => this.host.scheduler.run(options.untilSeconds !== undefined ? { until: this.startedAt + options.untilSeconds * 1000 } : {});
    if (this.options.virtualDate === false) await run();
    else {
      const previous = globalThis.Date;
      globalThis.Date = this.host.clock.dateConstructor();
      try {
        await run();
      } finally {
        globalThis.Date = previous;
      }
    }
    return this.executions;
  }

  /** Ends this session's executions without recording anything more (a new session starts). */
  abandon(): void {
    this.machine?.abandon();
  }

  // ---- inspecting ---------------------------------------------------------------------

  /** Every execution, in the order they started. */
  get executions(): ExecutionSummary[] {
    return this.host.sims.stepfunctions.executions(this.machine.arn).map((snapshot) => this.summaryOf(snapshot));
  }

  execution(nameOrArn: string): ExecutionSummary | undefined {
    return this.executions.find((e) => e.name === nameOrArn || e.executionArn === nameOrArn);
  }

  /** The lifecycle events put on EventBridge, in order. */
  get events(): RecordedEvent[] {
    return this.host.sims.eventbridge.events();
  }

  /** Every timeline entry (faults and all executions), in order. */
  get timeline(): ReadonlyArray<TimelineEntry & { readonly execution?: string }> {
    return this.entries.map(({ execution, entry }) => (execution === undefined ? entry : { ...entry, execution }));
  }

  endpoint(): EndpointSnapshot | undefined {
    return this.host.sims.sagemaker.endpoint(this.target.endpointName);
  }

  /** The version serving all the endpoint's traffic (see RehearsalResult.liveVersion). */
  liveVersion(): number | null | undefined {
    return liveVersionOf(this.host.sims.sagemaker.servingVariants(this.target.endpointName));
  }

  /** Every SageMaker call that could change something, in order, rejected ones with their error. */
  mutatingCalls(): Array<{ operation: string; input: unknown; error?: string }> {
    return this.host.sims.sagemaker.mutatingCalls().map((c) => ({ operation: c.operation, input: c.input, ...(c.error ? { error: c.error } : {}) }));
  }

  /** The result of one execution (the first when not named), as `Rehearsal.run` reports it. */
  result(executionArn?: string): RehearsalResult {
    const { sims, dataPlane, clock } = this.host;
    const snapshot = executionArn === undefined ? sims.stepfunctions.executions(this.machine.arn)[0] : sims.stepfunctions.execution(executionArn);
    if (!snapshot) throw new Error(`result: no execution ${executionArn ?? '(none started)'}`);
    const record = this.recordOf(snapshot);
    const target = this.target;
    const timeline = this.entries.filter((e) => e.execution === undefined || e.execution === snapshot.executionArn).map((e) => e.entry);
    const status: RehearsalResult['status'] = snapshot.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    const error = snapshot.error ?? (snapshot.status === 'ABORTED' ? 'ExecutionAborted' : snapshot.status === 'TIMED_OUT' ? 'States.Timeout' : undefined);
    const cause = snapshot.cause;
    const usage: Usage = {
      stateTransitions: record.stateTransitions,
      lambdaInvocations: record.lambdaInvocations,
      lambdaMemoryMb: memoryOf(this.rehearsal.workflow.memoryMb, record.invocationsByHandler),
      sagemakerCalls: sims.sagemaker.calls.length,
      cloudwatchCalls: sims.cloudwatch.calls.length,
    };
    const toSeconds = (epochMs: number) => (epochMs - this.startedAt) / 1000;
    const series = seriesOf(dataPlane.minutes(target.endpointName), timeline, this.world.candidateVariant, this.startedAt);
    const alarms: AlarmSummary[] = this.world.alarms.map((a) => ({
      name: a.name,
      watched: a.watched,
      evaluated: a.definition !== undefined && !a.missing,
      exists: !a.missing,
      finalState: sims.cloudwatch.alarm(a.name)?.state ?? 'MISSING',
    }));
    const transitions = sims.cloudwatch
      .alarmTransitions()
      .filter((t) => this.world.alarms.some((a) => a.name === t.alarm))
      .map((t) => ({ ...t, at: toSeconds(t.at) }));
    const faults = this.world.faults.map((f) => ({ type: f.type, trigger: f.trigger, ...(f.firedAt !== undefined ? { firedAt: toSeconds(f.firedAt) } : {}) }));
    const partial = {
      scenario: this.scenario,
      target: targetName(target),
      status,
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
      virtualSeconds: toSeconds(clock.now()),
      wallMilliseconds: performance.now() - this.wallStart,
      timeline,
      endpoint: this.endpoint(),
      liveVersion: this.liveVersion(),
      candidateVariant: this.world.candidateVariant,
      lambdaInvocations: record.lambdaInvocations,
      sagemakerCalls: usage.sagemakerCalls,
      cloudwatchCalls: usage.cloudwatchCalls,
      usage,
      cost: estimateCost(usage),
      mutatingCalls: this.mutatingCalls(),
      models: sims.sagemaker.models(),
      endpointConfigs: sims.sagemaker.endpointConfigs(),
      series,
      markers: markersOf(timeline, transitions, faults),
      alarms,
      faults,
      executions: this.executions,
      events: this.events,
    } satisfies RehearsalResult;
    return this.scenario.expect ? { ...partial, expectation: checkExpectation(this.scenario.expect, partial) } : partial;
  }

  // ---- internals ----------------------------------------------------------------------

  private recordOf(execution: { executionArn: string; name: string }): SessionExecution {
    let record = this.executionRecords.get(execution.executionArn);
    if (!record) {
      record = { arn: execution.executionArn, name: execution.name, timeline: [], lambdaInvocations: 0, invocationsByHandler: new Map(), stateTransitions: 0 };
      this.executionRecords.set(execution.executionArn, record);
    }
    return record;
  }

  private summaryOf(snapshot: ExecutionSnapshot): ExecutionSummary {
    const record = this.recordOf(snapshot);
    return {
      name: snapshot.name,
      executionArn: snapshot.executionArn,
      input: JSON.parse(snapshot.input) as unknown,
      status: snapshot.status,
      ...(snapshot.error !== undefined ? { error: snapshot.error } : {}),
      ...(snapshot.cause !== undefined ? { cause: snapshot.cause } : {}),
      ...(snapshot.output !== undefined ? { output: JSON.parse(snapshot.output) as unknown } : {}),
      startedAt: (snapshot.startDate - this.startedAt) / 1000,
      ...(snapshot.stopDate !== undefined ? { stoppedAt: (snapshot.stopDate - this.startedAt) / 1000 } : {}),
      stateTransitions: record.stateTransitions,
      lambdaInvocations: record.lambdaInvocations,
      timeline: [...record.timeline],
    };
  }

  private record(execution: ExecutionView | undefined, entry: Omit<TimelineEntry, 'at' | 'weights'>): void {
    const snapshot = this.host.sims.sagemaker.endpoint(this.target.endpointName);
    const full: TimelineEntry = { at: this.now(), weights: snapshot && sharesOf(snapshot.variants), ...entry };
    this.entries.push({ execution: execution?.executionArn, entry: full });
    if (execution) this.recordOf(execution).timeline.push(full);
    this.options.onEntry?.(full);
  }

  /** A Lambda task: the handler module in lambda:invoke's `{ Payload }` envelope. */
  private taskFunction(stateName: string, handlerName: HandlerName): TaskFunction {
    return async (input, invocation) => {
      const record = this.recordOf(invocation.execution);
      record.lambdaInvocations++;
      record.invocationsByHandler.set(handlerName, (record.invocationsByHandler.get(handlerName) ?? 0) + 1);
      const payload = (input as { Payload?: unknown } | null)?.Payload;
      try {
        let handler: LambdaHandler;
        try {
          handler = await this.host.handlers.handler(handlerName, this.rehearsal.config);
        } catch (error) {
          // What Lambda reports for a function whose module cannot be loaded.
          throw Object.assign(new Error(`Error: Cannot load handler module ${handlerName}: ${(error as Error).message}`), {
            name: 'Runtime.ImportModuleError',
          });
        }
        const output = await handler(structuredClone(payload), lambdaContext(handlerName));
        const waits = invocation.taskToken !== undefined;
        this.record(invocation.execution, {
          state: stateName,
          kind: 'task',
          detail: [describeOutput(handlerName, output), waits ? '(waiting for the task token)' : ''].filter(Boolean).join(' '),
          output,
        });
        if (handlerName === 'shift-traffic' && this.releasesScenarioCandidate(payload)) this.world.onStep((output as { stepIndex: number }).stepIndex + 1);
        return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: output };
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        // What lambda:invoke reports for a function error: the error type as the name, Lambda's JSON as the cause.
        const lambdaError = new Error(JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
        lambdaError.name = e.name;
        functionErrors.set(lambdaError, e);
        throw lambdaError;
      }
    };
  }

  /** Step faults belong to the scenario's release; other executions' steps do not fire them. */
  private releasesScenarioCandidate(payload: unknown): boolean {
    const arn = (payload as { release?: { modelPackageArn?: unknown } } | undefined)?.release?.modelPackageArn;
    return typeof arn !== 'string' || arn.toLowerCase() === this.world.candidateArn.toLowerCase();
  }

  private observer(): StateMachineObserver {
    return {
      stateEntered: (execution, stateName, occurrence) => {
        let scheduled = false;
        for (const hook of this.hooks) {
          if (hook.stateName !== stateName) continue;
          if (hook.options.occurrence !== undefined && hook.options.occurrence !== occurrence) continue;
          if (hook.options.execution !== undefined && hook.options.execution !== execution.name && hook.options.execution !== execution.executionArn) continue;
          const summary = this.execution(execution.executionArn)!;
          this.host.scheduler.at(this.host.clock.now(), `on "${stateName}" #${occurrence} of ${execution.name}`, () => hook.action(summary, this));
          scheduled = true;
        }
        return scheduled;
      },
      waited: (execution, stateName, seconds) => this.record(execution, { state: stateName, kind: 'wait', detail: `waited ${seconds} s`, output: { seconds } }),
      taskFailed: (execution, stateName, error, delay) => {
        const original = functionErrors.get(error) ?? error;
        this.record(execution, {
          state: stateName,
          kind: delay === undefined ? 'error' : 'retry',
          detail: `${original.name}: ${original.message}${delay !== undefined ? ` (retry in ${delay} s)` : ''}`,
        });
      },
      tokenAnswered: (execution, stateName, output, waitedSeconds) =>
        this.record(execution, { state: stateName, kind: 'task', detail: `task token answered (SendTaskSuccess) after ${waitedSeconds} s`, output }),
      ended: (execution, snapshot, stateTransitions) => {
        this.recordOf(execution).stateTransitions = stateTransitions;
        const succeeded = snapshot.status === 'SUCCEEDED';
        const label = { SUCCEEDED: 'succeeded', FAILED: 'failed', TIMED_OUT: 'timed out', ABORTED: 'aborted', RUNNING: 'running' }[snapshot.status];
        this.record(execution, {
          state: `Execution ${label}`,
          kind: 'end',
          detail: succeeded ? 'SUCCEEDED' : `${snapshot.error ?? snapshot.status}: ${snapshot.cause === undefined ? '' : readableCause(snapshot.cause)}`,
        });
      },
    };
  }
}

// =====================================================================================

export class Rehearsal {
  /** @internal */
  readonly workflow: ReturnType<typeof synthesizeWorkflow>;
  /** Rehearsals of this config with a target's policy overridden, by override. */
  private readonly variants = new Map<string, Rehearsal>();

  private constructor(readonly config: ReleaseManagerConfig) {
    this.workflow = synthesizeWorkflow(config);
  }

  /** Validates the config and synthesizes the stack; throws InvalidConfigurationError naming the field. */
  static fromConfig(config: ReleaseManagerConfigInput): Rehearsal {
    return new Rehearsal(parseConfig(config));
  }

  get definition(): AslDefinition {
    return this.workflow.definition;
  }

  /**
   * The same rehearsal with one target's policy overridden (a what-if): the override is
   * merged into the target and the config validated again, so errors name the field.
   */
  withPolicy(target: string | undefined, policy: PolicyOverride): Rehearsal {
    const chosen = this.pickTarget(target);
    const key = `${targetName(chosen)}:${JSON.stringify(policy)}`;
    const cached = this.variants.get(key);
    if (cached) return cached;
    const overrides = Object.fromEntries(Object.entries(policy).filter(([, value]) => value !== undefined));
    const merged = { ...this.config, targets: this.config.targets.map((t) => (t === chosen ? { ...t, ...overrides } : t)) };
    let config: ReleaseManagerConfig;
    try {
      config = parseConfig(merged, `policy override for target ${targetName(chosen)}`);
    } catch (error) {
      if (error instanceof InvalidConfigurationError) throw new InvalidScenarioError(error.message);
      throw error;
    }
    const derived = new Rehearsal(config);
    this.variants.set(key, derived);
    return derived;
  }

  /** The target a scenario rehearses, with the scenario's policy override applied. */
  targetOf(scenarioInput: ScenarioInput): TargetConfig {
    const scenario = parseScenario(scenarioInput);
    return this.forScenario(scenario).pickTarget(scenario.target);
  }

  /** @internal The target of a parsed scenario in this (already overridden) rehearsal. */
  targetFor(scenario: Scenario): TargetConfig {
    return this.pickTarget(scenario.target);
  }

  /**
   * A session for the scenario: its world seeded (endpoint, packages, alarms, traffic,
   * faults armed), the state machine defined in the Step Functions simulator, no
   * execution started yet. The previous session of this process ends.
   */
  async session(scenarioInput: ScenarioInput, options: RehearsalSessionOptions = {}): Promise<RehearsalSession> {
    const scenario = parseScenario(scenarioInput);
    return RehearsalSession.open(this.forScenario(scenario), scenario, options);
  }

  /** Rehearses the scenario's release: one execution with the scenario's start input, run to its end. */
  async run(scenarioInput: ScenarioInput, options: RehearsalOptions = {}): Promise<RehearsalResult> {
    const session = await this.session(scenarioInput, options);
    const name = `rehearsal-${session.scenario.name.replace(/[^a-zA-Z0-9-_]/g, '-').slice(0, 60)}`;
    const { executionArn } = session.startExecution(session.world.startInput, name);
    await session.run();
    return session.result(executionArn);
  }

  /** This rehearsal, or the one with the scenario's policy override. */
  private forScenario(scenario: Scenario): Rehearsal {
    const policy = scenario.policy;
    return policy && Object.values(policy).some((value) => value !== undefined) ? this.withPolicy(scenario.target, policy) : this;
  }

  private pickTarget(name: string | undefined): TargetConfig {
    if (name === undefined) return this.config.targets[0]!;
    const target = this.config.targets.find((t) => targetName(t) === name);
    if (!target) throw new InvalidScenarioError(`Unknown target '${name}': expected one of ${this.config.targets.map(targetName).join(', ')}`);
    return target;
  }
}

/**
 * Mirrors Step Functions' Retry matching, to sleep the interval it would wait: the first
 * retrier naming the error (or States.ALL, or States.TaskFailed unless it is a timeout)
 * decides; undefined when the error is not retried (no retrier, or attempts used up).
 */
function retryDelay(state: AslState, error: Error, counts: Map<string, number[]>, name: string, isTimeout: boolean): number | undefined {
  const errorName = error.name;
  const retryable = (error as { isRetryable?: boolean }).isRetryable ?? true;
  if (!retryable) return undefined;
  const retriers = state.Retry ?? [];
  const index = retriers.findIndex((r) => r.ErrorEquals.some((e) => e === errorName || e === 'States.ALL' || (e === 'States.TaskFailed' && !isTimeout)));
  if (index < 0) return undefined;
  const retrier = retriers[index]!;
  const attempts = counts.get(name) ?? retriers.map(() => 0);
  if (attempts[index]! >= (retrier.MaxAttempts ?? 3)) return undefined;
  const delay = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, attempts[index]!);
  attempts[index]!++;
  counts.set(name, attempts);
  return Math.round(Math.min(delay, retrier.MaxDelaySeconds ?? Infinity));
}

/** Reads a simple `$.a.b.c` path, the only form the workflow uses for wait times. */
function readPath(value: unknown, path: string): unknown {
  if (!/^\$(\.[A-Za-z0-9_]+)*$/.test(path)) throw new Error(`Unsupported path ${path}`);
  return path
    .split('.')
    .slice(1)
    .reduce<unknown>((current, key) => (current as Record<string, unknown> | undefined)?.[key], value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeOutput(handler: HandlerName, output: unknown): string {
  const o = (output ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  switch (handler) {
    case 'plan-release':
      return `${o.decision}: ${o.reason}`;
    case 'check-endpoint':
      return `${o.outcome} (poll ${o.attempt}): ${o.reason}`;
    case 'evaluate-alarms':
      return `${o.verdict.status} (check ${o.checksDone}): ${o.verdict.reason}`;
    case 'roll-back':
      return `${o.done ? 'done' : 'in progress'}: ${o.action}`;
    case 'request-approval':
      return `approval requested, until ${o.waitingUntil}`;
    default:
      if (typeof o.action === 'string') return o.action;
      if (typeof o.outcome === 'string') return `${o.outcome}${typeof o.reason === 'string' ? `: ${o.reason}` : ''}`;
      if (typeof o.status === 'string') return `${o.status}${typeof o.reason === 'string' ? `: ${o.reason}` : ''}`;
      return String(o.action ?? '');
  }
}

function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `rehearsal-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:function:rehearsal-${name}`,
    memoryLimitInMB: '256',
    awsRequestId: `rehearsal-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/rehearsal-${name}`,
    logStreamName: 'rehearsal',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The memory most invocations ran with (every task function has the same today). */
function memoryOf(memoryMb: Partial<Record<HandlerName, number>>, invocations: ReadonlyMap<HandlerName, number>): number {
  let best: [number, number] | undefined;
  const totals = new Map<number, number>();
  for (const [handler, count] of invocations) {
    const memory = memoryMb[handler] ?? 128;
    totals.set(memory, (totals.get(memory) ?? 0) + count);
  }
  for (const [memory, count] of totals) if (!best || count > best[1]) best = [memory, count];
  return best?.[0] ?? Object.values(memoryMb)[0] ?? 128;
}
