/**
 * The task functions' house defaults: runtime, architecture, tracing, logs, and an
 * environment that stays small and names only what each function uses.
 */
import type { CfnResource } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { EVENT_EMITTERS, EXECUTION_STARTERS, HANDLER_NAMES, LEDGER_USERS } from '../../lib/release-functions';
import { functionsByHandler, generatedConfig, isObject, type Json, render, resourcesOfType, statesArn, synthesize, type TaskFunction } from './fixtures';

/** Lambda's limit is 4 KB for all variables together; a quarter of it leaves room for what operators add. */
const ENVIRONMENT_BUDGET_BYTES = 1024;
const MANY_TARGETS = 60;

describe('ReleaseFunctions', () => {
  let template: Template;
  let functions: Record<string, TaskFunction>;
  let manyTargets: { template: Template; endpointNames: string[] };
  let tableId: string;
  let stateMachineName: string;

  beforeAll(() => {
    const synthesized = synthesize();
    template = synthesized.template;
    const manager = synthesized.stack.releaseManager;
    tableId = synthesized.stack.getLogicalId(manager.ledger.table.node.defaultChild as CfnResource);
    stateMachineName = manager.stateMachineName;
    functions = functionsByHandler(template);
    const config = generatedConfig(MANY_TARGETS);
    manyTargets = { template: synthesize(config).template, endpointNames: config.targets.map((t) => t.endpointName) };
  });

  it('It should create one function per task handler', () => {
    expect(Object.keys(functions).sort()).toEqual([...HANDLER_NAMES].sort());
    template.resourceCountIs('AWS::Lambda::Function', HANDLER_NAMES.length);
  });

  it('It should run every function on Node.js 24 on ARM64 with active X-Ray tracing', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('It should send each function its own explicit log group with a retention', () => {
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    const used = Object.entries(functions).map(([handler, fn]) => {
      const logging = fn.properties.LoggingConfig;
      const ref = isObject(logging) && isObject(logging.LogGroup) ? logging.LogGroup.Ref : undefined;
      expect({ handler, ref: typeof ref }).toEqual({ handler, ref: 'string' });
      const logGroup = logGroups[String(ref)];
      expect({ handler, type: logGroup?.Type }).toEqual({ handler, type: 'AWS::Logs::LogGroup' });
      expect(logGroup.Properties.RetentionInDays).toEqual(expect.any(Number));
      return String(ref);
    });
    expect(new Set(used).size).toBe(HANDLER_NAMES.length);
  });

  it('It should keep the logs when the stack is deleted', () => {
    for (const [id, logGroup] of Object.entries(resourcesOfType(template, 'AWS::Logs::LogGroup'))) {
      expect({ id, deletionPolicy: logGroup.DeletionPolicy }).toEqual({ id, deletionPolicy: 'Retain' });
    }
  });

  it(`It should keep every function's environment under ${ENVIRONMENT_BUDGET_BYTES} bytes even with ${MANY_TARGETS} targets`, () => {
    const many = functionsByHandler(manyTargets.template);
    expect(Object.keys(many)).toHaveLength(HANDLER_NAMES.length);
    for (const [handler, fn] of Object.entries(many)) {
      const environment = fn.properties.Environment;
      const variables = isObject(environment) ? environment.Variables : {};
      const bytes = Buffer.byteLength(JSON.stringify(variables ?? {}), 'utf8');
      expect({ handler, bytes: bytes < ENVIRONMENT_BUDGET_BYTES }).toEqual({ handler, bytes: true });
    }
  });

  it('It should give each function the ledger table, the event bus and the state machine only if it uses them', () => {
    expect([...EXECUTION_STARTERS]).toEqual(['start-release']);
    for (const [handler, fn] of Object.entries(functions)) {
      const environment = fn.properties.Environment;
      const variables = (isObject(environment) && isObject(environment.Variables) ? environment.Variables : {}) as Record<string, Json>;
      const name = handler as (typeof HANDLER_NAMES)[number];
      expect({ handler, variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, render(v)])) }).toEqual({
        handler,
        variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'sagemaker-release-manager',
          ...(LEDGER_USERS.includes(name) ? { LEDGER_TABLE_NAME: `<${tableId}>` } : {}),
          ...(EVENT_EMITTERS.includes(name) ? { EVENT_BUS_NAME: 'default' } : {}),
          ...(EXECUTION_STARTERS.includes(name) ? { STATE_MACHINE_ARN: statesArn('stateMachine', stateMachineName) } : {}),
        },
      });
    }
  });

  it('It should not pass the targets to any function through its environment', () => {
    for (const [handler, fn] of Object.entries(functionsByHandler(manyTargets.template))) {
      const environment = JSON.stringify(fn.properties.Environment ?? {});
      const leaked = manyTargets.endpointNames.filter((name) => environment.includes(name));
      expect({ handler, leaked }).toEqual({ handler, leaked: [] });
    }
  });
});
