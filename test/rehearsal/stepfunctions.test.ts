// The Step Functions simulator through the real @aws-sdk/client-sfn, with executions run
// by the engine in virtual time: StartExecution's name rules, DescribeExecution,
// StopExecution, ListExecutions, and tasks that wait for their token (success, failure
// with a custom error, timeout, reuse of a token), caught by the definition's Catch.
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { AslDefinition } from '../../rehearsal/definition';
import type { TaskInvocation } from '../../rehearsal/engine';
import { ACCOUNT, REGION, T0, fn, rejectionOf, startLocal, type LocalHarness } from './local-step-functions';

let h: LocalHarness;

beforeEach(async () => {
  h = await startLocal();
});

afterEach(async () => {
  await h.close();
});

/** Prepare, bake, then wait for approval: caught outcomes end in Pass states that say which. */
function approvalDefinition(): AslDefinition {
  return {
    StartAt: 'Prepare',
    States: {
      Prepare: { Type: 'Task', Resource: fn('prepare'), ResultPath: '$.prepared', Next: 'Bake' },
      Bake: { Type: 'Wait', SecondsPath: '$.bakeSeconds', Next: 'Wait for approval' },
      'Wait for approval': {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: fn('request-approval'),
          Payload: {
            'taskToken.$': '$$.Task.Token',
            'executionArn.$': '$$.Execution.Id',
            'executionName.$': '$$.Execution.Name',
            'startedAt.$': '$$.Execution.StartTime',
            'state.$': '$$.State.Name',
          },
        },
        TimeoutSecondsPath: '$.approvalTimeoutSeconds',
        ResultSelector: { 'approvedBy.$': '$.by' },
        ResultPath: '$.approval',
        // States.TaskFailed comes before States.Timeout: it must not catch a timeout.
        Catch: [
          { ErrorEquals: ['ReleaseRejected'], ResultPath: '$.failure', Next: 'Rejected' },
          { ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: 'Task failed' },
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.failure', Next: 'Timed out' },
        ],
        Next: 'Approved',
      },
      Approved: { Type: 'Pass', Parameters: { outcome: 'approved', 'approval.$': '$.approval' }, End: true },
      Rejected: { Type: 'Pass', Parameters: { outcome: 'rejected', 'failure.$': '$.failure' }, End: true },
      'Task failed': { Type: 'Pass', Parameters: { outcome: 'task failed', 'failure.$': '$.failure' }, End: true },
      'Timed out': { Type: 'Pass', Parameters: { outcome: 'timed out', 'failure.$': '$.failure' }, End: true },
    },
  };
}

interface ApprovalRequest {
  payload: Record<string, unknown>;
  invocation: TaskInvocation;
  at: number;
}

/** The approval state machine; `requests` fills as the gate's function is invoked. */
async function approvalMachine(): Promise<{ arn: string; requests: ApprovalRequest[] }> {
  const requests: ApprovalRequest[] = [];
  const machine = await h.define('approvals', approvalDefinition(), {
    Prepare: async () => ({ ok: true }),
    'Wait for approval': async (input, invocation) => {
      requests.push({ payload: (input as { Payload: Record<string, unknown> }).Payload, invocation, at: h.seconds() });
      return { ignored: 'the result of a callback task is the token output' };
    },
  });
  return { arn: machine.arn, requests };
}

const start = (stateMachineArn: string, input: unknown, name?: string) =>
  h.sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), ...(name !== undefined ? { name } : {}) }));
const describe_ = (executionArn: string) => h.sfn.send(new DescribeExecutionCommand({ executionArn }));
const outputOf = async (executionArn: string) => JSON.parse((await describe_(executionArn)).output ?? 'null') as unknown;
const secondsOf = (date: Date | undefined) => (date === undefined ? undefined : (date.getTime() - T0) / 1000);

