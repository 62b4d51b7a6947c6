/**
 * `ReleaseManager`: the L3 construct a platform team embeds. It validates the targets,
 * creates the ledger, the task functions, the release workflow, the approval trigger
 * and (with a topic) the notifications, and grants each function only the actions it
 * needs: SageMaker and CloudWatch on the configured endpoints, alarms and the resources
 * their releases create; the ledger's DynamoDB actions on its table; PutEvents of
 * lifecycle events on the default bus; Step Functions on this state machine only.
 *
 * The state machine has a deterministic name (see `stateMachineName`), and every
 * policy that names it (or its executions) builds the ARN from that name: the state
 * machine depends on the functions it invokes, so a function's policy must not depend
 * on the state machine's resource.
 */
import { ArnFormat, Duration, Names, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { CfnStateMachine, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { parseConfig, type ReleaseManagerConfig, type ReleaseManagerConfigInput } from '../lambdas/domain/config';
import { resourcePrefix } from '../lambdas/domain/names';
import { worstCaseReleaseSeconds } from '../lambdas/domain/policy';
import { acknowledge, acknowledgeWildcards } from './nag';
import { EVENT_EMITTERS, LEDGER_USERS, ReleaseFunctions, type HandlerName } from './release-functions';
import { ReleaseLedger, type ReleaseLedgerProps } from './release-ledger';
import {
  LIFECYCLE_EVENT_BUS_NAME,
  LIFECYCLE_EVENT_SOURCE,
  type LifecycleDetailType,
  lifecycleEventPattern,
  ReleaseNotifications,
} from './release-notifications';
import { ReleaseTrigger } from './release-trigger';
import { ReleaseWorkflow } from './release-workflow';

export interface ReleaseManagerProps {
  /** The targets and their policies; validated here, so a bad config stops synth with the field named. */
  readonly config: ReleaseManagerConfigInput;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** The ledger table's encryption key, removal policy and deletion protection. @default AWS managed key, retained, protected */
  readonly ledger?: ReleaseLedgerProps;
  /** Where lifecycle notifications go (an EventBridge rule on the default bus). @default no notifications */
  readonly notificationTopic?: ITopic;
  /** Which lifecycle events reach `notificationTopic`. @default DEFAULT_NOTIFY_ON: the final outcomes and "Release Approval Requested" */
  readonly notifyOn?: readonly LifecycleDetailType[];
}

/** The longest name Step Functions accepts for a state machine. */
const STATE_MACHINE_NAME_MAX_LENGTH = 80;

const MAX_EXECUTION_SECONDS = 365 * 24 * 3600;

/** Resources per IAM statement (see grantPermissions). */
const RESOURCES_PER_STATEMENT = 10;

/** Margin on top of the worst case, for Lambda and Step Functions overheads. */
const EXECUTION_TIMEOUT_MARGIN_SECONDS = 3600;

export class ReleaseManager extends Construct {
  public readonly config: ReleaseManagerConfig;
  /**
   * The state machine's name: `Names.uniqueResourceName(<this ReleaseManager>, { maxLength: 80, separator: '-' })`,
   * i.e. the stack name, the construct path below the stack (repeats dropped) and an
   * 8-character hash of the full path, joined by `-`, at most 80 characters of
   * [A-Za-z0-9-]. Example: `SageMakerReleaseManager-DC65309E` for the stack
   * `SageMakerReleaseManager` with its `ReleaseManager`.
   */
  public readonly stateMachineName: string;
  /** The state machine's ARN, built from its name (usable in policies of functions it invokes). */
  public readonly stateMachineArn: string;
  public readonly stateMachine: StateMachine;
  public readonly functions: Readonly<Record<HandlerName, NodejsFunction>>;
  public readonly ledger: ReleaseLedger;
  public readonly trigger: ReleaseTrigger;
  public readonly workflow: ReleaseWorkflow;
  /** The notification rule, when a notification topic was given. */
  public readonly notifications?: ReleaseNotifications;
  /** Matches every lifecycle event of this account on the default bus, for rules of your own. */
  public readonly lifecycleEventPattern: EventPattern;

  constructor(scope: Construct, id: string, props: ReleaseManagerProps) {
    super(scope, id);
    this.config = parseConfig(props.config, `${this.node.path} config`);
    const logs = { logRetention: props.logRetention, logRemovalPolicy: props.logRemovalPolicy };
    const stack = Stack.of(this);

    this.stateMachineName = Names.uniqueResourceName(this, { maxLength: STATE_MACHINE_NAME_MAX_LENGTH, separator: '-' });
    this.stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.ledger = new ReleaseLedger(this, 'Ledger', props.ledger);
    this.functions = new ReleaseFunctions(this, 'Functions', {
      config: this.config,
      ledgerTableName: this.ledger.table.tableName,
      stateMachineArn: this.stateMachineArn,
      eventBusName: LIFECYCLE_EVENT_BUS_NAME,
      ...logs,
    }).functions;
    const worstCase = Math.max(...this.config.targets.map(worstCaseReleaseSeconds));
    this.workflow = new ReleaseWorkflow(this, 'Workflow', {
      functions: this.functions,
      stateMachineName: this.stateMachineName,
      // Step Functions Standard executions may run for one year at most.
      executionTimeout: Duration.seconds(Math.min(worstCase + EXECUTION_TIMEOUT_MARGIN_SECONDS, MAX_EXECUTION_SECONDS)),
      ...logs,
    });
    this.stateMachine = this.workflow.stateMachine;
    this.checkStateMachineName();
    this.trigger = new ReleaseTrigger(this, 'Trigger', {
      startFunction: this.functions['start-release'],
      modelPackageGroupNames: this.config.targets.map((t) => t.modelPackageGroupName),
    });
    this.lifecycleEventPattern = lifecycleEventPattern(this);
    if (props.notificationTopic) {
      this.notifications = new ReleaseNotifications(this, 'Notifications', { topic: props.notificationTopic, notifyOn: props.notifyOn });
    } else if (props.notifyOn) {
      throw new Error(`${this.node.path}: notifyOn needs a notificationTopic`);
    }
    this.grantPermissions();
  }

  /** The policies name the state machine by `stateMachineName`: make sure it is the name it gets. */
  private checkStateMachineName(): void {
    const name = (this.stateMachine.node.defaultChild as CfnStateMachine).stateMachineName;
    if (name !== this.stateMachineName) {
      throw new Error(`${this.node.path}: the state machine is named "${String(name)}", but its policies expect "${this.stateMachineName}"`);
    }
  }

  private grantPermissions(): void {
    const stack = Stack.of(this);
    // SageMaker lower-cases endpoint, endpoint config and model names in ARNs; model package ARNs keep the group's case.
    const arn = (resource: string, name: string) =>
      stack.formatArn({
        service: 'sagemaker',
        resource,
        resourceName: resource === 'model-package' ? name : name.toLowerCase(),
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const targets = this.config.targets;
    const endpoints = targets.map((t) => arn('endpoint', t.endpointName));
    const releaseModels = targets.map((t) => arn('model', `${resourcePrefix(t.endpointName)}-v*`));
    const releaseConfigs = targets.map((t) => arn('endpoint-config', `${resourcePrefix(t.endpointName)}-v*`));
    const anyConfig = arn('endpoint-config', '*');
    const anyModel = arn('model', '*');
    const packages = targets.map((t) => arn('model-package', `${t.modelPackageGroupName}/*`));
    const roles = [...new Set(targets.map((t) => t.modelExecutionRoleArn))];
    const alarms = [...new Set(targets.flatMap((t) => t.alarms))].map((name) =>
      stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    // Built from the name, never from the state machine's tokens: see the file comment.
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const defaultBus = stack.formatArn({
      service: 'events',
      resource: 'event-bus',
      resourceName: LIFECYCLE_EVENT_BUS_NAME,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const fns = this.functions;
    const grant = (name: HandlerName, actions: string[], resources: string[], why?: string) => {
      // Small statements: CDK moves whole statements into overflow managed policies, so many
      // targets stay within IAM's policy size limits only if no single statement is huge.
      for (let i = 0; i < resources.length; i += RESOURCES_PER_STATEMENT) {
        fns[name].addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources: resources.slice(i, i + RESOURCES_PER_STATEMENT) }));
      }
      if (why) acknowledgeWildcards(fns[name], resources, why);
    };
    const WHY_RELEASE_NAMES =
      'Scoped to the names releases generate for the configured endpoints (<endpoint prefix>-v<version>-<hash>); the versions are not known at deploy time.';
    const WHY_PACKAGES = 'Scoped to the versions of the configured model package groups; versions are created after deploy.';
    const WHY_BASELINE = 'Read-only Describe on configs and models: the baseline an endpoint runs may have been created by hand under any name.';
    const WHY_BASELINE_CONFIG =
      'UpdateEndpoint back to the baseline config (any name: it may predate the release manager); the endpoint ARN itself is scoped to configured endpoints.';
    const WHY_EXECUTIONS = "Executions of this release manager's state machine only; execution names are made at run time.";
    const WHY_XRAY = 'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions (added by tracing: ACTIVE).';
    const WHY_TASK_TOKEN =
      'states:SendTaskSuccess/SendTaskFailure have no resource types in the Service Authorization Reference (Resource must be *): the task token itself authorizes the call.';

    // ---- Ledger, lifecycle events, Step Functions ----
    for (const name of LEDGER_USERS) this.ledger.grantLedger(fns[name]);
    for (const name of EVENT_EMITTERS) {
      fns[name].addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['events:PutEvents'],
          resources: [defaultBus],
          conditions: { StringEquals: { 'events:source': LIFECYCLE_EVENT_SOURCE } },
        }),
      );
    }
    grant('start-release', ['states:StartExecution'], [this.stateMachineArn]);
    grant('take-lock', ['states:DescribeExecution'], [executions], WHY_EXECUTIONS);
    grant('operator-action', ['states:DescribeExecution'], [executions], WHY_EXECUTIONS);
    // Task tokens: operator-action answers the approval gate; take-lock fails it (ReleaseAborted) for a rollback request.
    const TASK_TOKEN_ACTIONS: Partial<Record<HandlerName, string[]>> = {
      'operator-action': ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      'take-lock': ['states:SendTaskFailure'],
    };
    for (const [name, actions] of Object.entries(TASK_TOKEN_ACTIONS) as Array<[HandlerName, string[]]>) {
      fns[name].addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources: ['*'] }));
    }
    // The Service Authorization Reference lists model-package (optional) for ListModelPackages: the
    // plan lists one group's versions (ModelPackageGroupName), authorized on model-package/<group>/*.
    grant('plan-release', ['sagemaker:ListModelPackages'], packages, WHY_PACKAGES);

    // ---- SageMaker and CloudWatch ----
    for (const name of [
      'take-lock',
      'operator-action',
      'plan-release',
      'create-candidate',
      'deploy-candidate',
      'check-endpoint',
      'shift-traffic',
      'promote-candidate',
      'finish-promotion',
      'roll-back',
    ] as const) {
      grant(name, ['sagemaker:DescribeEndpoint'], endpoints);
    }
    for (const name of ['plan-release', 'create-candidate'] as const) {
      grant(name, ['sagemaker:DescribeModelPackage'], packages, WHY_PACKAGES);
      grant(name, ['sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel'], [anyConfig, anyModel], WHY_BASELINE);
    }
    grant(
      'create-candidate',
      ['sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig', 'sagemaker:AddTags'],
      [...releaseModels, ...releaseConfigs],
      WHY_RELEASE_NAMES,
    );
    fns['create-candidate'].addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['iam:PassRole'],
        resources: roles,
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    grant(
      'deploy-candidate',
      ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:AddTags'],
      [...endpoints, ...releaseConfigs],
      WHY_RELEASE_NAMES,
    );
    grant('shift-traffic', ['sagemaker:UpdateEndpointWeightsAndCapacities'], endpoints);
    grant('evaluate-alarms', ['cloudwatch:DescribeAlarms'], alarms);
    grant('promote-candidate', ['sagemaker:DescribeEndpointConfig', 'sagemaker:CreateEndpointConfig', 'sagemaker:AddTags'], releaseConfigs, WHY_RELEASE_NAMES);
    grant('promote-candidate', ['sagemaker:UpdateEndpoint'], [...endpoints, ...releaseConfigs], WHY_RELEASE_NAMES);
    grant('create-candidate', ['sagemaker:DeleteEndpointConfig'], releaseConfigs, WHY_RELEASE_NAMES);
    grant('finish-promotion', ['sagemaker:DeleteEndpointConfig'], releaseConfigs, WHY_RELEASE_NAMES);
    grant('roll-back', ['sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:DeleteEndpoint'], endpoints);
    grant('roll-back', ['sagemaker:UpdateEndpoint'], [...endpoints, anyConfig], WHY_BASELINE_CONFIG);
    grant('roll-back', ['sagemaker:DeleteEndpointConfig'], releaseConfigs, WHY_RELEASE_NAMES);
    grant('roll-back', ['sagemaker:DeleteModel'], releaseModels, WHY_RELEASE_NAMES);

    for (const [name, fn] of Object.entries(fns)) {
      acknowledge(fn, 'AwsSolutions-IAM5[Resource::*]', name in TASK_TOKEN_ACTIONS ? `${WHY_XRAY} ${WHY_TASK_TOKEN}` : WHY_XRAY);
      acknowledge(
        fn,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AWSLambdaBasicExecutionRole only allows writing CloudWatch Logs, which every function needs.',
      );
      // The state machine may invoke any version of each task function (lambda:invoke grants fn and fn:*).
      acknowledgeWildcards(
        this.workflow.stateMachine,
        [`${fn.functionArn}:*`],
        'Step Functions invokes the task functions by ARN; the :* covers their versions and aliases only.',
      );
    }
    acknowledge(
      this.workflow.stateMachine,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray and CloudWatch Logs delivery actions (tracing and logging enabled) have no resource-level permissions.',
    );
  }

  /** Alarms created by the construct, for dashboards and runbooks. */
  public get alarms(): Alarm[] {
    return [this.trigger.deadLetterAlarm];
  }
}
