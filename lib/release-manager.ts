/**
 * `ReleaseManager`: the L3 construct a platform team embeds. It validates the targets,
 * creates the task functions, the release workflow and the approval trigger, and
 * grants each function only the SageMaker and CloudWatch actions it needs on the
 * configured endpoints and the resources their releases create.
 */
import { ArnFormat, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { parseConfig, type ReleaseManagerConfig, type ReleaseManagerConfigInput } from '../lambdas/domain/config';
import { resourcePrefix } from '../lambdas/domain/names';
import { worstCaseReleaseSeconds } from '../lambdas/domain/policy';
import { acknowledge, acknowledgeWildcards } from './nag';
import { ReleaseFunctions, type HandlerName } from './release-functions';
import { ReleaseTrigger } from './release-trigger';
import { ReleaseWorkflow } from './release-workflow';

export interface ReleaseManagerProps {
  /** The targets and their policies; validated here, so a bad config stops synth with the field named. */
  readonly config: ReleaseManagerConfigInput;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

const MAX_EXECUTION_SECONDS = 365 * 24 * 3600;

/** Resources per IAM statement (see grantPermissions). */
const RESOURCES_PER_STATEMENT = 10;

/** Margin on top of the worst case, for Lambda and Step Functions overheads. */
const EXECUTION_TIMEOUT_MARGIN_SECONDS = 3600;

export class ReleaseManager extends Construct {
  public readonly config: ReleaseManagerConfig;
  public readonly stateMachine: StateMachine;
  public readonly functions: Readonly<Record<HandlerName, NodejsFunction>>;
  public readonly trigger: ReleaseTrigger;
  public readonly workflow: ReleaseWorkflow;

  constructor(scope: Construct, id: string, props: ReleaseManagerProps) {
    super(scope, id);
    this.config = parseConfig(props.config, `${this.node.path} config`);
    const logs = { logRetention: props.logRetention, logRemovalPolicy: props.logRemovalPolicy };

    this.functions = new ReleaseFunctions(this, 'Functions', { config: this.config, ...logs }).functions;
    const worstCase = Math.max(...this.config.targets.map(worstCaseReleaseSeconds));
    this.workflow = new ReleaseWorkflow(this, 'Workflow', {
      functions: this.functions,
      // Step Functions Standard executions may run for one year at most.
      executionTimeout: Duration.seconds(Math.min(worstCase + EXECUTION_TIMEOUT_MARGIN_SECONDS, MAX_EXECUTION_SECONDS)),
      ...logs,
    });
    this.stateMachine = this.workflow.stateMachine;
    this.trigger = new ReleaseTrigger(this, 'Trigger', {
      stateMachine: this.stateMachine,
      modelPackageGroupNames: this.config.targets.map((t) => t.modelPackageGroupName),
    });
    this.grantPermissions();
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

    for (const name of [
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

    for (const fn of Object.values(fns)) {
      acknowledge(
        fn,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions (added by tracing: ACTIVE).',
      );
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
