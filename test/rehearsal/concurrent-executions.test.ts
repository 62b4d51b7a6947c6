// Several executions of one definition in one virtual time: their steps interleave by
// virtual time, executions waking at the same second take turns in the order they went
// to sleep, a run repeats exactly, and an execution started later by another actor
// carries its own start time.
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AslDefinition } from '../../rehearsal/definition';
import { T0, fn, startLocal, type LocalHarness } from './local-step-functions';

/** Step, pause, step again... `$.rounds` times: a miniature of "shift traffic, bake" with a shared log. */
const loop: AslDefinition = {
  StartAt: 'Step',
  States: {
    Step: { Type: 'Task', Resource: fn('step'), ResultPath: '$.round', Next: 'More?' },
    'More?': { Type: 'Choice', Choices: [{ Variable: '$.round', NumericLessThanPath: '$.rounds', Next: 'Pause' }], Default: 'Done' },
    Pause: { Type: 'Wait', SecondsPath: '$.pause', Next: 'Step' },
    Done: { Type: 'Succeed' },
  },
};

async function interleaving(h: LocalHarness): Promise<string[]> {
  const log: string[] = [];
  const rounds = new Map<string, number>();
  const machine = await h.define('loop', loop, {
    Step: async (_input, invocation) => {
      const round = (rounds.get(invocation.execution.name) ?? 0) + 1;
      rounds.set(invocation.execution.name, round);
      // Work that spans several turns of the event loop, as an HTTP call does: nobody else may run meanwhile.
      log.push(`${h.seconds()} ${invocation.execution.name} step ${round} begins`);
      await new Promise<void>((resolve) => setImmediate(resolve));
      log.push(`${h.seconds()} ${invocation.execution.name} step ${round} ends`);
      return round;
    },
  });
  await h.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.arn, name: 'fast', input: JSON.stringify({ pause: 30, rounds: 4 }) }));
  await h.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.arn, name: 'slow', input: JSON.stringify({ pause: 45, rounds: 3 }) }));
  await h.scheduler.run();
  return log;
}

it('It should interleave two executions by virtual time, one step at a time, same-second wake-ups in the order they went to sleep', async () => {
  const h = await startLocal();
  try {
    const log = await interleaving(h);

    expect(log).toEqual([
      '0 fast step 1 begins',
      '0 fast step 1 ends',
      '0 slow step 1 begins',
      '0 slow step 1 ends',
      '30 fast step 2 begins',
      '30 fast step 2 ends',
      '45 slow step 2 begins',
      '45 slow step 2 ends',
      '60 fast step 3 begins',
      '60 fast step 3 ends',
      // Both wake at 90: slow went to sleep at 45, fast at 60.
      '90 slow step 3 begins',
      '90 slow step 3 ends',
      '90 fast step 4 begins',
      '90 fast step 4 ends',
    ]);
    const statuses = h.sims.stepfunctions.executions().map((e) => [e.name, e.status, (e.stopDate! - T0) / 1000]);
    expect(statuses).toEqual([
      ['fast', 'SUCCEEDED', 90],
      ['slow', 'SUCCEEDED', 90],
    ]);
  } finally {
    await h.close();
  }
});

it('It should repeat a run exactly', async () => {
  const runs: string[][] = [];
  for (let i = 0; i < 3; i++) {
    const h = await startLocal();
    try {
      runs.push(await interleaving(h));
    } finally {
      await h.close();
    }
  }
  expect(runs[1]).toEqual(runs[0]);
  expect(runs[2]).toEqual(runs[0]);
});

it('It should start an execution from another actor at its virtual time, with $$.Execution.StartTime then', async () => {
  const h = await startLocal();
  try {
    const machine = await h.define(
      'stamped',
      {
        StartAt: 'Stamp',
        States: {
          Stamp: {
            Type: 'Task',
            Resource: fn('stamp'),
            Parameters: { 'startedAt.$': '$$.Execution.StartTime', 'enteredAt.$': '$$.State.EnteredTime' },
            Next: 'Bake',
          },
          Bake: { Type: 'Wait', Seconds: 120, End: true },
        },
      },
      { Stamp: async (input) => input },
    );
    await h.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.arn, name: 'first', input: '{}' }));
    h.scheduler.at(T0 + 100_000, 'trigger', () => h.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.arn, name: 'second', input: '{}' })));

    await h.scheduler.run();

    const outputs = await Promise.all(
      ['first', 'second'].map(async (name) => {
        const described = await h.sfn.send(new DescribeExecutionCommand({ executionArn: `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}` }));
        return [
          name,
          described.status,
          (described.startDate!.getTime() - T0) / 1000,
          (described.stopDate!.getTime() - T0) / 1000,
          JSON.parse(described.output!),
        ];
      }),
    );
    expect(outputs).toEqual([
      ['first', 'SUCCEEDED', 0, 120, { startedAt: '2026-01-01T09:00:00.000Z', enteredAt: '2026-01-01T09:00:00.000Z' }],
      ['second', 'SUCCEEDED', 100, 220, { startedAt: '2026-01-01T09:01:40.000Z', enteredAt: '2026-01-01T09:01:40.000Z' }],
    ]);
  } finally {
    await h.close();
  }
});
