/**
 * The rehearsal engine: runs the very state machine `cdk deploy` ships, locally, with
 * aws-local-stepfunctions. Every Lambda task is bound to its real handler module (in the
 * `{ Payload }` envelope lambda:invoke produces); the handlers reach the SageMaker and
 * CloudWatch simulators over HTTP through the real SDK clients. Time is virtual: Wait
 * states and Retry intervals advance the clock instead of sleeping, and at every virtual
 * minute the data plane publishes the endpoint's traffic metrics and CloudWatch
 * evaluates the alarms from them.
 */
import './polyfills';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import {
  InvalidConfigurationError,
  parseConfig,
  targetName,
  type ReleaseManagerConfig,
  type ReleaseManagerConfigInput,
  type TargetConfig,
} from '../lambdas/domain/config';
import type * as CommonModule from '../lambdas/handlers/common';
import type * as PlanModule from '../lambdas/handlers/plan-release';
import type { HandlerName } from '../lib/release-functions';
import { VirtualClock } from './clock';
import { estimateCost } from './cost';
import { synthesizeWorkflow, REHEARSAL_ACCOUNT, REHEARSAL_REGION, type AslDefinition, type AslState } from './definition';
import { checkExpectation, liveVersionOf, markersOf, seriesOf, type AlarmSummary } from './measure';
import type { CostEstimate, Marker, SeriesPoint, Usage } from './model';
import { readableCause, sharesOf } from './report';
import { InvalidScenarioError, parseScenario, type Scenario, type ScenarioInput, type PolicyOverride } from './scenario';
import { startSimulators, type RunningSimulators } from './simulator';
import { DataPlaneSimulator } from './simulator/dataplane';
import type { EndpointSnapshot } from './simulator/sagemaker';
import { seedWorld } from './world';

export { BASELINE_VARIANT } from './world';
const VIRTUAL_WAIT_RESOURCE = `arn:aws:lambda:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:function:rehearsal-virtual-wait`;

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface TimelineEntry {
  /** Virtual seconds since the execution started. */
  readonly at: number;
  readonly state: string;
  readonly kind: 'task' | 'wait' | 'error' | 'retry' | 'fault' | 'end';
  readonly detail: string;
  /** Candidate and baseline traffic shares after the state, in percent. */
  readonly weights?: Record<string, number>;
  readonly output?: unknown;
}

export interface RehearsalResult {
  readonly scenario: Scenario;
  readonly target: string;
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
}

/** One set of simulators and handler modules per process: the SDK clients keep the endpoint they first resolved. */
interface Host {
  clock: VirtualClock;
  sims: RunningSimulators;
  dataPlane: DataPlaneSimulator;
  handlers: Record<Exclude<HandlerName, 'plan-release'>, LambdaHandler>;
  makePlan: (config: ReleaseManagerConfig) => LambdaHandler;
}
let hostPromise: Promise<Host> | undefined;

async function host(): Promise<Host> {
  hostPromise ??= (async () => {
    const clock = new VirtualClock();
    const sims = await startSimulators({ clock, region: REHEARSAL_REGION, accountId: REHEARSAL_ACCOUNT });
    const dataPlane = new DataPlaneSimulator({ clock, sagemaker: sims.sagemaker, publish: (sample) => sims.cloudwatch.recordMetric(sample) });
    // Once a minute, as the services do: SageMaker publishes the minute's metrics, then CloudWatch evaluates the alarms.
    clock.onMinute((minute) => {
      dataPlane.tick(minute);
      sims.cloudwatch.evaluateAlarms(minute);
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SAGEMAKER: sims.urls.sagemaker,
      AWS_ENDPOINT_URL_CLOUDWATCH: sims.urls.cloudwatch,
      AWS_REGION: REHEARSAL_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'AKIDREHEARSAL',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'rehearsal-secret',
      // Throttling reaches the state machine's Retry policies (in virtual time) instead of SDK sleeps in wall time.
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    });
    const dir = join(__dirname, '..', 'lambdas', 'handlers');
    const load = async (name: string) => ((await import(join(dir, name))) as { handler: LambdaHandler }).handler;
    const planModule = (await import(join(dir, 'plan-release'))) as typeof PlanModule;
    const common = (await import(join(dir, 'common'))) as typeof CommonModule;
    const handlers = {
      'create-candidate': await load('create-candidate'),
      'deploy-candidate': await load('deploy-candidate'),
      'check-endpoint': await load('check-endpoint'),
      'shift-traffic': await load('shift-traffic'),
      'evaluate-alarms': await load('evaluate-alarms'),
      'promote-candidate': await load('promote-candidate'),
      'finish-promotion': await load('finish-promotion'),
      'roll-back': await load('roll-back'),
    };
    return { clock, sims, dataPlane, handlers, makePlan: (config) => common.lambdaHandler(planModule.makePlanRelease(config)) as unknown as LambdaHandler };
  })();
  return hostPromise;
}

