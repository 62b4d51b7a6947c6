/**
 * Publishes lifecycle events to EventBridge (EVENT_BUS_NAME, default bus by default).
 * The client is made here, not in clients.ts, so that only the functions that emit
 * events bundle it. A rejected entry raises EventPublishFailed, which the task's Retry
 * policy retries: events are delivered at least once (deduplicate on detail.eventId).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type LifecycleEvent } from '../domain/events';
import { EventPublishFailedError } from '../domain/errors';

let client: EventBridgeClient | undefined;

export async function publishLifecycleEvents(events: readonly LifecycleEvent[]): Promise<void> {
  if (events.length === 0) return;
  client ??= new EventBridgeClient({});
  const busName = process.env.EVENT_BUS_NAME || 'default';
  const result = await client.send(
    new PutEventsCommand({
      Entries: events.map((event) => ({ Source: EVENT_SOURCE, DetailType: event.detailType, Detail: JSON.stringify(event.detail), EventBusName: busName })),
    }),
  );
  if ((result.FailedEntryCount ?? 0) > 0) {
    const failed = (result.Entries ?? []).filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage ?? ''}`);
    throw new EventPublishFailedError(
      `EventBridge rejected ${result.FailedEntryCount} of ${events.length} lifecycle event(s) on bus ${busName}: ${failed.join('; ')}`,
    );
  }
}
