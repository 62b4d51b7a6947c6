// CloudWatch simulator, reached through the real SDK v3 client: alarm reads, state
// changes (direct and scheduled in virtual time), alarm management, faults and the call log.
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  ResourceNotFound,
  SetAlarmStateCommand,
  type DescribeAlarmsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { rejectionOf, startHarness, type Harness } from './harness';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function describeAlarms(input: DescribeAlarmsCommandInput = {}) {
  return h.cloudwatch.send(new DescribeAlarmsCommand(input));
}

async function stateOf(name: string) {
  const output = await describeAlarms({ AlarmNames: [name] });
  return output.MetricAlarms?.[0];
}

describe('DescribeAlarms', () => {
  it('It should return the named alarms and leave out names that do not exist', async () => {
    h.simulators.cloudwatch.putAlarm('ep-latency', 'ALARM');
    h.simulators.cloudwatch.putAlarm('ep-errors');

    const output = await describeAlarms({ AlarmNames: ['ep-latency', 'ep-errors', 'ghost'] });

    expect(output.CompositeAlarms).toEqual([]);
    expect(output.MetricAlarms?.map((alarm) => [alarm.AlarmName, alarm.StateValue])).toEqual([
      ['ep-errors', 'OK'],
      ['ep-latency', 'ALARM'],
    ]);
    expect(output.MetricAlarms?.[1]).toMatchObject({
      AlarmArn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:ep-latency',
      StateUpdatedTimestamp: h.clock.nowDate(),
    });
    expect(output.MetricAlarms?.[1]?.StateReason).toEqual(expect.any(String));
  });

  it('It should reject more than 100 alarm names with ValidationError', async () => {
    const names = Array.from({ length: 101 }, (_, index) => `alarm-${index}`);

    const error = await rejectionOf(describeAlarms({ AlarmNames: names }));

    // The SDK maps the Query code ValidationError to its modelled ValidationException.
    expect(error.name).toBe('ValidationException');
    expect(error.Code).toBe('ValidationError');
    expect(error.message).toContain("at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100");
  });

  it('It should filter by name prefix', async () => {
    h.simulators.cloudwatch.putAlarm('ep-a-latency');
    h.simulators.cloudwatch.putAlarm('ep-b-latency');

    const output = await describeAlarms({ AlarmNamePrefix: 'ep-a' });

    expect(output.MetricAlarms?.map((alarm) => alarm.AlarmName)).toEqual(['ep-a-latency']);
  });

  it('It should filter by state', async () => {
    h.simulators.cloudwatch.putAlarm('one', 'ALARM');
    h.simulators.cloudwatch.putAlarm('two', 'OK');
    h.simulators.cloudwatch.putAlarm('three', 'ALARM');

    const output = await describeAlarms({ StateValue: 'ALARM' });

    expect(output.MetricAlarms?.map((alarm) => alarm.AlarmName)).toEqual(['one', 'three']);
  });

  it('It should reject AlarmNames combined with AlarmNamePrefix', async () => {
    const error = await rejectionOf(describeAlarms({ AlarmNames: ['a'], AlarmNamePrefix: 'a' }));

    expect(error.name).toBe('InvalidParameterCombinationException');
    expect(error.Code).toBe('InvalidParameterCombination');
  });

  it('It should page with MaxRecords and NextToken', async () => {
    for (const name of ['a', 'b', 'c']) h.simulators.cloudwatch.putAlarm(name);

    const first = await describeAlarms({ MaxRecords: 2 });
    const second = await describeAlarms({ MaxRecords: 2, NextToken: first.NextToken });

    expect(first.MetricAlarms?.map((alarm) => alarm.AlarmName)).toEqual(['a', 'b']);
    expect(first.NextToken).toEqual(expect.any(String));
    expect(second.MetricAlarms?.map((alarm) => alarm.AlarmName)).toEqual(['c']);
    expect(second.NextToken).toBeUndefined();
  });

  it('It should reject an invalid NextToken with InvalidNextToken', async () => {
    const error = await rejectionOf(describeAlarms({ NextToken: 'not-a-token' }));

    expect(error.name).toBe('InvalidNextToken');
  });

  it('It should return no metric alarms when only composite alarms are asked for', async () => {
    h.simulators.cloudwatch.putAlarm('a');

    const output = await describeAlarms({ AlarmTypes: ['CompositeAlarm'] });

    expect(output.MetricAlarms).toEqual([]);
  });
});

describe('SetAlarmState', () => {
  it('It should set the state, reason and update time', async () => {
    h.simulators.cloudwatch.putAlarm('ep-latency');
    h.clock.advanceSeconds(90);

    await h.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'ep-latency', StateValue: 'ALARM', StateReason: 'drill' }));

    expect(await stateOf('ep-latency')).toMatchObject({
      StateValue: 'ALARM',
      StateReason: 'drill',
      StateUpdatedTimestamp: h.clock.nowDate(),
    });
  });

  it('It should reject a missing alarm with ResourceNotFound', async () => {
    const error = await rejectionOf(h.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'ghost', StateValue: 'OK', StateReason: 'drill' })));

    expect(error).toBeInstanceOf(ResourceNotFound);
    expect(error.name).toBe('ResourceNotFound');
  });

  it('It should reject a state outside OK, ALARM and INSUFFICIENT_DATA', async () => {
    h.simulators.cloudwatch.putAlarm('a');

    const error = await rejectionOf(h.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'a', StateValue: 'BROKEN' as 'OK', StateReason: 'drill' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set");
  });
});