describe('task tokens', () => {
  it('It should give the task a token through $$.Task.Token and continue with SendTaskSuccess output, through ResultSelector and ResultPath', async () => {
    const { arn, requests } = await approvalMachine();
    const { executionArn } = await start(arn, { bakeSeconds: 60, approvalTimeoutSeconds: 3600 }, 'release-42');
    h.scheduler.at(T0 + 600_000, 'approver', async () => {
      await h.sfn.send(new SendTaskHeartbeatCommand({ taskToken: requests[0]!.invocation.taskToken! }));
      await h.sfn.send(new SendTaskSuccessCommand({ taskToken: requests[0]!.invocation.taskToken!, output: JSON.stringify({ by: 'alice', note: 'dropped' }) }));
    });

    await h.scheduler.run();

    const described = await describe_(executionArn!);
    expect(described.status).toBe('SUCCEEDED');
    expect(secondsOf(described.stopDate)).toBe(600);
    expect(JSON.parse(described.output!)).toEqual({ outcome: 'approved', approval: { approvedBy: 'alice' } });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.at).toBe(60);
    expect(request!.payload).toEqual({
      taskToken: request!.invocation.taskToken,
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:approvals:release-42`,
      executionName: 'release-42',
      startedAt: '2026-01-01T09:00:00.000Z',
      state: 'Wait for approval',
    });
    // A token answers once; afterwards the task "does not exist anymore".
    const reused = await rejectionOf(h.sfn.send(new SendTaskSuccessCommand({ taskToken: request!.invocation.taskToken!, output: '{}' })));
    expect(reused.name).toBe('TaskTimedOut');
    const heartbeat = await rejectionOf(h.sfn.send(new SendTaskHeartbeatCommand({ taskToken: request!.invocation.taskToken! })));
    expect(heartbeat.name).toBe('TaskTimedOut');
  });

  it('It should fail the task with the error and cause of SendTaskFailure, so that Catch routes a custom error', async () => {
    const { arn, requests } = await approvalMachine();
    const rejected = await start(arn, { bakeSeconds: 10, approvalTimeoutSeconds: 3600 }, 'rejected');
    const nameless = await start(arn, { bakeSeconds: 20, approvalTimeoutSeconds: 3600 }, 'nameless-failure');
    h.scheduler.at(T0 + 100_000, 'operator', async () => {
      const [first, second] = requests.map((r) => r.invocation.taskToken!);
      await h.sfn.send(new SendTaskFailureCommand({ taskToken: first!, error: 'ReleaseRejected', cause: 'latency too high' }));
      await h.sfn.send(new SendTaskFailureCommand({ taskToken: second! }));
    });

    await h.scheduler.run();

    expect(await outputOf(rejected.executionArn!)).toEqual({ outcome: 'rejected', failure: { Error: 'ReleaseRejected', Cause: 'latency too high' } });
    expect(await outputOf(nameless.executionArn!)).toEqual({ outcome: 'task failed', failure: { Error: 'States.TaskFailed', Cause: '' } });
  });

  it('It should time the task out after TimeoutSecondsPath in virtual time with States.Timeout, which States.TaskFailed does not catch', async () => {
    const { arn, requests } = await approvalMachine();
    const { executionArn } = await start(arn, { bakeSeconds: 60, approvalTimeoutSeconds: 900 });

    await h.scheduler.run();

    const described = await describe_(executionArn!);
    expect(JSON.parse(described.output!)).toEqual({ outcome: 'timed out', failure: { Error: 'States.Timeout', Cause: 'States.Timeout' } });
    expect(secondsOf(described.stopDate)).toBe(960);
    const late = await rejectionOf(h.sfn.send(new SendTaskSuccessCommand({ taskToken: requests[0]!.invocation.taskToken!, output: '{}' })));
    expect(late.name).toBe('TaskTimedOut');
  });

  it('It should reject a token it never issued, an output that is not JSON, and keep the task waiting after those', async () => {
    const { arn, requests } = await approvalMachine();
    const { executionArn } = await start(arn, { bakeSeconds: 0, approvalTimeoutSeconds: 300 });
    const errors: string[] = [];
    h.scheduler.at(T0 + 30_000, 'clumsy operator', async () => {
      errors.push((await rejectionOf(h.sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })))).name);
      errors.push((await rejectionOf(h.sfn.send(new SendTaskSuccessCommand({ taskToken: requests[0]!.invocation.taskToken!, output: '{by: alice}' })))).name);
    });
    h.scheduler.at(T0 + 40_000, 'operator', () =>
      h.sfn.send(new SendTaskSuccessCommand({ taskToken: requests[0]!.invocation.taskToken!, output: JSON.stringify({ by: 'bob' }) })),
    );

    await h.scheduler.run();

    expect(errors).toEqual(['InvalidToken', 'InvalidOutput']);
    expect(await outputOf(executionArn!)).toEqual({ outcome: 'approved', approval: { approvedBy: 'bob' } });
  });

  it('It should fail an execution whose task waits for a token nobody can send, with Rehearsal.Deadlock, instead of hanging', async () => {
    const definition: AslDefinition = {
      StartAt: 'Wait forever',
      States: {
        'Wait forever': {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: fn('gate'), Payload: { 'token.$': '$$.Task.Token' } },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Succeed' },
      },
    };
    const machine = await h.define('deadlock', definition, { 'Wait forever': async () => ({}) });
    const { executionArn } = await start(machine.arn, {}, 'stuck');

    await h.scheduler.run();

    const described = await describe_(executionArn!);
    // A deadlock is the rehearsal's failure, not the workflow's: Catch does not see it.
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('Rehearsal.Deadlock');
    expect(described.cause).toContain('execution stuck waited for its task token in state "Wait forever"');
  });
});

describe('StartExecution', () => {
  const sleepy: AslDefinition = { StartAt: 'Sleep', States: { Sleep: { Type: 'Wait', Seconds: 300, End: true } } };

  it('It should return the running execution again for the same name and input, and refuse the name otherwise', async () => {
    const machine = await h.define('releases', sleepy, {});
    const first = await start(machine.arn, { version: 3 }, 'approved-v3-abcd');
    const again = await start(machine.arn, { version: 3 }, 'approved-v3-abcd');
    const otherInput = await rejectionOf(start(machine.arn, { version: 4 }, 'approved-v3-abcd'));

    expect(again).toMatchObject({ executionArn: first.executionArn, startDate: first.startDate });
    expect(first.executionArn).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:execution:releases:approved-v3-abcd`);
    expect(otherInput.name).toBe('ExecutionAlreadyExists');

    await h.scheduler.run();
    // Closed: the name stays taken, whatever the input.
    const afterTheEnd = await rejectionOf(start(machine.arn, { version: 3 }, 'approved-v3-abcd'));
    expect(afterTheEnd.name).toBe('ExecutionAlreadyExists');
    expect(h.sims.stepfunctions.executions()).toHaveLength(1);
  });

  it('It should name an execution with a UUID when no name is given, and validate names, the state machine and the input', async () => {
    const machine = await h.define('releases', sleepy, {});
    const unnamed = await h.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.arn }));
    expect(unnamed.executionArn).toMatch(/:execution:releases:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(JSON.parse((await describe_(unnamed.executionArn!)).input!)).toEqual({});

    const errorOf = async (promise: Promise<unknown>) => {
      const error = await rejectionOf(promise);
      return `${error.name}: ${error.message}`;
    };
    expect(await errorOf(start(machine.arn, {}, 'has space'))).toBe("InvalidName: Invalid Name: 'has space'");
    expect(await errorOf(start(machine.arn, {}, 'x'.repeat(81)))).toMatch(/^InvalidName/);
    expect((await start(machine.arn, {}, 'x'.repeat(80))).executionArn).toMatch(/:x{80}$/);
    expect(await errorOf(start(machine.arn.replace('releases', 'nope'), {}))).toMatch(
      /^StateMachineDoesNotExist: State Machine Does Not Exist: 'arn:aws:states:eu-west-1:123456789012:stateMachine:nope'/,
    );
    expect(await errorOf(start('arn:aws:lambda:eu-west-1:123456789012:function:releases', {}))).toMatch(/^InvalidArn/);
    expect(await errorOf(h.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.arn, input: '{"broken":' })))).toMatch(/^InvalidExecutionInput/);
  });
});

