/**
 * The EventBridge rule that starts a release when a model version in a configured
 * group is approved. Pinned to the stack's account and region; failed deliveries are
 * retried and then kept in a dead-letter queue, watched by an alarm.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

export const MODEL_PACKAGE_STATE_CHANGE = 'SageMaker Model Package State Change';

export interface ReleaseTriggerProps {
  readonly stateMachine: IStateMachine;
  readonly modelPackageGroupNames: readonly string[];
  /** @default 8 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(4) */
  readonly maxEventAge?: Duration;
}

export class ReleaseTrigger extends Construct {
  public readonly rule: Rule;
  public readonly deadLetterQueue: Queue;
  public readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: ReleaseTriggerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue of the approval rule; a DLQ of a DLQ adds nothing.');
    this.rule = new Rule(this, 'ModelPackageApproved', {
      description: 'Starts a SageMaker release when a model package in a configured group is approved',
      eventPattern: {
        source: ['aws.sagemaker'],
        detailType: [MODEL_PACKAGE_STATE_CHANGE],
        account: [stack.account],
        region: [stack.region],
        detail: {
          ModelPackageGroupName: [...props.modelPackageGroupNames],
          ModelApprovalStatus: ['Approved'],
        },
      },
    });
    this.rule.addTarget(
      new SfnStateMachine(props.stateMachine, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(4),
      }),
    );
    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'An approval event could not start a release (see docs/runbook.md#an-approval-did-not-start-a-release). The event is in the dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
