/**
 * The EventBridge rule that starts a release when a model version in a configured
 * group is approved. Pinned to the stack's account and region. Its target is the
 * start-release function, which starts the state machine with a name derived from the
 * event, so a duplicate delivery starts no second release. Both ways an approval can be
 * lost end in one dead-letter queue, watched by an alarm:
 * - EventBridge cannot deliver the event to the function (retried, then the event itself
 *   goes to the queue, with the error in its message attributes);
 * - the function fails on the event (Lambda retries the asynchronous invocation twice,
 *   then its on-failure destination puts an invocation record, with the event as
 *   `requestPayload`, in the queue).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

export const MODEL_PACKAGE_STATE_CHANGE = 'SageMaker Model Package State Change';

export interface ReleaseTriggerProps {
  /** The start-release function. */
  readonly startFunction: IFunction;
  readonly modelPackageGroupNames: readonly string[];
  /** EventBridge delivery retries. @default 8 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(4) */
  readonly maxEventAge?: Duration;
}

/** Lambda's retries of a failed asynchronous invocation of the start-release function (its maximum). */
export const START_FUNCTION_RETRY_ATTEMPTS = 2;

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
      new LambdaFunction(props.startFunction, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(4),
      }),
    );
    // EventBridge invokes asynchronously: a function error is Lambda's to retry, then to send on.
    props.startFunction.configureAsyncInvoke({
      retryAttempts: START_FUNCTION_RETRY_ATTEMPTS,
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'An approval event could not start a release (see docs/runbook.md#an-approval-did-not-start-a-release). The event, or the failed invocation of start-release with the event as requestPayload, is in the dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
