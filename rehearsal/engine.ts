/**
 * The rehearsal engine: runs the very state machine `cdk deploy` ships, locally, with
 * aws-local-stepfunctions. Every Lambda task is bound to its real handler module (in the
 * `{ Payload }` envelope lambda:invoke produces); the handlers reach the SageMaker and
 * CloudWatch simulators over HTTP through the real SDK clients. Time is virtual: Wait
 * states and Retry intervals advance the clock instead of sleeping.
 */
import './polyfills';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import { parseConfig, targetName, type ReleaseManagerConfig, type ReleaseManagerConfigInput, type TargetConfig } from '../lambdas/domain/config';
import type * as CommonModule from '../lambdas/handlers/common';
import type * as PlanModule from '../lambdas/handlers/plan-release';
import type { HandlerName } from '../lib/release-functions';
import { VirtualClock } from './clock';
import { synthesizeWorkflow, REHEARSAL_ACCOUNT, REHEARSAL_REGION, type AslDefinition, type AslState } from './definition';
import { sharesOf } from './report';
import { parseScenario, type Scenario, type ScenarioInput } from './scenario';
import { startSimulators, type RunningSimulators } from './simulator';
import type { EndpointSnapshot } from './simulator/sagemaker';

/** The initial variant's name, as SageMaker's console and SDK examples name it. */
export const BASELINE_VARIANT = 'AllTraffic';
const VIRTUAL_WAIT_RESOURCE = `arn:aws:lambda:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:function:rehearsal-virtual-wait`;

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface TimelineEntry {
  /** Virtual seconds since the execution started. */
  readonly at: number;
  readonly state: string;
  readonly kind: 'task' | 'wait' | 'error' | 'retry' | 'end';
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
  readonly lambdaInvocations: number;
  readonly sagemakerCalls: number;
  readonly mutatingCalls: ReadonlyArray<{ operation: string; input: unknown }>;
  readonly models: readonly string[];
  readonly endpointConfigs: readonly string[];
}

/** One set of simulators and handler modules per process: the SDK clients keep the endpoint they first resolved. */
interface Host {
  clock: VirtualClock;
  sims: RunningSimulators;
  handlers: Record<Exclude<HandlerName, 'plan-release'>, LambdaHandler>;
  makePlan: (config: ReleaseManagerConfig) => LambdaHandler;
}
let hostPromise: Promise<Host> | undefined;

