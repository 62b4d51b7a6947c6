// Rehearsal sessions on the synthesized workflow: the result of Rehearsal.run lists its
// execution and the lifecycle events; approval events delivered to start-release go
// through the Step Functions simulator's name rules; operator actions at a virtual time
// or on a state entry; handlers write the ledger in virtual time.
import { Rehearsal, shutdownRehearsals, type ExecutionSummary, type RehearsalSession } from '../../rehearsal/engine';
import { WORKFLOW_CONFIG } from '../workflow/fixtures';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const rehearsal = Rehearsal.fromConfig(WORKFLOW_CONFIG);
const blueGreen = { name: 'session', target: 'blue-green', candidate: { version: 2 }, baselineVersion: 1 };

afterAll(async () => {
  await shutdownRehearsals();
});

const iso = (virtualSeconds: number) => new Date(T0 + virtualSeconds * 1000).toISOString();

it('It should report the one execution of Rehearsal.run and the lifecycle events it put on EventBridge', async () => {
  const result = await rehearsal.run({ ...blueGreen, name: 'blue-green.promoted' });

  expect(result.status).toBe('SUCCEEDED');
  expect(result.executions).toHaveLength(1);
  const [execution] = result.executions!;
  expect(execution).toMatchObject({
    name: 'rehearsal-blue-green-promoted',
    status: 'SUCCEEDED',
    startedAt: 0,
    stoppedAt: result.virtualSeconds,
    lambdaInvocations: result.lambdaInvocations,
    stateTransitions: result.usage.stateTransitions,
  });
  expect(execution!.executionArn).toBe(`${rehearsal.workflow.stateMachineArn.replace(':stateMachine:', ':execution:')}:${execution!.name}`);
  expect(execution!.timeline).toEqual(result.timeline.filter((e) => e.kind !== 'fault'));
  expect(result.events?.map((e) => e.detailType)).toEqual(expect.arrayContaining(['Release Started', 'Release Succeeded']));
  for (const event of result.events!) {
    expect(event.source).toBe('sagemaker-release-manager');
    expect(event.at).toBeGreaterThanOrEqual(T0);
    expect(event.at).toBeLessThanOrEqual(T0 + result.virtualSeconds * 1000);
  }
});

it('It should let handlers write the ledger in virtual time', async () => {
  const session = await rehearsal.session(blueGreen);
  session.startExecution(session.world.startInput, 'ledger-in-virtual-time');
  const [execution] = await session.run();

  const [record] = await session.ledger.history('blue-green-endpoint', { limit: 1 });
  expect(record).toMatchObject({ executionName: 'ledger-in-virtual-time', status: 'succeeded', startedAt: iso(0), endedAt: iso(execution!.stoppedAt!) });
  expect(await session.ledger.readLock('blue-green-endpoint')).toBeUndefined();
});

describe('approval events delivered to start-release', () => {
  let session: RehearsalSession;

  beforeEach(async () => {
    session = await rehearsal.session(blueGreen);
  });

  it('It should register the approved version and describe it in the event, with its LastModifiedTime', async () => {
    session.clock.advanceSeconds(42);
    const event = session.approveVersion(3);

    expect(event).toMatchObject({
      source: 'aws.sagemaker',
      'detail-type': 'SageMaker Model Package State Change',
      detail: { ModelPackageGroupName: 'blue-green-models', ModelPackageVersion: 3, ModelApprovalStatus: 'Approved', LastModifiedTime: iso(42) },
    });
    const listed = session.sims.sagemaker.handle('ListModelPackages', { ModelPackageGroupName: 'blue-green-models', ModelApprovalStatus: 'Approved' }) as {
      ModelPackageSummaryList: Array<{ ModelPackageVersion: number }>;
    };
    expect(listed.ModelPackageSummaryList.map((p) => p.ModelPackageVersion)).toEqual([1, 2, 3]);
  });

  it('It should start one execution for a delivery repeated while it runs, and another one for a new approval of the version', async () => {
    const event = session.approveVersion(3);
    const first = (await session.deliver(event)) as { executionArn: string };
    const repeated = (await session.deliver(event)) as { executionArn: string };
    // Same name and same input while RUNNING: StartExecution answers with the running execution.
    expect(repeated.executionArn).toBe(first.executionArn);
    expect(session.executions).toHaveLength(1);

    session.at(60, (s) => s.deliver(s.approveVersion(3)));
    const executions = await session.run();

    expect(executions.map((e) => [e.startedAt, e.status === 'RUNNING'])).toEqual([
      [0, false],
      [60, false],
    ]);
    expect(executions[1]!.name).not.toBe(executions[0]!.name);
    expect(session.sims.stepfunctions.calls.filter((c) => c.operation === 'StartExecution')).toHaveLength(3);
  });
});