/** Stops the simulators; the next rehearsal in this process starts them again. */
export async function shutdownRehearsals(): Promise<void> {
  const current = hostPromise;
  hostPromise = undefined;
  if (current) await (await current).sims.close();
}

export interface RehearsalOptions {
  /** Called for each timeline entry as it happens (live progress). */
  readonly onEntry?: (entry: TimelineEntry) => void;
}

export class Rehearsal {
  private readonly workflow: ReturnType<typeof synthesizeWorkflow>;
  /** Rehearsals of this config with a target's policy overridden, by override. */
  private readonly variants = new Map<string, Rehearsal>();
  private interpreter: StateMachine | undefined;

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

  async run(scenarioInput: ScenarioInput, options: RehearsalOptions = {}): Promise<RehearsalResult> {
    const scenario = parseScenario(scenarioInput);
    return this.forScenario(scenario).execute(scenario, options);
  }

  /** This rehearsal, or the one with the scenario's policy override. */
  private forScenario(scenario: Scenario): Rehearsal {
    const policy = scenario.policy;
    return policy && Object.values(policy).some((value) => value !== undefined) ? this.withPolicy(scenario.target, policy) : this;
  }

  private async execute(scenario: Scenario, options: RehearsalOptions): Promise<RehearsalResult> {
    const target = this.pickTarget(scenario.target);
    const { clock, sims, dataPlane, handlers, makePlan } = await host();
    clock.reset();
    sims.sagemaker.reset();
    sims.cloudwatch.reset();
    const startedAt = clock.now();
    const wallStart = performance.now();
    const timeline: TimelineEntry[] = [];
    const record = (entry: Omit<TimelineEntry, 'at' | 'weights'>) => {
      const snapshot = sims.sagemaker.endpoint(target.endpointName);
      const full: TimelineEntry = { at: (clock.now() - startedAt) / 1000, weights: snapshot && sharesOf(snapshot.variants), ...entry };
      timeline.push(full);
      options.onEntry?.(full);
    };

    const world = seedWorld({
      scenario,
      target,
      sims,
      dataPlane,
      clock,
      onFault: (fault, detail) => record({ state: `Fault: ${fault.type}`, kind: 'fault', detail }),
    });

    const plan = makePlan(this.config);
    const { definition, taskHandlers } = this.workflow;
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    const retryCounts = new Map<string, number[]>();
    let invocations = 0;
    const invocationsByHandler = new Map<HandlerName, number>();

    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type === 'Wait') {
        // Same name, same transitions; the clock advances by what the Wait would have waited.
        const { Seconds, SecondsPath } = state;
        overrides[name] = async (waitInput) => {
          const seconds = Seconds ?? Number(readPath(waitInput, SecondsPath ?? '$'));
          clock.advanceSeconds(seconds);
          record({ state: name, kind: 'wait', detail: `waited ${seconds} s`, output: { seconds } });
          return waitInput;
        };
      }
    }
    for (const [name, handlerName] of Object.entries(taskHandlers)) {
      const handler = handlerName === 'plan-release' ? plan : handlers[handlerName];
      overrides[name] = async (taskInput) => {
        invocations++;
        invocationsByHandler.set(handlerName, (invocationsByHandler.get(handlerName) ?? 0) + 1);
        const payload = (taskInput as { Payload?: unknown }).Payload;
        try {
          const output = await handler(structuredClone(payload), lambdaContext(handlerName));
          retryCounts.delete(name);
          record({ state: name, kind: 'task', detail: describeOutput(handlerName, output), output });
          if (handlerName === 'shift-traffic') world.onStep((output as { stepIndex: number }).stepIndex + 1);
          return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: output };
        } catch (error) {
          const e = error as Error;
          const delay = this.retryDelay(definition.States[name]!, e.name, retryCounts, name);
          record({
            state: name,
            kind: delay === undefined ? 'error' : 'retry',
            detail: `${e.name}: ${e.message}${delay !== undefined ? ` (retry in ${delay} s)` : ''}`,
          });
          if (delay !== undefined) clock.advanceSeconds(delay);
          // What lambda:invoke reports for a function error: the error type as the name, Lambda's JSON as the cause.
          const lambdaError = new Error(JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
          lambdaError.name = e.name;
          throw lambdaError;
        }
      };
    }

    const machine = this.machine();
    const startInput = world.startInput as never;
    const executionName = `rehearsal-${scenario.name.replace(/[^a-zA-Z0-9-_]/g, '-').slice(0, 60)}`;
    const execution = machine.run(startInput, {
      overrides: {
        taskResourceLocalHandlers: overrides as never,
        retryIntervalOverrides: new Proxy({}, { get: () => 0 }) as never,
      },
      context: {
        Execution: {
          Id: `${this.workflow.stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`,
          Name: executionName,
          Input: startInput,
          StartTime: new Date(startedAt).toISOString(),
        },
        StateMachine: { Id: this.workflow.stateMachineArn, Name: 'Rehearsal' },
      },
    });
    // Step Functions bills every state entered, retries included.
    let stateTransitions = 0;
    const counting = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered' || event.type === 'StateRetried') stateTransitions++;
      }
    })();

    let status: RehearsalResult['status'] = 'SUCCEEDED';
    let error: string | undefined;
    let cause: string | undefined;
    try {
      await execution.result;
    } catch (failure) {
      status = 'FAILED';
      const inner = ((failure as Error).cause as Error | undefined) ?? (failure as Error);
      error = inner.name;
      cause = inner.message;
    }
    await counting.catch(() => undefined);
    record({
      state: status === 'SUCCEEDED' ? 'Execution succeeded' : 'Execution failed',
      kind: 'end',
      detail: status === 'SUCCEEDED' ? 'SUCCEEDED' : `${error}: ${cause === undefined ? '' : readableCause(cause)}`,
    });

    const endpoint = sims.sagemaker.endpoint(target.endpointName);
    const liveVersion = liveVersionOf(sims.sagemaker.servingVariants(target.endpointName));
    const usage: Usage = {
      stateTransitions,
      lambdaInvocations: invocations,
      lambdaMemoryMb: memoryOf(this.workflow.memoryMb, invocationsByHandler),
      sagemakerCalls: sims.sagemaker.calls.length,
      cloudwatchCalls: sims.cloudwatch.calls.length,
    };
    const toSeconds = (epochMs: number) => (epochMs - startedAt) / 1000;
    const series = seriesOf(dataPlane.minutes(target.endpointName), timeline, world.candidateVariant, startedAt);
    const alarms: AlarmSummary[] = world.alarms.map((a) => ({
      name: a.name,
      watched: a.watched,
      evaluated: a.definition !== undefined && !a.missing,
      exists: !a.missing,
      finalState: sims.cloudwatch.alarm(a.name)?.state ?? 'MISSING',
    }));
    const transitions = sims.cloudwatch
      .alarmTransitions()
      .filter((t) => world.alarms.some((a) => a.name === t.alarm))
      .map((t) => ({ ...t, at: toSeconds(t.at) }));
    const faults = world.faults.map((f) => ({ type: f.type, trigger: f.trigger, ...(f.firedAt !== undefined ? { firedAt: toSeconds(f.firedAt) } : {}) }));
    const partial = {
      scenario,
      target: targetName(target),
      status,
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
      virtualSeconds: toSeconds(clock.now()),
      wallMilliseconds: performance.now() - wallStart,
      timeline,
      endpoint,
      liveVersion,
      candidateVariant: world.candidateVariant,
      lambdaInvocations: invocations,
      sagemakerCalls: usage.sagemakerCalls,
      cloudwatchCalls: usage.cloudwatchCalls,
      usage,
      cost: estimateCost(usage),
      mutatingCalls: sims.sagemaker.mutatingCalls().map((c) => ({ operation: c.operation, input: c.input, ...(c.error ? { error: c.error } : {}) })),
      models: sims.sagemaker.models(),
      endpointConfigs: sims.sagemaker.endpointConfigs(),
      series,
      markers: markersOf(timeline, transitions, faults),
      alarms,
      faults,
    } satisfies RehearsalResult;
    return scenario.expect ? { ...partial, expectation: checkExpectation(scenario.expect, partial) } : partial;
  }

  /**
   * The interpreter for this definition, with every Wait state replaced by a Task of
   * the same name and transitions (bound per run to a virtual-clock wait). Built once:
   * validating the definition is most of the cost of constructing it.
   */
  private machine(): StateMachine {
    if (!this.interpreter) {
      const states: Record<string, AslState> = {};
      for (const [name, state] of Object.entries(this.workflow.definition.States)) {
        const { Seconds: _seconds, SecondsPath: _path, Type: _type, ...rest } = state;
        states[name] = state.Type === 'Wait' ? { ...rest, Type: 'Task', Resource: VIRTUAL_WAIT_RESOURCE } : state;
      }
      this.interpreter = new StateMachine({ ...this.workflow.definition, States: states } as never, {
        validationOptions: { checkArn: false, checkPaths: false },
      });
    }
    return this.interpreter;
  }

  private pickTarget(name: string | undefined): TargetConfig {
    if (name === undefined) return this.config.targets[0]!;
    const target = this.config.targets.find((t) => targetName(t) === name);
    if (!target) throw new InvalidScenarioError(`Unknown target '${name}': expected one of ${this.config.targets.map(targetName).join(', ')}`);
    return target;
  }

  /** Mirrors Step Functions' Retry matching to advance the virtual clock by the interval it would wait. */
  private retryDelay(state: AslState, errorName: string, counts: Map<string, number[]>, name: string): number | undefined {
    const retriers = state.Retry ?? [];
    const index = retriers.findIndex((r) => r.ErrorEquals.some((e) => e === errorName || e === 'States.ALL' || e === 'States.TaskFailed'));
    if (index < 0) return undefined;
    const retrier = retriers[index]!;
    const attempts = counts.get(name) ?? retriers.map(() => 0);
    if (attempts[index]! >= (retrier.MaxAttempts ?? 3)) return undefined;
    const delay = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, attempts[index]!);
    attempts[index]!++;
    counts.set(name, attempts);
    return Math.round(Math.min(delay, retrier.MaxDelaySeconds ?? Infinity));
  }
}

/** Reads a simple `$.a.b.c` path, the only form the workflow uses for wait times. */
function readPath(value: unknown, path: string): unknown {
  if (!/^\$(\.[A-Za-z0-9_]+)*$/.test(path)) throw new Error(`Unsupported wait path ${path}`);
  return path
    .split('.')
    .slice(1)
    .reduce<unknown>((current, key) => (current as Record<string, unknown> | undefined)?.[key], value);
}

function describeOutput(handler: HandlerName, output: unknown): string {
  const o = output as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  switch (handler) {
    case 'plan-release':
      return `${o.decision}: ${o.reason}`;
    case 'check-endpoint':
      return `${o.outcome} (poll ${o.attempt}): ${o.reason}`;
    case 'evaluate-alarms':
      return `${o.verdict.status} (check ${o.checksDone}): ${o.verdict.reason}`;
    case 'roll-back':
      return `${o.done ? 'done' : 'in progress'}: ${o.action}`;
    default:
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
