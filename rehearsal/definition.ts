/**
 * Synthesizes the release manager stack in-process (bundling skipped: only the
 * definition is needed) and turns the state machine's DefinitionString into a plain
 * ASL document: CloudFormation intrinsics are resolved to concrete ARNs, and each
 * Lambda task is mapped to the handler module named in its function's metadata.
 */
import { App } from 'aws-cdk-lib';
import { BUNDLING_STACKS, PATH_METADATA_ENABLE_CONTEXT, PATH_METADATA_KEY } from 'aws-cdk-lib/cx-api';
import type { ReleaseManagerConfigInput } from '../lambdas/domain/config';
import { HANDLER_NAMES, type HandlerName } from '../lib/release-functions';
import { ReleaseManagerStack } from '../lib/release-manager-stack';

export const REHEARSAL_ACCOUNT = '123456789012';
export const REHEARSAL_REGION = 'eu-west-1';

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number; MaxDelaySeconds?: number }>;
  Seconds?: number;
  SecondsPath?: string;
  Next?: string;
  End?: boolean;
  [key: string]: unknown;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  [key: string]: unknown;
}

export interface SynthesizedWorkflow {
  definition: AslDefinition;
  /** Task state name -> handler module it invokes. */
  taskHandlers: Record<string, HandlerName>;
  stateMachineArn: string;
  /** MemorySize of each task function, MB, by handler module (for the cost estimate). */
  memoryMb: Partial<Record<HandlerName, number>>;
}

interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
}

export function synthesizeWorkflow(config: ReleaseManagerConfigInput): SynthesizedWorkflow {
  // Only the definition is needed: no bundling, and no CloudFormation template validation
  // (about 3 s of WebAssembly; `cdk synth` and the construct tests still run it).
  // Path metadata names each function's construct, which is its handler module.
  const app = new App({ context: { [BUNDLING_STACKS]: [], [PATH_METADATA_ENABLE_CONTEXT]: true }, builtinCloudFormationValidation: false });
  const stack = new ReleaseManagerStack(app, 'Rehearsal', { config, env: { account: REHEARSAL_ACCOUNT, region: REHEARSAL_REGION } });
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;

  const functionArns = new Map<string, string>();
  const handlersByArn = new Map<string, HandlerName>();
  const memoryMb: Partial<Record<HandlerName, number>> = {};
  let stateMachine: { logicalId: string; name: string; definition: unknown } | undefined;
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::Lambda::Function') {
      const arn = `arn:aws:lambda:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:function:${logicalId}`;
      functionArns.set(logicalId, arn);
      const handler = handlerOfPath(resource.Metadata?.[PATH_METADATA_KEY]);
      if (handler) {
        handlersByArn.set(arn, handler as HandlerName);
        // Lambda's default when MemorySize is unset.
        memoryMb[handler as HandlerName] = Number(resource.Properties?.MemorySize ?? 128);
      }
    }
    if (resource.Type === 'AWS::StepFunctions::StateMachine') {
      // A pinned StateMachineName names the ARN (and so the executions); CloudFormation otherwise generates one.
      const name = resource.Properties?.StateMachineName;
      stateMachine = { logicalId, name: typeof name === 'string' ? name : logicalId, definition: resource.Properties?.DefinitionString };
    }
  }
  if (!stateMachine) throw new Error('The synthesized stack has no state machine');

  const resolve = (value: unknown): unknown => {
    if (typeof value === 'string' || typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map(resolve);
    const v = value as Record<string, unknown>;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => String(resolve(p))).join(separator);
    }
    if ('Ref' in v) {
      const ref = String(v.Ref);
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': REHEARSAL_REGION,
        'AWS::AccountId': REHEARSAL_ACCOUNT,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      if (pseudo[ref]) return pseudo[ref];
      if (functionArns.has(ref)) return ref;
      throw new Error(`Cannot resolve Ref ${ref} in the state machine definition`);
    }
    if ('Fn::GetAtt' in v) {
      const [logicalId, attribute] = v['Fn::GetAtt'] as [string, string];
      const arn = functionArns.get(logicalId);
      if (arn && attribute === 'Arn') return arn;
      throw new Error(`Cannot resolve Fn::GetAtt ${logicalId}.${attribute} in the state machine definition`);
    }
    throw new Error(`Unsupported intrinsic in the state machine definition: ${JSON.stringify(value)}`);
  };
  const definition = JSON.parse(String(resolve(stateMachine.definition))) as AslDefinition;

  const taskHandlers: Record<string, HandlerName> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const functionName = state.Parameters?.FunctionName;
    const handler = typeof functionName === 'string' ? handlersByArn.get(functionName) : undefined;
    if (!handler) throw new Error(`Task state "${name}" does not invoke a known release manager function`);
    taskHandlers[name] = handler;
  }
  return {
    definition,
    taskHandlers,
    memoryMb,
    stateMachineArn: `arn:aws:states:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:stateMachine:${stateMachine.name}`,
  };
}

