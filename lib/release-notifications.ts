/**
 * Lifecycle events and their optional notifications. The task functions put one event
 * on the default EventBridge bus at each point of a release's life (PutEvents, Source
 * `sagemaker-release-manager`, detail types and schema in lambdas/domain/events.ts);
 * `ReleaseNotifications` forwards a chosen set of them to an SNS topic.
 */
import { Stack } from 'aws-cdk-lib';
import { type EventPattern, Rule } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { EVENT_SOURCE, LIFECYCLE_DETAIL_TYPES, type LifecycleDetailType } from '../lambdas/domain/events';

/** The Source of every lifecycle event (lambdas/domain/events.ts). */
export const LIFECYCLE_EVENT_SOURCE = EVENT_SOURCE;

/** The bus the functions put lifecycle events on (their EVENT_BUS_NAME). */
export const LIFECYCLE_EVENT_BUS_NAME = 'default';

/** Every lifecycle event's DetailType (lambdas/domain/events.ts). */
export const LIFECYCLE_EVENT_DETAIL_TYPES: readonly LifecycleDetailType[] = Object.values(LIFECYCLE_DETAIL_TYPES);
export type { LifecycleDetailType };

/**
 * What a team hears about unless it says otherwise: every way a release ends, and a gate
 * waiting for someone. Not "Release Not Needed" (a repeated approval of a live version):
 * it ends nothing that was running.
 */
export const DEFAULT_NOTIFY_ON: readonly LifecycleDetailType[] = [
  LIFECYCLE_DETAIL_TYPES.succeeded,
  LIFECYCLE_DETAIL_TYPES.rolledBack,
  LIFECYCLE_DETAIL_TYPES.failed,
  LIFECYCLE_DETAIL_TYPES.superseded,
  LIFECYCLE_DETAIL_TYPES.recovered,
  LIFECYCLE_DETAIL_TYPES.approvalRequested,
];

/**
 * The event pattern of lifecycle events put in `scope`'s account:
 *
 * ```json
 * {
 *   "source": ["sagemaker-release-manager"],
 *   "detail-type": ["Release Succeeded", "Release Rolled Back", ...],
 *   "account": ["<the stack's account>"]
 * }
 * ```
 *
 * Matching on the account as well as the source keeps events that another account
 * forwards to this bus out.
 */
export function lifecycleEventPattern(scope: Construct, detailTypes: readonly string[] = LIFECYCLE_EVENT_DETAIL_TYPES): EventPattern {
  const unknown = detailTypes.filter((t) => !(LIFECYCLE_EVENT_DETAIL_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) {
    throw new Error(
      `${scope.node.path}: unknown lifecycle event(s) ${unknown.map((t) => `"${t}"`).join(', ')}; known: ${LIFECYCLE_EVENT_DETAIL_TYPES.join(', ')}`,
    );
  }
  if (detailTypes.length === 0) throw new Error(`${scope.node.path}: notifyOn must name at least one lifecycle event`);
  return { source: [LIFECYCLE_EVENT_SOURCE], detailType: [...new Set(detailTypes)], account: [Stack.of(scope).account] };
}

export interface ReleaseNotificationsProps {
  /** Where the notifications go. A topic encrypted with a customer managed key must let events.amazonaws.com use the key. */
  readonly topic: ITopic;
  /** @default DEFAULT_NOTIFY_ON */
  readonly notifyOn?: readonly LifecycleDetailType[];
}

/** An EventBridge rule on the default bus that sends the chosen lifecycle events, as they are, to an SNS topic. */
export class ReleaseNotifications extends Construct {
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ReleaseNotificationsProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: 'Sends SageMaker Release Manager lifecycle events to the notification topic',
      // No eventBus: the default bus, LIFECYCLE_EVENT_BUS_NAME.
      eventPattern: lifecycleEventPattern(this, props.notifyOn ?? DEFAULT_NOTIFY_ON),
    });
    this.rule.addTarget(new SnsTopic(props.topic));
  }
}
