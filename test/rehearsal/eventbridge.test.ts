// The EventBridge simulator through the real @aws-sdk/client-eventbridge: PutEvents
// validates each entry as the service does, records the accepted ones with the virtual
// time, and reports the others per entry.
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { T0, rejectionOf, startLocal, type LocalHarness } from './local-step-functions';

let h: LocalHarness;

beforeEach(async () => {
  h = await startLocal();
});

afterEach(async () => {
  await h.close();
});

const entry = (detail: unknown, more: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'sagemaker-release-manager',
  DetailType: 'Release Started',
  Detail: JSON.stringify(detail),
  ...more,
});

describe('PutEvents', () => {
  it('It should record accepted events with the virtual time and return an EventId for each', async () => {
    h.clock.advanceSeconds(90);

    const result = await h.events.send(
      new PutEventsCommand({
        Entries: [
          entry({ releaseId: 'v3-1a2b3c4d' }),
          entry({ releaseId: 'v3-1a2b3c4d', step: 1 }, { DetailType: 'Release Step Completed', Resources: ['arn:x'] }),
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries?.map((e) => e.EventId)).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    const events = h.sims.eventbridge.events();
    expect(events.map((e) => ({ ...e, eventId: undefined }))).toEqual([
      {
        eventId: undefined,
        at: T0 + 90_000,
        eventBusName: 'default',
        source: 'sagemaker-release-manager',
        detailType: 'Release Started',
        detail: { releaseId: 'v3-1a2b3c4d' },
        resources: [],
        time: '2026-01-01T09:01:30.000Z',
      },
      {
        eventId: undefined,
        at: T0 + 90_000,
        eventBusName: 'default',
        source: 'sagemaker-release-manager',
        detailType: 'Release Step Completed',
        detail: { releaseId: 'v3-1a2b3c4d', step: 1 },
        resources: ['arn:x'],
        time: '2026-01-01T09:01:30.000Z',
      },
    ]);
    expect(events.map((e) => e.eventId)).toEqual(result.Entries?.map((e) => e.EventId));
    expect(h.sims.eventbridge.events('Release Step Completed')).toHaveLength(1);
  });

  it('It should fail a bad entry on its own (InvalidArgument, MalformedDetail) and accept the others', async () => {
    const result = await h.events.send(
      new PutEventsCommand({
        Entries: [
          entry({ ok: 1 }),
          { DetailType: 'Release Started', Detail: '{}' },
          entry({}, { Detail: '{"unterminated": ' }),
          entry({}, { Detail: '[1, 2]' }),
          entry({ ok: 2 }, { EventBusName: 'arn:aws:events:eu-west-1:123456789012:event-bus/default' }),
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries).toEqual([
      { EventId: expect.any(String) },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { EventId: expect.any(String) },
    ]);
    expect(h.sims.eventbridge.events().map((e) => e.detail)).toEqual([{ ok: 1 }, { ok: 2 }]);
  });

  it('It should refuse more than 10 entries, and an event bus that does not exist, as a whole request', async () => {
    const tooMany = await rejectionOf(h.events.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, (_, i) => entry({ i })) })));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toContain('Member must have length less than or equal to 10');

    const noBus = await rejectionOf(h.events.send(new PutEventsCommand({ Entries: [entry({}, { EventBusName: 'releases' })] })));
    expect(`${noBus.name}: ${noBus.message}`).toBe('ResourceNotFoundException: Event bus releases does not exist.');
    h.sims.eventbridge.createEventBus('releases');
    expect((await h.events.send(new PutEventsCommand({ Entries: [entry({}, { EventBusName: 'releases' })] }))).FailedEntryCount).toBe(0);
    expect(h.sims.eventbridge.events()).toHaveLength(1);
  });

  it('It should fail the entries it is told to, retryably, and record every call', async () => {
    h.sims.eventbridge.failEntries(1);

    const result = await h.events.send(new PutEventsCommand({ Entries: [entry({ n: 1 }), entry({ n: 2 })] }));

    expect(result.Entries).toEqual([{ ErrorCode: 'InternalFailure', ErrorMessage: 'Simulated failure' }, { EventId: expect.any(String) }]);
    expect(h.sims.eventbridge.calls.map((c) => [c.service, c.operation, c.error])).toEqual([['eventbridge', 'PutEvents', undefined]]);
  });
});