/**
 * The handler module a function runs, from its construct path: the release functions
 * are constructs named after their handler (`.../plan-release/Resource`).
 */
export function handlerOfPath(path: unknown): HandlerName | undefined {
  if (typeof path !== 'string') return undefined;
  const segments = path.split('/');
  const name = segments[segments.length - 2];
  return (HANDLER_NAMES as readonly string[]).includes(name ?? '') && segments[segments.length - 1] === 'Resource' ? (name as HandlerName) : undefined;
}

// ---------------------------------------------------------------------------------
// The definition the interpreter runs. aws-local-stepfunctions waits in wall time
// (Wait states, task timeouts, the execution timeout); the rehearsal waits in virtual
// time instead, so the interpreter gets a definition without those waits:
// - every Wait state becomes a Task of the same name and transitions, bound per
//   execution to a virtual sleep;
// - every Task gets a wall-clock TimeoutSeconds it never reaches; its own TimeoutSeconds
//   or TimeoutSecondsPath is applied by the engine in virtual time (TimeoutSecondsPath
//   travels to the engine as a hidden parameter, resolved by the interpreter against
//   the effective input, as Step Functions resolves it);
// - the top-level TimeoutSeconds is dropped (the engine times the execution out);
// - `$$.State.Name`, which the interpreter does not know, becomes the state's name.

/** The Resource a Wait state is turned into. */
export const VIRTUAL_WAIT_RESOURCE = `arn:aws:lambda:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:function:rehearsal-virtual-wait`;
/** The parameter that carries a TimeoutSecondsPath's value to the engine (stripped before the task runs). */
export const TIMEOUT_PARAMETER = '__rehearsalTimeoutSeconds';
/** What the interpreter's own (wall-clock) task timer is set to: days, under setTimeout's 2^31-1 ms. */
export const INTERPRETER_TASK_TIMEOUT_SECONDS = 2_000_000;

/** A Task that waits for SendTaskSuccess / SendTaskFailure (`arn:aws:states:::lambda:invoke.waitForTaskToken`, ...). */
export function waitsForTaskToken(state: AslState): boolean {
  return state.Type === 'Task' && typeof state.Resource === 'string' && state.Resource.endsWith('.waitForTaskToken');
}

export function interpreterDefinition(definition: AslDefinition): AslDefinition {
  const { TimeoutSeconds: _executionTimeout, ...top } = definition;
  const states: Record<string, AslState> = {};
  for (const [name, original] of Object.entries(definition.States)) {
    const state = withStateName(original, name);
    if (state.Type === 'Wait') {
      const { Seconds: _s, SecondsPath: _sp, Timestamp: _t, TimestampPath: _tp, Type: _type, ...rest } = state;
      states[name] = { ...rest, Type: 'Task', Resource: VIRTUAL_WAIT_RESOURCE, TimeoutSeconds: INTERPRETER_TASK_TIMEOUT_SECONDS };
    } else if (state.Type === 'Task') {
      const { TimeoutSeconds: _ts, TimeoutSecondsPath: path, HeartbeatSeconds: _hs, HeartbeatSecondsPath: _hsp, ...rest } = state;
      const task: AslState = { ...rest, TimeoutSeconds: INTERPRETER_TASK_TIMEOUT_SECONDS };
      if (typeof path === 'string' && isObject(rest.Parameters)) task.Parameters = { ...rest.Parameters, [`${TIMEOUT_PARAMETER}.$`]: path };
      states[name] = task;
    } else {
      states[name] = state;
    }
  }
  return { ...top, States: states };
}

/** `"x.$": "$$.State.Name"` in Parameters and ResultSelector -> `"x": "<the state's name>"`. */
function withStateName(state: AslState, name: string): AslState {
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => (key.endsWith('.$') && inner === '$$.State.Name' ? [key.slice(0, -2), name] : [key, rewrite(inner)])),
    );
  };
  const rewritten = { ...state };
  for (const field of ['Parameters', 'ResultSelector'] as const) if (state[field] !== undefined) rewritten[field] = rewrite(state[field]) as never;
  return rewritten;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