describe('DescribeExecution, StopExecution and ListExecutions', () => {
  it('It should describe a running execution, then its output and stop date once it succeeded', async () => {
    const machine = await h.define(
      'describe',
      { StartAt: 'Work', States: { Work: { Type: 'Task', Resource: fn('work'), End: true } } },
      { Work: async (input) => ({ doubled: (input as { n: number }).n * 2 }) },
    );
    const { executionArn } = await start(machine.arn, { n: 21 }, 'd-1');

    const running = await describe_(executionArn!);
    expect(running).toMatchObject({ status: 'RUNNING', name: 'd-1', stateMachineArn: machine.arn, input: '{"n":21}' });
    expect(running.stopDate).toBeUndefined();
    await h.scheduler.run();
    const done = await describe_(executionArn!);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"doubled":42}' });
    expect(done.stopDate).toEqual(new Date(T0));

    const missing = await rejectionOf(describe_(executionArn!.replace('d-1', 'd-2')));
    expect(missing.name).toBe('ExecutionDoesNotExist');
  });

  it('It should abort a stopped execution at once: status ABORTED with the error and cause given, no further state runs, its token closed', async () => {
    const ran: string[] = [];
    const machine = await h.define(
      'stoppable',
      {
        StartAt: 'Bake',
        States: {
          Bake: { Type: 'Wait', Seconds: 3600, Next: 'Promote' },
          Promote: { Type: 'Task', Resource: fn('promote'), End: true },
        },
      },
      { Promote: async () => ran.push('Promote') },
    );
    const gate = await approvalMachine();
    const baking = await start(machine.arn, {}, 'baking');
    const waiting = await start(gate.arn, { bakeSeconds: 0, approvalTimeoutSeconds: 7200 }, 'waiting');
    h.scheduler.at(T0 + 100_000, 'operator', async () => {
      await h.sfn.send(new StopExecutionCommand({ executionArn: baking.executionArn, error: 'OperatorAbort', cause: 'rolled back by hand' }));
      await h.sfn.send(new StopExecutionCommand({ executionArn: waiting.executionArn }));
    });

    await h.scheduler.run();

    const stopped = await describe_(baking.executionArn!);
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'OperatorAbort', cause: 'rolled back by hand' });
    expect(secondsOf(stopped.stopDate)).toBe(100);
    expect((await describe_(waiting.executionArn!)).status).toBe('ABORTED');
    expect(ran).toEqual([]);
    // Nothing was left to wait for: the clock stopped at the stop.
    expect(h.seconds()).toBe(100);
    const late = await rejectionOf(h.sfn.send(new SendTaskSuccessCommand({ taskToken: gate.requests[0]!.invocation.taskToken!, output: '{}' })));
    expect(late.name).toBe('TaskTimedOut');
    // Stopping an execution that has ended changes nothing.
    const again = await h.sfn.send(new StopExecutionCommand({ executionArn: baking.executionArn }));
    expect(secondsOf(again.stopDate)).toBe(100);
  });

  it('It should list executions newest first, filtered by status, in pages', async () => {
    const machine = await h.define('listed', { StartAt: 'Sleep', States: { Sleep: { Type: 'Wait', SecondsPath: '$.seconds', End: true } } }, {});
    for (const [name, seconds, startAt] of [
      ['e1', 10, 0],
      ['e2', 1000, 5],
      ['e3', 10, 20],
      ['e4', 1000, 30],
    ] as const) {
      h.scheduler.at(T0 + startAt * 1000, `start ${name}`, () => start(machine.arn, { seconds }, name));
    }
    await h.scheduler.run({ until: T0 + 60_000 });

    const names = async (input: { statusFilter?: 'RUNNING' | 'SUCCEEDED'; maxResults?: number; nextToken?: string }) => {
      const page = await h.sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.arn, ...input }));
      return { names: page.executions?.map((e) => `${e.name}:${e.status}`), nextToken: page.nextToken };
    };
    expect((await names({})).names).toEqual(['e4:RUNNING', 'e3:SUCCEEDED', 'e2:RUNNING', 'e1:SUCCEEDED']);
    expect((await names({ statusFilter: 'RUNNING' })).names).toEqual(['e4:RUNNING', 'e2:RUNNING']);
    const first = await names({ maxResults: 3 });
    expect(first.names).toEqual(['e4:RUNNING', 'e3:SUCCEEDED', 'e2:RUNNING']);
    expect(await names({ maxResults: 3, nextToken: first.nextToken! })).toEqual({ names: ['e1:SUCCEEDED'], nextToken: undefined });
    expect((await rejectionOf(names({ nextToken: 'bogus' }))).name).toBe('InvalidToken');

    await h.scheduler.run();
    expect((await names({ statusFilter: 'RUNNING' })).names).toEqual([]);
  });
});

