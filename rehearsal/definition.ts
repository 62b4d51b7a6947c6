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
  let stateMachine: { logicalId: string; definition: unknown } | undefined;
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
      stateMachine = { logicalId, definition: resource.Properties?.DefinitionString };
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
    stateMachineArn: `arn:aws:states:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:stateMachine:${stateMachine.logicalId}`,
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
