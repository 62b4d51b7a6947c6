/**
 * The approval trigger: which events start a release, and what happens to the ones that
 * cannot. The rule invokes the start-release function (which starts the state machine
 * under a name derived from the event); a failed delivery and a failed invocation both
 * end in the dead-letter queue.
 */
import { type CfnResource, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { MODEL_PACKAGE_STATE_CHANGE, START_FUNCTION_RETRY_ATTEMPTS } from '../../lib/release-trigger';
import { committedConfig, ENV, synthesize } from './fixtures';

describe('ReleaseTrigger', () => {
  let template: Template;
  let stateMachineId: string;
  let startFunctionId: string;
  let ruleId: string;
  let queueId: string;
  const groups = committedConfig().targets.map((t) => t.modelPackageGroupName);

  beforeAll(() => {
    const synthesized = synthesize();
    template = synthesized.template;
    const manager = synthesized.stack.releaseManager;
    const logicalId = (construct: CfnResource) => Stack.of(construct).getLogicalId(construct);
    stateMachineId = logicalId(manager.stateMachine.node.defaultChild as CfnResource);
    startFunctionId = logicalId(manager.functions['start-release'].node.defaultChild as CfnResource);
    ruleId = logicalId(manager.trigger.rule.node.defaultChild as CfnResource);
    queueId = logicalId(manager.trigger.deadLetterQueue.node.defaultChild as CfnResource);
  });

  it('It should start releases only for approved versions of the configured groups, in this account and region', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.exact({
        source: ['aws.sagemaker'],
        'detail-type': [MODEL_PACKAGE_STATE_CHANGE],
        account: [ENV.account],
        region: [ENV.region],
        detail: { ModelPackageGroupName: groups, ModelApprovalStatus: ['Approved'] },
      }),
    });
    expect(MODEL_PACKAGE_STATE_CHANGE).toBe('SageMaker Model Package State Change');
  });

  it('It should target the start-release function, not the state machine, with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [startFunctionId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: Match.anyValue(), MaximumEventAgeInSeconds: Match.anyValue() },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        }),
      ],
    });
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')) as Array<{
      Properties: { Targets: Array<{ RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number } }> };
    }>;
    const { RetryPolicy } = rule.Properties.Targets[0];
    expect(RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(RetryPolicy.MaximumEventAgeInSeconds).toBeGreaterThan(0);
    expect(JSON.stringify(rule.Properties.Targets)).not.toContain(stateMachineId);
  });

  it('It should let EventBridge invoke the start-release function from this rule only', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [startFunctionId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  it('It should retry a failed invocation of start-release twice, then put it in the same dead-letter queue', () => {
    expect(START_FUNCTION_RETRY_ATTEMPTS).toBe(2);
    template.resourcePropertiesCountIs('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: startFunctionId } }, 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: startFunctionId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: START_FUNCTION_RETRY_ATTEMPTS,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('It should let EventBridge write to the dead-letter queue for this rule only', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  it('It should encrypt the dead-letter queue', () => {
    const queue = template.findResources('AWS::SQS::Queue')[queueId] as { Properties: { SqsManagedSseEnabled?: boolean; KmsMasterKeyId?: unknown } };
    expect(queue).toBeDefined();
    expect(queue.Properties.SqsManagedSseEnabled === true || queue.Properties.KmsMasterKeyId !== undefined).toBe(true);
  });

  it('It should refuse any access to the dead-letter queue that does not use TLS', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('It should raise an alarm as soon as an approval lands in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });
});