describe('operator actions', () => {
  it('It should act at a virtual time, as its own actor, while the release runs', async () => {
    const session = await rehearsal.session(blueGreen);
    const { executionArn } = session.startExecution(session.world.startInput, 'observed');
    const seen: Array<{ at: number; status: string | undefined }> = [];
    session.at(100, (s) => seen.push({ at: s.now(), status: s.execution(executionArn)?.status }));

    const [execution] = await session.run();

    expect(seen).toEqual([{ at: 100, status: 'RUNNING' }]);
    expect(execution!.stoppedAt).toBeGreaterThan(100);
  });

  it('It should stop an execution when it enters a state for the second time: ABORTED then, and nothing more runs', async () => {
    const waitState = 'Wait for the candidate to deploy';
    expect(rehearsal.definition.States[waitState]?.Type).toBe('Wait');
    const session = await rehearsal.session(blueGreen);
    session.startExecution(session.world.startInput, 'stopped-by-hand');
    let stoppedAt: number | undefined;
    session.whenState(
      waitState,
      (execution: ExecutionSummary, s) => {
        stoppedAt = s.now();
        s.stop(execution.executionArn, 'OperatorAbort', 'stopped in a rehearsal');
      },
      { occurrence: 2 },
    );

    const [execution] = await session.run();

    expect(execution).toMatchObject({ status: 'ABORTED', error: 'OperatorAbort', cause: 'stopped in a rehearsal', stoppedAt });
    expect(execution!.timeline.filter((e) => e.state === waitState)).toHaveLength(1);
    expect(execution!.timeline.filter((e) => e.at > stoppedAt!)).toEqual([]);
    expect(execution!.timeline.at(-1)).toMatchObject({ state: 'Execution aborted', kind: 'end', detail: 'OperatorAbort: stopped in a rehearsal' });
    expect(session.now()).toBe(stoppedAt);
    expect(session.result().status).toBe('FAILED');
  });

  it('It should refuse to watch a state that is not a Task or Wait state of the workflow', async () => {
    const session = await rehearsal.session(blueGreen);
    expect(() => session.whenState('No such state', () => undefined)).toThrow(/"No such state" is not a Task or Wait state of the workflow/);
  });
});

describe('the approval gate', () => {
  const gated = Rehearsal.fromConfig({
    ...WORKFLOW_CONFIG,
    targets: WORKFLOW_CONFIG.targets.map((t) => (t.name === 'blue-green' ? { ...t, approval: { timeoutSeconds: 1800 } } : t)),
  });
  const gate = 'Wait for approval';

  it('It should wait at the gate in virtual time and continue with the answer sent to its task token', async () => {
    expect(gated.definition.States[gate]?.Resource).toMatch(/\.waitForTaskToken$/);
    const session = await gated.session(blueGreen);
    session.startExecution(session.world.startInput, 'approved-at-the-gate');
    let gateAt: number | undefined;
    session.whenState(gate, (execution, s) => {
      gateAt = s.now();
      s.at(gateAt + 600, () => {
        const [waiting] = s.taskTokens(execution.executionArn);
        expect(waiting?.stateName).toBe(gate);
        s.sendTaskSuccess(waiting!.token, { approvedBy: 'tester' });
      });
    });

    const [execution] = await session.run();

    expect(execution!.status).toBe('SUCCEEDED');
    const answered = execution!.timeline.find((e) => e.state === gate && e.detail.startsWith('task token answered'));
    expect(answered).toMatchObject({
      at: gateAt! + 600,
      kind: 'task',
      detail: 'task token answered (SendTaskSuccess) after 600 s',
      output: { approvedBy: 'tester' },
    });
    expect(session.taskTokens()).toEqual([]);
  });

  it('It should time the gate out after the policy’s timeoutSeconds (TimeoutSecondsPath) with States.Timeout, which the workflow rolls back', async () => {
    const session = await gated.session(blueGreen);
    session.startExecution(session.world.startInput, 'nobody-answers');
    let gateAt: number | undefined;
    session.whenState(gate, (_execution, s) => void (gateAt = s.now()));

    const [execution] = await session.run();

    expect(execution!.timeline.find((e) => e.state === gate && e.kind === 'error')).toMatchObject({
      at: gateAt! + 1800,
      detail: 'States.Timeout: States.Timeout',
    });
    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    expect(session.liveVersion()).toBe(1);
  });
});
