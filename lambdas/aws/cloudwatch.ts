/** Reads the state of named CloudWatch alarms; names CloudWatch does not return are reported MISSING. */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AlarmObservation } from '../contracts';
import { cloudwatch } from './clients';

/** DescribeAlarms accepts at most 100 names per call. */
const MAX_NAMES_PER_CALL = 100;

export async function readAlarms(names: readonly string[]): Promise<AlarmObservation[]> {
  const found = new Map<string, AlarmObservation>();
  for (let i = 0; i < names.length; i += MAX_NAMES_PER_CALL) {
    const batch = names.slice(i, i + MAX_NAMES_PER_CALL);
    let nextToken: string | undefined;
    do {
      const page = await cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: batch, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: nextToken, MaxRecords: 100 }),
      );
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName) {
          found.set(alarm.AlarmName, {
            name: alarm.AlarmName,
            state: (alarm.StateValue ?? 'INSUFFICIENT_DATA') as AlarmObservation['state'],
            ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
          });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return names.map((name) => found.get(name) ?? { name, state: 'MISSING' });
}