describe('time in executions', () => {
  it('It should sleep Retry intervals in virtual time and pass the attempt number to the task', async () => {
    const attempts: Array<[number, number]> = [];
    const machine = await h.define(
      'retrying',
      {
        StartAt: 'Flaky',
        States: {
          Flaky: {
            Type: 'Task',
            Resource: fn('flaky'),
            Retry: [{ ErrorEquals: ['Throttled'], IntervalSeconds: 10, BackoffRate: 2, MaxAttempts: 3 }],
            End: true,
          },
        },
      },
      {
        Flaky: async (_input, invocation) => {
          attempts.push([invocation.attempt, h.seconds()]);
          if (invocation.attempt < 3) throw Object.assign(new Error('slow down'), { name: 'Throttled' });
          return { done: true };
        },
      },
    );
    const { executionArn } = await start(machine.arn, {});

    await h.scheduler.run();

    expect(attempts).toEqual([
      [1, 0],
      [2, 10],
      [3, 30],
    ]);
    expect((await describe_(executionArn!)).status).toBe('SUCCEEDED');
  });

  it('It should time an execution out after the state machine’s TimeoutSeconds in virtual time', async () => {
    const machine = await h.define(
      'bounded',
      { StartAt: 'Long bake', TimeoutSeconds: 300, States: { 'Long bake': { Type: 'Wait', Seconds: 600, End: true } } },
      {},
    );
    const { executionArn } = await start(machine.arn, {});

    await h.scheduler.run();

    const described = await describe_(executionArn!);
    expect(described).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(secondsOf(described.stopDate)).toBe(300);
  });
});
