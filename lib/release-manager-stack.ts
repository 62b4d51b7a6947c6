/**
 * The stack `cdk deploy` installs: one ReleaseManager with the project's targets, checked
 * by cdk-nag, and the outputs the CLI and runbooks look up by export name.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { ReleaseManagerConfigInput } from '../lambdas/domain/config';
import { ReleaseManager } from './release-manager';
import { LIFECYCLE_EVENT_SOURCE, type LifecycleDetailType } from './release-notifications';

export interface ReleaseManagerStackProps extends StackProps {
  readonly config: ReleaseManagerConfigInput;
  /**
   * An existing SNS topic for lifecycle notifications (`cdk deploy -c notificationTopicArn=...`), in the
   * stack's account and region. The stack needs a concrete account and region for it (CDK
   * refuses an EventBridge target whose environment it cannot compare); bin/app.ts takes
   * them from the ARN.
   * @default no notifications
   */
  readonly notificationTopicArn?: string;
  /** Which lifecycle events reach the topic. @default DEFAULT_NOTIFY_ON */
  readonly notifyOn?: readonly LifecycleDetailType[];
  /** A customer managed KMS key for the ledger table (`cdk deploy -c ledgerKeyArn=...`). @default the AWS managed key */
  readonly ledgerKeyArn?: string;
}

/** The stack's outputs: their ids, and their export names `<stack name>-<id>`. */
export const STACK_OUTPUTS = {
  stateMachineArn: 'StateMachineArn',
  ledgerTableName: 'LedgerTableName',
  eventSource: 'EventSource',
} as const;
export type StackOutput = (typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS];

/** The export name of one of the stack's outputs, e.g. `SageMakerReleaseManager-StateMachineArn`. */
export const stackExportName = (stackName: string, output: StackOutput): string => `${stackName}-${output}`;

export class ReleaseManagerStack extends Stack {
  public readonly releaseManager: ReleaseManager;

  constructor(scope: Construct, id: string, props: ReleaseManagerStackProps) {
    super(scope, id, props);
    this.releaseManager = new ReleaseManager(this, 'ReleaseManager', {
      config: props.config,
      notificationTopic: props.notificationTopicArn ? Topic.fromTopicArn(this, 'NotificationTopic', props.notificationTopicArn) : undefined,
      notifyOn: props.notifyOn,
      ledger: props.ledgerKeyArn ? { encryptionKey: Key.fromKeyArn(this, 'LedgerKey', props.ledgerKeyArn) } : undefined,
    });
    const output = (id: StackOutput, value: string, description: string) =>
      new CfnOutput(this, id, { value, description, exportName: stackExportName(this.stackName, id) });
    output(
      STACK_OUTPUTS.stateMachineArn,
      this.releaseManager.stateMachine.stateMachineArn,
      'The release state machine: start an execution with an operator input',
    );
    output(STACK_OUTPUTS.ledgerTableName, this.releaseManager.ledger.table.tableName, 'The ledger table: endpoint locks, release records, last known good');
    output(STACK_OUTPUTS.eventSource, LIFECYCLE_EVENT_SOURCE, 'The Source of lifecycle events on the default EventBridge bus');
  }
}
