/**
 * Shared fixtures for the construct tests: the committed targets, a generated large
 * config, a fast synth (bundling skipped), and readers that turn the synthesized
 * template's IAM policies, functions and state machine definition into plain data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PATH_METADATA_ENABLE_CONTEXT, PATH_METADATA_KEY } from 'aws-cdk-lib/cx-api';
import type { ReleaseManagerConfigInput } from '../../lambdas/domain/config';
import { ReleaseManagerStack, type ReleaseManagerStackProps } from '../../lib/release-manager-stack';
import { handlerOfPath } from '../../rehearsal/definition';

export const ENV = { account: '123456789012', region: 'eu-west-1' } as const;
export const STACK_NAME = 'SageMakerReleaseManager';
/** Context that makes NodejsFunction skip esbuild: the template is the same, synth takes seconds. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

export function committedConfig(): ReleaseManagerConfigInput {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'targets.json'), 'utf8')) as ReleaseManagerConfigInput;
}

/** `count` targets shaped like the committed canary target, with distinct names, roles and alarms. */
export function generatedConfig(count: number): ReleaseManagerConfigInput {
  const [model] = committedConfig().targets;
  return {
    targets: Array.from({ length: count }, (_, i) => ({
      ...model,
      name: `generated-${i}`,
      modelPackageGroupName: `generated-${i}-models`,
      endpointName: `generated-${i}-prod`,
      modelExecutionRoleArn: `arn:aws:iam::${ENV.account}:role/generated-${i}-execution`,
      alarms: [`generated-${i}-prod-5xx-errors`, `generated-${i}-prod-p99-latency`],
    })),
  };
}

export interface Built {
  readonly app: App;
  readonly stack: ReleaseManagerStack;
}

/** The stack's optional props (notification topic, ledger key, ...). */
export type StackOptions = Omit<ReleaseManagerStackProps, 'config' | 'env'>;

/** Builds the production stack in a fresh app; bundling is skipped unless `appProps.context` says otherwise. */
export function build(config: ReleaseManagerConfigInput = committedConfig(), appProps: AppProps = {}, options: StackOptions = {}): Built {
  const app = new App({ ...appProps, context: { ...SKIP_BUNDLING, [PATH_METADATA_ENABLE_CONTEXT]: true, ...appProps.context } });
  const stack = new ReleaseManagerStack(app, STACK_NAME, { ...options, config, env: ENV });
  return { app, stack };
}

export function synthesize(config: ReleaseManagerConfigInput = committedConfig(), options: StackOptions = {}): Built & { readonly template: Template } {
  const built = build(config, {}, options);
  return { ...built, template: Template.fromStack(built.stack) };
}

// ---- Plain-data views of the template ----

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties: JsonObject;
  readonly Metadata?: JsonObject;
  readonly DeletionPolicy?: string;
}

