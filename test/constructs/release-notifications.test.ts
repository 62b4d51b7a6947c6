/**
 * Notifications: with a topic, one EventBridge rule on the default bus sends the chosen
 * lifecycle events of this account to it; without one, there is no such rule. The
 * pattern for teams' own rules is exposed as `lifecycleEventPattern`.
 */
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EVENT_SOURCE, LIFECYCLE_DETAIL_TYPES } from '../../lambdas/domain/events';
import { ReleaseManager } from '../../lib/release-manager';
import { DEFAULT_NOTIFY_ON, LIFECYCLE_EVENT_DETAIL_TYPES, type LifecycleDetailType } from '../../lib/release-notifications';
import { committedConfig, ENV, type JsonObject, resourcesOfType, SKIP_BUNDLING, synthesize } from './fixtures';

/** The rules that listen to lifecycle events. */
function lifecycleRules(template: Template) {
  return Object.entries(resourcesOfType(template, 'AWS::Events::Rule')).filter(([, rule]) =>
    JSON.stringify((rule.Properties.EventPattern as JsonObject | undefined)?.source ?? []).includes(EVENT_SOURCE),
  );
}

/** The one lifecycle rule of the template. */
function onlyLifecycleRule(template: Template) {
  const rules = lifecycleRules(template);
  expect(rules).toHaveLength(1);
  return rules[0]![1];
}

function managerWithTopic(notifyOn?: readonly LifecycleDetailType[]) {
  const stack = new Stack(new App({ context: SKIP_BUNDLING }), 'Notified', { env: ENV });
  const topic = new Topic(stack, 'Topic', { masterKey: new Key(stack, 'TopicKey', { enableKeyRotation: true }), enforceSSL: true });
  const manager = new ReleaseManager(stack, 'ReleaseManager', { config: committedConfig(), notificationTopic: topic, notifyOn });
  const template = Template.fromStack(stack);
  return { stack, topic, manager, template, topicId: stack.getLogicalId(topic.node.defaultChild as CfnResource) };
}

describe('ReleaseNotifications', () => {
  it('It should create no notification rule without a topic', () => {
    const { template, stack } = synthesize();
    expect(lifecycleRules(template)).toEqual([]);
    expect(stack.releaseManager.notifications).toBeUndefined();
  });

  it('It should send the final outcomes and approval requests of this account to the topic by default', () => {
    const { template, topicId, manager } = managerWithTopic();
    const rule = onlyLifecycleRule(template);
    expect(rule.Properties.EventPattern).toEqual({ source: [EVENT_SOURCE], 'detail-type': [...DEFAULT_NOTIFY_ON], account: [ENV.account] });
    expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { Ref: topicId } })]);
    expect(manager.notifications).toBeDefined();
    expect([...DEFAULT_NOTIFY_ON].sort()).toEqual(
      [
        LIFECYCLE_DETAIL_TYPES.succeeded,
        LIFECYCLE_DETAIL_TYPES.rolledBack,
        LIFECYCLE_DETAIL_TYPES.failed,
        LIFECYCLE_DETAIL_TYPES.superseded,
        LIFECYCLE_DETAIL_TYPES.recovered,
        LIFECYCLE_DETAIL_TYPES.approvalRequested,
      ].sort(),
    );
  });

  it('It should let EventBridge publish to a topic of the same stack', () => {
    const { template, topicId } = managerWithTopic();
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' }, Resource: { Ref: topicId } }),
        ]),
      },
    });
  });

  it('It should send only the lifecycle events named in notifyOn', () => {
    const { template } = managerWithTopic([LIFECYCLE_DETAIL_TYPES.failed, LIFECYCLE_DETAIL_TYPES.rolledBack]);
    const rule = onlyLifecycleRule(template);
    expect(rule.Properties.EventPattern).toEqual({ source: [EVENT_SOURCE], 'detail-type': ['Release Failed', 'Release Rolled Back'], account: [ENV.account] });
  });

  it('It should refuse an unknown lifecycle event, an empty notifyOn, and notifyOn without a topic', () => {
    expect(() => managerWithTopic(['Release Exploded' as LifecycleDetailType])).toThrow(/unknown lifecycle event\(s\) "Release Exploded"/);
    expect(() => managerWithTopic([])).toThrow(/at least one lifecycle event/);
    const stack = new Stack(new App({ context: SKIP_BUNDLING }), 'NoTopic', { env: ENV });
    expect(() => new ReleaseManager(stack, 'ReleaseManager', { config: committedConfig(), notifyOn: DEFAULT_NOTIFY_ON })).toThrow(
      /notifyOn needs a notificationTopic/,
    );
  });

  it('It should notify an existing topic named by the stack', () => {
    const topicArn = `arn:aws:sns:${ENV.region}:${ENV.account}:release-notifications`;
    const { template } = synthesize(undefined, { notificationTopicArn: topicArn });
    const rule = onlyLifecycleRule(template);
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: topicArn })]);
  });

  it('It should expose a pattern that matches every lifecycle event of this account', () => {
    const { manager, stack } = managerWithTopic();
    expect(stack.resolve(manager.lifecycleEventPattern)).toEqual({
      source: [EVENT_SOURCE],
      detailType: [...LIFECYCLE_EVENT_DETAIL_TYPES],
      account: [ENV.account],
    });
    expect([...LIFECYCLE_EVENT_DETAIL_TYPES].sort()).toEqual(Object.values(LIFECYCLE_DETAIL_TYPES).sort());
  });
});