async function host(): Promise<Host> {
  hostPromise ??= (async () => {
    const clock = new VirtualClock();
    const sims = await startSimulators({ clock, region: REHEARSAL_REGION, accountId: REHEARSAL_ACCOUNT });
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
    return { clock, sims, handlers, makePlan: (config) => common.lambdaHandler(planModule.makePlanRelease(config)) as unknown as LambdaHandler };
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

  async run(scenarioInput: ScenarioInput, options: RehearsalOptions = {}): Promise<RehearsalResult> {
    const scenario = parseScenario(scenarioInput);
    const target = this.pickTarget(scenario.target);
    const { clock, sims, handlers, makePlan } = await host();
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

    const input = this.seed(scenario, target, sims, clock);
    const stepFaults = scenario.faults.flatMap((f) => (f.type === 'alarm' && f.atStep !== undefined ? [f] : []));

    const plan = makePlan(this.config);
    const { definition, taskHandlers } = this.workflow;
    const states: Record<string, AslState> = { ...definition.States };
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    const retryCounts = new Map<string, number[]>();
    let invocations = 0;

    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type === 'Wait') {
        // Same name, same transitions; the clock advances by what the Wait would have waited.
        const { Seconds, SecondsPath, Type: _type, ...rest } = state;
        states[name] = { ...rest, Type: 'Task', Resource: VIRTUAL_WAIT_RESOURCE };
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
        const payload = (taskInput as { Payload?: unknown }).Payload;
        try {
          const output = await handler(structuredClone(payload), lambdaContext(handlerName));
          retryCounts.delete(name);
          record({ state: name, kind: 'task', detail: describeOutput(handlerName, output), output });
          if (handlerName === 'shift-traffic') {
            const step = (output as { stepIndex: number }).stepIndex + 1;
            for (const fault of stepFaults.filter((f) => f.atStep === step)) {
              sims.cloudwatch.scheduleAlarmState(
                fault.alarm,
                fault.state,
                clock.now(),
                fault.reason ?? `Rehearsal: ${fault.alarm} set to ${fault.state} at step ${step}`,
              );
            }
          }
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

    const machine = new StateMachine({ ...definition, States: states } as never, { validationOptions: { checkArn: false, checkPaths: false } });
    const startInput = input as never;
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
    record({
      state: status === 'SUCCEEDED' ? 'Execution succeeded' : 'Execution failed',
      kind: 'end',
      detail: status === 'SUCCEEDED' ? 'SUCCEEDED' : `${error}: ${cause}`,
    });

    return {
      scenario,
      target: targetName(target),
      status,
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
      virtualSeconds: (clock.now() - startedAt) / 1000,
      wallMilliseconds: performance.now() - wallStart,
      timeline,
      endpoint: sims.sagemaker.endpoint(target.endpointName),
      lambdaInvocations: invocations,
      sagemakerCalls: sims.sagemaker.calls.length,
      mutatingCalls: sims.sagemaker.mutatingCalls().map((c) => ({ operation: c.operation, input: c.input })),
      models: sims.sagemaker.models(),
      endpointConfigs: sims.sagemaker.endpointConfigs(),
    };
  }

  private pickTarget(name: string | undefined): TargetConfig {
    if (name === undefined) return this.config.targets[0]!;
    const target = this.config.targets.find((t) => targetName(t) === name);
    if (!target) throw new Error(`Unknown target '${name}': expected one of ${this.config.targets.map(targetName).join(', ')}`);
    return target;
  }

  /** Puts the world of the scenario into the simulators and returns the execution input. */
  private seed(scenario: Scenario, target: TargetConfig, sims: RunningSimulators, clock: VirtualClock): unknown {
    const group = target.modelPackageGroupName;
    if (scenario.baselineVersion !== null) {
      const baselineArn = sims.sagemaker.putModelPackage({ groupName: group, version: scenario.baselineVersion });
      sims.sagemaker.putEndpoint({
        name: target.endpointName,
        variants: [
          {
            variantName: BASELINE_VARIANT,
            modelPackageArn: baselineArn,
            instanceType: target.candidate.instanceType,
            instanceCount: target.candidate.instanceCount,
            weight: 1,
          },
        ],
        executionRoleArn: target.modelExecutionRoleArn,
      });
    }
    const candidateArn = sims.sagemaker.putModelPackage({ groupName: group, version: scenario.candidate.version, status: scenario.candidate.status });
    const missing = new Set(scenario.faults.flatMap((f) => (f.type === 'missing-alarm' ? [f.alarm] : [])));
    for (const alarm of target.alarms) if (!missing.has(alarm)) sims.cloudwatch.putAlarm(alarm, 'OK');
    for (const fault of scenario.faults) {
      switch (fault.type) {
        case 'alarm':
          if (fault.atStep === undefined) {
            sims.cloudwatch.scheduleAlarmState(
              fault.alarm,
              fault.state,
              clock.now() + (fault.afterSeconds ?? 0) * 1000,
              fault.reason ?? `Rehearsal: ${fault.alarm} set to ${fault.state}`,
            );
          }
          break;
        case 'candidate-never-healthy':
          sims.sagemaker.failDeploymentsOf(candidateArn, fault.reportFailureReason ? 'report-failure' : 'silent-revert');
          break;
        case 'endpoint-busy':
          sims.sagemaker.holdEndpoint(target.endpointName, fault.status, fault.forSeconds);
          break;
        case 'throttle':
          (fault.service === 'sagemaker' ? sims.sagemaker : sims.cloudwatch).throttle(fault.operation, fault.times);
          break;
        case 'missing-alarm':
          break;
      }
    }
    if (typeof scenario.start === 'object') return scenario.start.raw;
    if (scenario.start === 'manual') return { action: 'release', modelPackageArn: candidateArn };
    return {
      version: '0',
      id: `rehearsal-${scenario.name}`,
      'detail-type': 'SageMaker Model Package State Change',
      source: 'aws.sagemaker',
      account: REHEARSAL_ACCOUNT,
      time: new Date(clock.now()).toISOString(),
      region: REHEARSAL_REGION,
      resources: [candidateArn],
      detail: {
        ModelPackageGroupName: group,
        ModelPackageVersion: scenario.candidate.version,
        ModelPackageArn: candidateArn,
        ModelApprovalStatus: scenario.candidate.status,
      },
    };
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
