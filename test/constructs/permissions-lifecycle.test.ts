/**
 * Least privilege for the ledger, the lifecycle events and Step Functions: each
 * function's statements on DynamoDB, EventBridge, Step Functions, KMS and SQS are
 * exactly the ones listed here, scoped to the ledger table, the default bus (with the
 * lifecycle source), this state machine and its executions. The state machine's ARNs
 * are built from its name, so no function policy refers to the state machine resource.
 */
import { type CfnResource } from 'aws-cdk-lib';
import { LEDGER_ACTIONS } from '../../lib/release-ledger';
import { HANDLER_NAMES, type HandlerName } from '../../lib/release-functions';
import { LIFECYCLE_EVENT_SOURCE } from '../../lib/release-notifications';
import {
  allowing,
  committedConfig,
  ENV,
  functionsByHandler,
  type Json,
  policyStatements,
  sagemakerArn,
  statesArn,
  synthesize,
  type Statement,
  type TaskFunction,
} from './fixtures';

/** The services whose statements this file pins down completely. */
const PINNED = /^(dynamodb|events|states|kms|sqs):/;

interface Grant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition?: Json;
}

const normalize = (g: Grant) => ({ actions: [...g.actions].sort(), resources: [...g.resources].sort(), condition: g.condition ?? null });
const byText = (a: ReturnType<typeof normalize>, b: ReturnType<typeof normalize>) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('ReleaseManager permissions on the ledger, lifecycle events and Step Functions', () => {
  const config = committedConfig();
  const endpoints = config.targets.map((t) => sagemakerArn('endpoint', t.endpointName.toLowerCase())).sort();
  let statements: Statement[];
  let functions: Record<string, TaskFunction>;
  let stateMachineName: string;
  let stateMachineId: string;
  let tableId: string;
  let queueId: string;

  const statementsOf = (handler: HandlerName) => statements.filter((s) => s.roleIds.includes(functions[handler]!.roleId));
  const handlersAllowed = (action: string) => {
    const roles = new Set(allowing(statements, action).flatMap((s) => s.roleIds));
    return Object.entries(functions)
      .filter(([, fn]) => roles.has(fn.roleId))
      .map(([handler]) => handler)
      .sort();
  };

  beforeAll(() => {
    const { template, stack } = synthesize(config);
    statements = policyStatements(template);
    functions = functionsByHandler(template);
    const manager = stack.releaseManager;
    const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnResource);
    stateMachineName = manager.stateMachineName;
    stateMachineId = id(manager.stateMachine);
    tableId = id(manager.ledger.table);
    queueId = id(manager.trigger.deadLetterQueue);
  });

  it('It should grant each function exactly these statements on the ledger, the bus, the state machine, KMS and SQS', () => {
    const ledger: Grant = { actions: LEDGER_ACTIONS, resources: [`<${tableId}.Arn>`] };
    const events: Grant = {
      actions: ['events:PutEvents'],
      resources: [`arn:<AWS::Partition>:events:${ENV.region}:${ENV.account}:event-bus/default`],
      condition: { StringEquals: { 'events:source': LIFECYCLE_EVENT_SOURCE } },
    };
    const executions: Grant = { actions: ['states:DescribeExecution'], resources: [statesArn('execution', `${stateMachineName}:*`)] };
    const expected: Record<HandlerName, Grant[]> = {
      'start-release': [
        { actions: ['states:StartExecution'], resources: [statesArn('stateMachine', stateMachineName)] },
        // The on-failure destination of its asynchronous invocations.
        { actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], resources: [`<${queueId}.Arn>`] },
      ],
      // Also fails a waiting approval gate (ReleaseAborted) and emits "Release Recovered".
      'take-lock': [ledger, events, executions, { actions: ['states:SendTaskFailure'], resources: ['*'] }],
      'plan-release': [ledger, events],
      'create-candidate': [],
      'deploy-candidate': [ledger],
      'check-endpoint': [ledger],
      'shift-traffic': [ledger],
      'evaluate-alarms': [ledger, events],
      'promote-candidate': [ledger],
      'finish-promotion': [],
      'roll-back': [ledger],
      'record-outcome': [ledger, events],
      'request-approval': [ledger, events],
      'operator-action': [ledger, executions, { actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: ['*'] }],
    };
    expect(Object.keys(expected).sort()).toEqual([...HANDLER_NAMES].sort());
    for (const handler of HANDLER_NAMES) {
      const actual = statementsOf(handler)
        .filter((s) => s.actions.some((a) => PINNED.test(a)))
        .map(normalize)
        .sort(byText);
      expect({ handler, statements: actual }).toEqual({ handler, statements: expected[handler].map(normalize).sort(byText) });
    }
  });

  it('It should let no other role use the ledger, put lifecycle events or drive executions', () => {
    const taskRoles = new Set(Object.values(functions).map((fn) => fn.roleId));
    const others = statements.filter((s) => !s.roleIds.some((r) => taskRoles.has(r)));
    const pinned = others.filter((s) => s.actions.some((a) => /^(dynamodb|events|states):/.test(a)));
    // The state machine's own role invokes Lambda and writes logs; it needs none of these.
    expect(pinned).toEqual([]);
  });

  it('It should name the state machine by ARNs built from its name, never by a reference to the state machine resource', () => {
    const referring = statements.filter((s) => s.resources.some((r) => r.includes(`<${stateMachineId}`)));
    expect(referring).toEqual([]);
    expect(stateMachineName).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('It should let take-lock and operator-action describe the configured endpoints only, and nothing else in SageMaker', () => {
    for (const handler of ['take-lock', 'operator-action'] as const) {
      const sagemaker = statementsOf(handler).filter((s) => s.actions.some((a) => a.startsWith('sagemaker:')));
      expect({ handler, statements: sagemaker.map(normalize) }).toEqual({
        handler,
        statements: [normalize({ actions: ['sagemaker:DescribeEndpoint'], resources: endpoints })],
      });
    }
  });

  it('It should let only the plan function list model packages, and only in the configured groups', () => {
    expect(handlersAllowed('sagemaker:ListModelPackages')).toEqual(['plan-release']);
    const list = allowing(statements, 'sagemaker:ListModelPackages');
    expect(list.map(normalize)).toEqual([
      normalize({
        actions: ['sagemaker:ListModelPackages'],
        resources: config.targets.map((t) => sagemakerArn('model-package', `${t.modelPackageGroupName}/*`)),
      }),
    ]);
  });

  it('It should let only start-release start executions, only operator-action approve a gate, and only it and take-lock fail one', () => {
    expect(handlersAllowed('states:StartExecution')).toEqual(['start-release']);
    expect(handlersAllowed('states:SendTaskSuccess')).toEqual(['operator-action']);
    expect(handlersAllowed('states:SendTaskFailure')).toEqual(['operator-action', 'take-lock']);
    expect(handlersAllowed('states:DescribeExecution')).toEqual(['operator-action', 'take-lock']);
  });
});