export function resourcesOfType(template: Template, type: string): Record<string, CfnResourceJson> {
  const found = template.findResources(type) as Record<string, { Properties?: JsonObject }>;
  return Object.fromEntries(Object.entries(found).map(([id, r]) => [id, { ...r, Type: type, Properties: r.Properties ?? {} } as CfnResourceJson]));
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Renders a CloudFormation value as a string the way cdk-nag prints it: `<Ref>`, `<Id.Attr>`, joins flattened. */
export function render(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  if (isObject(value)) {
    if (typeof value.Ref === 'string') return `<${value.Ref}>`;
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    const join = value['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) return join[1].map(render).join(join[0]);
  }
  return JSON.stringify(value);
}

const asArray = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** A SageMaker ARN in this stack's account and region, as `render` prints it. */
export function sagemakerArn(resource: string, name: string): string {
  return `arn:<AWS::Partition>:sagemaker:${ENV.region}:${ENV.account}:${resource}/${name}`;
}

/** A Step Functions ARN (`stateMachine`, `execution`) in this stack's account and region, as `render` prints it. */
export function statesArn(resource: string, name: string): string {
  return `arn:<AWS::Partition>:states:${ENV.region}:${ENV.account}:${resource}:${name}`;
}

export function alarmArn(name: string): string {
  return `arn:<AWS::Partition>:cloudwatch:${ENV.region}:${ENV.account}:alarm:${name}`;
}

export interface TaskFunction {
  readonly logicalId: string;
  readonly properties: JsonObject;
  /** Logical id of the function's execution role. */
  readonly roleId: string;
}

/** The task functions, keyed by their handler module (the name of their construct). */
export function functionsByHandler(template: Template): Record<string, TaskFunction> {
  const result: Record<string, TaskFunction> = {};
  for (const [logicalId, fn] of Object.entries(resourcesOfType(template, 'AWS::Lambda::Function'))) {
    const handler = handlerOfPath(fn.Metadata?.[PATH_METADATA_KEY]);
    if (!handler) continue;
    const role = fn.Properties.Role;
    const roleId = isObject(role) && Array.isArray(role['Fn::GetAtt']) ? String(role['Fn::GetAtt'][0]) : render(role);
    result[handler] = { logicalId, properties: fn.Properties, roleId };
  }
  return result;
}

export interface Statement {
  readonly policyId: string;
  /** Logical ids of the roles the policy is attached to. */
  readonly roleIds: readonly string[];
  readonly effect: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition?: Json;
}

/** Every statement of every identity policy (inline and managed, overflow policies included). */
export function policyStatements(template: Template): Statement[] {
  const policies = { ...resourcesOfType(template, 'AWS::IAM::Policy'), ...resourcesOfType(template, 'AWS::IAM::ManagedPolicy') };
  return Object.entries(policies).flatMap(([policyId, policy]) => {
    const document = policy.Properties.PolicyDocument;
    const roleIds = asArray(policy.Properties.Roles).map((r) => render(r).replace(/^<(.*)>$/, '$1'));
    return asArray(isObject(document) ? document.Statement : undefined)
      .filter(isObject)
      .map((s) => ({
        policyId,
        roleIds,
        effect: String(s.Effect),
        actions: asArray(s.Action).map(render),
        resources: asArray(s.Resource).map(render),
        condition: s.Condition,
      }));
  });
}

export function allowing(statements: readonly Statement[], action: string): Statement[] {
  return statements.filter((s) => s.effect === 'Allow' && s.actions.includes(action));
}

// ---- The state machine definition ----

export interface AslRetrier {
  readonly ErrorEquals: string[];
}
export interface AslCatcher {
  readonly ErrorEquals: string[];
  readonly Next: string;
}
export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: JsonObject;
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly Retry?: AslRetrier[];
  readonly Catch?: AslCatcher[];
  readonly Error?: string;
  readonly Cause?: string;
  readonly CausePath?: string;
  readonly QueryLanguage?: string;
  readonly Assign?: unknown;
  readonly Branches?: Asl[];
  readonly ItemProcessor?: Asl;
  readonly Iterator?: Asl;
}
export interface Asl {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
  readonly QueryLanguage?: string;
}

/** Placeholder for an intrinsic inside the definition; it only ever sits inside a JSON string. */
export const INTRINSIC_PLACEHOLDER = '<intrinsic>';

/** Parses the state machine's DefinitionString, joining Fn::Join parts and replacing intrinsics with a placeholder. */
export function stateMachineDefinition(template: Template): Asl {
  const [machine] = Object.values(resourcesOfType(template, 'AWS::StepFunctions::StateMachine'));
  const definition = machine.Properties.DefinitionString;
  if (typeof definition === 'string') return JSON.parse(definition) as Asl;
  const join = isObject(definition) ? definition['Fn::Join'] : undefined;
  if (!Array.isArray(join) || typeof join[0] !== 'string' || !Array.isArray(join[1])) {
    throw new Error(`unexpected DefinitionString: ${JSON.stringify(definition)}`);
  }
  const text = join[1].map((part) => (typeof part === 'string' ? part : INTRINSIC_PLACEHOLDER)).join(join[0]);
  return JSON.parse(text) as Asl;
}

/** Every state, including those nested in Parallel branches and Map processors, with its name. */
export function allStates(asl: Asl): Array<[string, AslState]> {
  return Object.entries(asl.States).flatMap(([name, state]): Array<[string, AslState]> => [
    [name, state],
    ...[...(state.Branches ?? []), ...(state.ItemProcessor ? [state.ItemProcessor] : []), ...(state.Iterator ? [state.Iterator] : [])].flatMap(allStates),
  ]);
}
