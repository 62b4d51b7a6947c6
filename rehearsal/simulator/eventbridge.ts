/**
 * The EventBridge PutEvents the release manager publishes its lifecycle events with.
 * Events are validated as the service does (1-10 entries per request; per entry a
 * Source, a DetailType and a Detail that is a JSON object, else the entry fails with
 * InvalidArgument or MalformedDetail and the others go through) and recorded with the
 * virtual time, for rehearsal reports and tests. Rules and targets are not modelled.
 *
 * Wire format: AWS JSON 1.1, `X-Amz-Target: AWSEvents.PutEvents`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { VirtualClock } from '../clock';
import { partitionOf } from './arn';
import { SimulatedServiceError } from './errors';
import { CallRecorder, type RecordedCall, type SimulatedService } from './recorder';
import { constraintMessage, parseInput } from './validation';

export interface EventBridgeSimulatorOptions {
  clock: VirtualClock;
  region?: string;
  accountId?: string;
}

/** An event accepted on a bus. */
export interface RecordedEvent {
  readonly eventId: string;
  /** Virtual epoch ms when it was put. */
  readonly at: number;
  readonly eventBusName: string;
  readonly source: string;
  readonly detailType: string;
  /** Detail, parsed. */
  readonly detail: Record<string, unknown>;
  readonly resources: readonly string[];
  /** The event's time: the entry's Time, or when it was put. */
  readonly time: string;
}

/** A recorded call; `service` is `eventbridge`. */
export type EventBridgeCall = Omit<RecordedCall, 'service'> & { service: 'eventbridge' };

/** At most 10 entries per PutEvents request. */
export const MAX_ENTRIES = 10;
/** The largest event EventBridge takes: 256 KB, counted over Source, DetailType, Detail and Resources. */
export const MAX_EVENT_BYTES = 256 * 1024;

const Entry = z.looseObject({
  Source: z.string().optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  EventBusName: z.string().min(1).max(1600).optional(),
  Resources: z.array(z.string()).optional(),
  Time: z.union([z.number(), z.string()]).optional(),
  TraceHeader: z.string().optional(),
});
const PutEventsInput = z.object({ Entries: z.array(Entry), EndpointId: z.string().optional() });

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export class EventBridgeSimulator {
  readonly region: string;
  readonly accountId: string;

  private readonly clock: VirtualClock;
  private readonly recorder: CallRecorder<SimulatedService>;
  private readonly recorded: RecordedEvent[] = [];
  private readonly buses = new Set<string>(['default']);
  private failures: Array<{ code: string; message: string }> = [];

  constructor(options: EventBridgeSimulatorOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '123456789012';
    // recorder.ts names the services it was written for; the call log is the same for this one.
    this.recorder = new CallRecorder('eventbridge', this.clock);
  }

  /** Forgets events, buses (but `default`), injected failures and recorded calls. */
  reset(): void {
    this.recorded.length = 0;
    this.buses.clear();
    this.buses.add('default');
    this.failures = [];
    this.recorder.reset();
  }

  get calls(): EventBridgeCall[] {
    return this.recorder.calls as unknown as EventBridgeCall[];
  }

  /** The events accepted so far, in order; with `detailType`, only those. */
  events(detailType?: string): RecordedEvent[] {
    return this.recorded.filter((event) => detailType === undefined || event.detailType === detailType).map((event) => ({ ...event }));
  }

  /** A custom event bus entries may name (by name or ARN). */
  createEventBus(name: string): void {
    this.buses.add(name);
  }

  /** The next `times` entries fail with `code` (InternalFailure is retryable, as for the service); the others in their request go through. */
  failEntries(times: number, code = 'InternalFailure', message = 'Simulated failure'): void {
    if (!Number.isInteger(times) || times < 0) throw new RangeError(`failEntries: times must be an integer >= 0, got ${times}`);
    for (let i = 0; i < times; i++) this.failures.push({ code, message });
  }

  throttle(operation: string, times: number): void {
    this.recorder.throttle(operation, times);
  }

  handle(operation: string, input: unknown): unknown {
    return this.recorder.run(operation, input, () => {
      if (operation !== 'PutEvents') throw new SimulatedServiceError('UnknownOperationException', `Operation AWSEvents.${operation} is not supported.`);
      return this.putEvents(input);
    });
  }

  private putEvents(raw: unknown): unknown {
    const input = parseInput(PutEventsInput, raw, validation);
    if (input.Entries.length < 1 || input.Entries.length > MAX_ENTRIES) {
      throw validation(
        constraintMessage(
          ['Entries'],
          input.Entries,
          input.Entries.length < 1 ? 'Member must have length greater than or equal to 1' : `Member must have length less than or equal to ${MAX_ENTRIES}`,
        ),
      );
    }
    for (const entry of input.Entries) {
      const bus = busName(entry.EventBusName ?? 'default');
      if (!this.buses.has(bus)) throw new SimulatedServiceError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
    }
    const results: EntryResult[] = input.Entries.map((entry) => this.putEntry(entry));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  private putEntry(entry: z.infer<typeof Entry>): EntryResult {
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (entry[field] === undefined || entry[field] === '') {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
      }
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail!);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const size = [entry.Source!, entry.DetailType!, entry.Detail!, ...(entry.Resources ?? [])].reduce((sum, part) => sum + Buffer.byteLength(part, 'utf8'), 0);
    if (size > MAX_EVENT_BYTES) return { ErrorCode: 'InvalidArgument', ErrorMessage: `Total size of the entries in the request is over the limit.` };
    const failure = this.failures.shift();
    if (failure) return { ErrorCode: failure.code, ErrorMessage: failure.message };
    const eventId = randomUUID();
    this.recorded.push({
      eventId,
      at: this.clock.now(),
      eventBusName: busName(entry.EventBusName ?? 'default'),
      source: entry.Source!,
      detailType: entry.DetailType!,
      detail: detail as Record<string, unknown>,
      resources: [...(entry.Resources ?? [])],
      time: new Date(entry.Time === undefined ? this.clock.now() : typeof entry.Time === 'number' ? entry.Time * 1000 : Date.parse(entry.Time)).toISOString(),
    });
    return { EventId: eventId };
  }

  /** The ARN of a bus, as EventBridge names it. */
  busArn(name = 'default'): string {
    return `arn:${partitionOf(this.region)}:events:${this.region}:${this.accountId}:event-bus/${name}`;
  }
}

/** `default`, `my-bus` or `arn:aws:events:<region>:<account>:event-bus/my-bus` -> the bus name. */
function busName(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split('event-bus/')[1] ?? nameOrArn) : nameOrArn;
}

function validation(message: string): SimulatedServiceError {
  return new SimulatedServiceError('ValidationException', message);
}