describe('DescribeAlarms by action prefix', () => {
  it('It should return only the alarms with an OK, ALARM or INSUFFICIENT_DATA action that starts with the prefix', async () => {
    const base = {
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocations',
      Statistic: 'Sum' as const,
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold' as const,
    };
    await h.cloudwatch.send(new PutMetricAlarmCommand({ ...base, AlarmName: 'paged', AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:pager'] }));
    await h.cloudwatch.send(new PutMetricAlarmCommand({ ...base, AlarmName: 'recovered', OKActions: ['arn:aws:sns:eu-west-1:123456789012:pager-ok'] }));
    await h.cloudwatch.send(new PutMetricAlarmCommand({ ...base, AlarmName: 'quiet' }));

    const found = await h.cloudwatch.send(new DescribeAlarmsCommand({ ActionPrefix: 'arn:aws:sns:eu-west-1:123456789012:pager' }));

    expect(found.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['paged', 'recovered']);
  });
});

describe('PutMetricAlarm', () => {
  const alarm = {
    AlarmName: 'ep-latency',
    Namespace: 'AWS/SageMaker',
    MetricName: 'ModelLatency',
    Dimensions: [{ Name: 'EndpointName', Value: 'ep' }],
    Statistic: 'Average' as const,
    Period: 60,
    EvaluationPeriods: 3,
    Threshold: 250000,
    ComparisonOperator: 'GreaterThanThreshold' as const,
  };

  it('It should create an alarm in INSUFFICIENT_DATA with its metric and threshold', async () => {
    await h.cloudwatch.send(new PutMetricAlarmCommand(alarm));

    expect(await stateOf('ep-latency')).toMatchObject({
      StateValue: 'INSUFFICIENT_DATA',
      MetricName: 'ModelLatency',
      Namespace: 'AWS/SageMaker',
      Threshold: 250000,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'EndpointName', Value: 'ep' }],
    });
  });

  it('It should keep the state of an existing alarm when updating it', async () => {
    h.simulators.cloudwatch.putAlarm('ep-latency', 'ALARM');

    await h.cloudwatch.send(new PutMetricAlarmCommand({ ...alarm, Threshold: 1 }));

    expect(await stateOf('ep-latency')).toMatchObject({ StateValue: 'ALARM', Threshold: 1 });
  });
});

describe('DeleteAlarms', () => {
  it('It should delete the named alarms', async () => {
    h.simulators.cloudwatch.putAlarm('a');
    h.simulators.cloudwatch.putAlarm('b');

    await h.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ['a'] }));

    expect((await describeAlarms()).MetricAlarms?.map((entry) => entry.AlarmName)).toEqual(['b']);
  });

  it('It should delete nothing and answer ResourceNotFound when a name does not exist', async () => {
    h.simulators.cloudwatch.putAlarm('a');

    const error = await rejectionOf(h.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ['a', 'ghost'] })));

    expect(error.name).toBe('ResourceNotFound');
    expect(h.simulators.cloudwatch.alarm('a')).toBeDefined();
  });
});

describe('scheduleAlarmState', () => {
  it('It should apply a scheduled state only once the virtual clock reaches it', async () => {
    h.simulators.cloudwatch.putAlarm('ep-latency');
    const at = h.clock.now() + 420_000;
    h.simulators.cloudwatch.scheduleAlarmState('ep-latency', 'ALARM', at, 'p99 above threshold');

    h.clock.advanceSeconds(419);
    const before = await stateOf('ep-latency');
    h.clock.advanceSeconds(30);
    const after = await stateOf('ep-latency');

    expect(before?.StateValue).toBe('OK');
    expect(after).toMatchObject({
      StateValue: 'ALARM',
      StateReason: 'p99 above threshold',
      StateUpdatedTimestamp: new Date(at),
    });
  });

  it('It should apply several schedules in time order, whatever order they were given in', async () => {
    h.simulators.cloudwatch.putAlarm('ep-latency');
    const start = h.clock.now();
    h.simulators.cloudwatch.scheduleAlarmState('ep-latency', 'OK', start + 600_000);
    h.simulators.cloudwatch.scheduleAlarmState('ep-latency', 'ALARM', start + 300_000);

    h.clock.advanceSeconds(400);
    const middle = await stateOf('ep-latency');
    h.clock.advanceSeconds(400);
    const end = await stateOf('ep-latency');

    expect(middle?.StateValue).toBe('ALARM');
    expect(end).toMatchObject({ StateValue: 'OK', StateUpdatedTimestamp: new Date(start + 600_000) });
  });

  it('It should refuse to schedule an alarm that does not exist', () => {
    expect(() => h.simulators.cloudwatch.scheduleAlarmState('ghost', 'ALARM', h.clock.now())).toThrow(/ghost/);
  });
});

describe('throttle and call log', () => {
  it('It should answer the next N calls of the operation with ThrottlingException "Rate exceeded"', async () => {
    h.simulators.cloudwatch.throttle('DescribeAlarms', 1);

    const error = await rejectionOf(describeAlarms());
    const next = await describeAlarms();

    expect([error.name, error.message]).toEqual(['ThrottlingException', 'Rate exceeded']);
    expect(next.MetricAlarms).toEqual([]);
  });

  it('It should record every call with its virtual time and outcome', async () => {
    h.simulators.cloudwatch.putAlarm('a');
    await describeAlarms({ AlarmNames: ['a'] });
    await rejectionOf(h.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'ghost', StateValue: 'OK', StateReason: 'r' })));

    expect(h.simulators.cloudwatch.calls).toEqual([
      { at: h.clock.now(), service: 'cloudwatch', operation: 'DescribeAlarms', input: { AlarmNames: ['a'] } },
      expect.objectContaining({ service: 'cloudwatch', operation: 'SetAlarmState', error: 'ResourceNotFound' }),
    ]);
    expect(h.simulators.cloudwatch.mutatingCalls().map((call) => call.operation)).toEqual(['SetAlarmState']);
  });
});
