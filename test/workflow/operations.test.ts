// Issue 4 through the local engine, with the ledger on dynalite: duplicate deliveries,
// approvals in a burst, operator rollbacks in flight and with nothing in flight, the
// approval gate (approve, reject, timeout), recovery of a stopped execution, and a lock
// whose lease expired. Every execution is the real state machine with the real handlers.
import type { ModelPackageStateChangeEvent } from '../../lambdas/contracts';
import { Rehearsal, shutdownRehearsals, type ExecutionSummary, type RehearsalSession } from '../../rehearsal/engine';
import { WORKFLOW_CONFIG } from './fixtures';

const rehearsal = Rehearsal.fromConfig(WORKFLOW_CONFIG);
const gated = Rehearsal.fromConfig({
  ...WORKFLOW_CONFIG,
  targets: WORKFLOW_CONFIG.targets.map((t) => (t.name === 'canary' ? { ...t, approval: { timeoutSeconds: 3600 } } : t)),
});
const canary = { name: 'operations', target: 'canary', candidate: { version: 2 }, baselineVersion: 1 };
const blueGreen = { name: 'operations', target: 'blue-green', candidate: { version: 2 }, baselineVersion: 1 };
const CANARY_ENDPOINT = 'canary-endpoint';
const BLUE_GREEN_ENDPOINT = 'blue-green-endpoint';
/** The first "Bake the step" entry of each canary step: 600 s, 600 s and 300 s bakes checked every 60 s. */
const FIRST_BAKE_OF_STEP = [1, 11, 21];

afterAll(async () => {
  await shutdownRehearsals();
});

const inProgressErrors = (session: RehearsalSession) => session.mutatingCalls().filter((c) => /in-progress/i.test(c.error ?? ''));
const byName = (session: RehearsalSession, name: string): ExecutionSummary => {
  const execution = session.execution(name);
  if (!execution) throw new Error(`no execution ${name}: ${session.executions.map((e) => e.name).join(', ')}`);
  return execution;
};

describe('idempotency', () => {
  it('It should start exactly one release for 100 deliveries of the same approval event', async () => {
    const session = await rehearsal.session(canary);
    const event = session.world.startInput;
    const answers = (await Promise.all(Array.from({ length: 100 }, () => session.deliver(event)))) as Array<{ outcome: string; executionName: string }>;
    // And 100 more once the release has ended: the name is taken for 90 days.
    session.at(7200, async (s) => {
      for (let i = 0; i < 100; i++) answers.push((await s.deliver(event)) as { outcome: string; executionName: string });
    });

    const executions = await session.run();

    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ status: 'SUCCEEDED' });
    expect(new Set(answers.map((a) => a.executionName)).size).toBe(1);
    expect(answers.slice(100).every((a) => a.outcome === 'duplicate')).toBe(true);
    expect(session.sims.stepfunctions.calls.filter((c) => c.operation === 'StartExecution')).toHaveLength(200);
    const history = await session.ledger.history(CANARY_ENDPOINT, { limit: 10 });
    expect(history.map((r) => [r.version, r.status])).toEqual([[2, 'succeeded']]);
    expect(session.events.filter((e) => e.detailType === 'Release Started')).toHaveLength(1);
    expect(session.liveVersion()).toBe(2);
  });
});

describe('one release per endpoint', () => {
  it('It should leave the newest of three versions approved one second apart live, the others superseded, with no in-progress errors', async () => {
    const session = await rehearsal.session(canary);
    await session.deliver(session.world.startInput);
    session.at(1, (s) => s.deliver(s.approveVersion(3)));
    session.at(2, (s) => s.deliver(s.approveVersion(4)));

    const executions = await session.run();

    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(session.liveVersion()).toBe(4);
    const history = await session.ledger.history(CANARY_ENDPOINT, { limit: 10 });
    expect(history.map((r) => [r.version, r.status]).sort()).toEqual([
      [2, 'superseded'],
      [3, 'superseded'],
      [4, 'succeeded'],
    ]);
    for (const record of history.filter((r) => r.status === 'superseded')) {
      expect(record.reason).toMatch(/version 4 of group canary-models was approved after version \d/);
      expect(record.steps).toEqual([]);
    }
    // Only version 4 ever reached SageMaker.
    expect(session.mutatingCalls().filter((c) => /v[23]-/.test(JSON.stringify(c.input)))).toEqual([]);
    expect(inProgressErrors(session)).toEqual([]);
    expect(session.events.filter((e) => e.detailType === 'Release Superseded')).toHaveLength(2);
    expect(await session.ledger.readLock(CANARY_ENDPOINT)).toBeUndefined();
  });

  it('It should queue a manual release behind the release in flight and run it after, never superseded', async () => {
    const session = await rehearsal.session(canary);
    await session.deliver(session.world.startInput);
    session.at(120, (s) => {
      const v3 = s.approveVersion(3);
      s.startExecution({ action: 'release', modelPackageArn: v3.detail.ModelPackageArn, requestedBy: 'alice' }, 'manual-v3');
    });

    await session.run();

    const manual = byName(session, 'manual-v3');
    const first = session.executions.find((e) => e.name !== 'manual-v3')!;
    expect([first.status, manual.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    // It waited for the lock with backoff, then released after the first one ended.
    expect(manual.timeline.filter((e) => e.state === 'Wait for the endpoint lock').length).toBeGreaterThan(3);
    const planned = manual.timeline.find((e) => e.state === 'Plan the release')!;
    expect(planned.at + manual.startedAt).toBeGreaterThanOrEqual(first.stoppedAt!);
    expect(session.liveVersion()).toBe(3);
    const [newest] = await session.ledger.history(CANARY_ENDPOINT, { limit: 1 });
    expect(newest).toMatchObject({ version: 3, status: 'succeeded', requestedBy: 'alice' });
    expect(inProgressErrors(session)).toEqual([]);
  });
});

describe('rollback by an operator', () => {
  it.each([1, 2, 3])('It should roll back a release in flight at step %i within one bake check', async (step) => {
    const session = await rehearsal.session(canary);
    await session.deliver(session.world.startInput);
    let requestedAt = 0;
    session.whenState(
      'Bake the step',
      (_execution, s) => {
        requestedAt = s.now() + 10;
        s.at(requestedAt, (t) =>
          t.startExecution({ action: 'rollback', endpointName: CANARY_ENDPOINT, reason: 'dashboards look wrong', requestedBy: 'alice' }, `rollback-${step}`),
        );
      },
      { occurrence: FIRST_BAKE_OF_STEP[step - 1] },
    );

    await session.run();

    const rollback = byName(session, `rollback-${step}`);
    expect(rollback).toMatchObject({ status: 'SUCCEEDED' });
    expect(rollback.timeline.at(-2)).toMatchObject({ state: 'Take the endpoint lock', detail: expect.stringMatching(/^abort-requested: asked release v2-/) });
    const release = session.executions.find((e) => e.name !== rollback.name)!;
    expect(release).toMatchObject({
      status: 'FAILED',
      error: 'ReleaseRolledBack',
      cause: expect.stringContaining('rollback requested by alice: dashboards look wrong'),
    });
    const noticed = release.timeline.find((e) => e.state === 'Check the alarms' && e.detail.startsWith('unhealthy'))!;
    // Noticed at the next check: at most one check interval (60 s) after the request.
    expect(release.startedAt + noticed.at - requestedAt).toBeGreaterThan(0);
    expect(release.startedAt + noticed.at - requestedAt).toBeLessThanOrEqual(60);
    expect(session.liveVersion()).toBe(1);
    const [record] = await session.ledger.history(CANARY_ENDPOINT, { limit: 1 });
    expect(record).toMatchObject({ status: 'rolled-back', reason: expect.stringContaining('rollback requested by alice') });
    expect(record!.steps).toHaveLength(step);
    expect(record!.steps[step - 1]!.verdict).toMatchObject({ status: 'unhealthy' });
    expect(await session.ledger.readLock(CANARY_ENDPOINT)).toBeUndefined();
    expect(session.events.map((e) => e.detailType)).toContain('Release Rolled Back');
  });

  it('It should re-release the last known good version all at once when no release is in flight', async () => {
    const session = await rehearsal.session(blueGreen);
    session.startExecution(
      { action: 'release', modelPackageArn: (session.world.startInput as ModelPackageStateChangeEvent).detail.ModelPackageArn, requestedBy: 'ci' },
      'release-v2',
    );
    session.at(4 * 3600, (s) => {
      const v3 = s.approveVersion(3);
      s.startExecution({ action: 'release', modelPackageArn: v3.detail.ModelPackageArn, requestedBy: 'ci' }, 'release-v3');
    });
    session.at(8 * 3600, (s) =>
      s.startExecution({ action: 'rollback', endpointName: BLUE_GREEN_ENDPOINT, reason: 'v3 misbehaves', requestedBy: 'alice' }, 'rollback'),
    );

    await session.run();

    expect(session.executions.map((e) => [e.name, e.status])).toEqual([
      ['release-v2', 'SUCCEEDED'],
      ['release-v3', 'SUCCEEDED'],
      ['rollback', 'SUCCEEDED'],
    ]);
    expect(session.liveVersion()).toBe(2);
    const rollback = byName(session, 'rollback');
    expect(rollback.timeline.find((e) => e.state === 'Plan the release')?.detail).toMatch(/^release: roll back: re-release version 2/);
    // All at once: one shift to 100 %, one alarm check, no approval gate.
    expect(rollback.timeline.filter((e) => e.state === 'Shift traffic to the next step')).toHaveLength(1);
    expect(rollback.timeline.filter((e) => e.state === 'Check the alarms')).toHaveLength(1);
    const [record] = await session.ledger.history(BLUE_GREEN_ENDPOINT, { limit: 1 });
    expect(record).toMatchObject({ version: 2, status: 'succeeded', requestedBy: 'alice', policy: { kind: 'rollback' } });
    expect(await session.ledger.lastKnownGood(BLUE_GREEN_ENDPOINT)).toMatchObject({ version: 2 });
  });

  it('It should change nothing when there is no earlier version to roll back to', async () => {
    const session = await rehearsal.session(blueGreen);
    session.startExecution({ action: 'rollback', endpointName: BLUE_GREEN_ENDPOINT, requestedBy: 'alice' }, 'rollback');

    const [execution] = await session.run();

    expect(execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(execution!.timeline.find((e) => e.state === 'Plan the release')?.detail).toMatch(/nothing to roll back to/);
    expect(session.mutatingCalls()).toEqual([]);
    expect(await session.ledger.readLock(BLUE_GREEN_ENDPOINT)).toBeUndefined();
  });
});

describe('the approval gate', () => {
  const gate = 'Wait for approval';
  const answerAfter = (session: RehearsalSession, seconds: number, input: Record<string, unknown>) => {
    session.whenState(gate, (_execution, s) =>
      s.at(s.now() + seconds, (t) => t.startExecution({ endpointName: CANARY_ENDPOINT, requestedBy: 'alice', ...input }, `${String(input.action)}-it`)),
    );
  };

  it('It should promote when an operator approves, and note who approved on the record', async () => {
    const session = await gated.session(canary);
    await session.deliver(session.world.startInput);
    answerAfter(session, 600, { action: 'approve', comment: 'looks fine' });

    await session.run();

    const release = session.executions.find((e) => e.name !== 'approve-it')!;
    expect(release.status).toBe('SUCCEEDED');
    expect(byName(session, 'approve-it')).toMatchObject({
      status: 'SUCCEEDED',
      output: expect.objectContaining({ answer: expect.objectContaining({ action: 'approve' }) }),
    });
    expect(session.liveVersion()).toBe(2);
    const [record] = await session.ledger.history(CANARY_ENDPOINT, { limit: 1 });
    expect(record).toMatchObject({ status: 'succeeded', approval: { decision: 'approved', by: 'alice', note: 'looks fine' } });
    expect(session.events.map((e) => e.detailType)).toContain('Release Approval Requested');
  });

  it('It should roll back when an operator rejects, with the reason', async () => {
    const session = await gated.session(canary);
    await session.deliver(session.world.startInput);
    answerAfter(session, 300, { action: 'reject', reason: 'conversion dropped' });

    await session.run();

    const release = session.executions.find((e) => e.name !== 'reject-it')!;
    expect(release).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack', cause: expect.stringContaining('rejected by alice: conversion dropped') });
    expect(session.liveVersion()).toBe(1);
    const [record] = await session.ledger.history(CANARY_ENDPOINT, { limit: 1 });
    expect(record).toMatchObject({ status: 'rolled-back', approval: { decision: 'rejected', by: 'alice' } });
  });

  it('It should roll back when nobody answers before the timeout', async () => {
    const session = await gated.session(canary);
    await session.deliver(session.world.startInput);
    let gateAt = 0;
    session.whenState(gate, (_execution, s) => void (gateAt = s.now()));

    const [release] = await session.run();

    expect(release).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack', cause: expect.stringContaining('ApprovalTimedOut') });
    const rollbackStart = release!.timeline.find((e) => e.state === 'Roll back to the baseline')!;
    expect(release!.startedAt + rollbackStart.at - gateAt).toBe(3600);
    expect(session.liveVersion()).toBe(1);
  });

  it('It should fail an approve with NothingToApprove when no release waits, and change nothing', async () => {
    const session = await gated.session(canary);
    session.startExecution({ action: 'approve', endpointName: CANARY_ENDPOINT, requestedBy: 'alice' }, 'early-approve');

    const [execution] = await session.run();

    expect(execution).toMatchObject({ status: 'FAILED', error: 'NothingToApprove' });
    expect(session.mutatingCalls()).toEqual([]);
  });
});

describe('recovery', () => {
  /** Delivers the scenario's approval and stops that release by hand at its second step. */
  const releaseStoppedAtStep2 = async (session: RehearsalSession) => {
    const { executionName } = (await session.deliver(session.world.startInput)) as { executionName: string };
    session.whenState('Bake the step', (execution, s) => s.stop(execution.executionArn, 'Operator', 'stopped by hand'), {
      occurrence: FIRST_BAKE_OF_STEP[1],
      execution: executionName,
    });
    return executionName;
  };

  it('It should restore the baseline of a stopped execution with the recover action, and record what it did', async () => {
    const session = await rehearsal.session(canary);
    await releaseStoppedAtStep2(session);
    session.at(3600, (s) => s.startExecution({ action: 'recover', endpointName: CANARY_ENDPOINT, requestedBy: 'alice' }, 'recover'));

    await session.run();

    const stopped = session.executions.find((e) => e.name !== 'recover')!;
    expect(stopped.status).toBe('ABORTED');
    const recover = byName(session, 'recover');
    expect(recover.status).toBe('SUCCEEDED');
    expect(recover.timeline.some((e) => e.state === "Restore the interrupted release's baseline")).toBe(true);
    expect(session.liveVersion()).toBe(1);
    expect(session.endpoint()?.variants.map((v) => v.variantName)).toEqual(['AllTraffic']);
    const [record] = await session.ledger.history(CANARY_ENDPOINT, { limit: 1 });
    expect(record).toMatchObject({ status: 'failed', recovery: { by: recover.executionArn, ownerStatus: 'ABORTED', action: 'rolled-back' } });
    expect(await session.ledger.readLock(CANARY_ENDPOINT)).toBeUndefined();
    expect(session.events.map((e) => e.detailType)).toContain('Release Recovered');
  });

  it('It should recover by itself when the next release finds the stopped execution’s lock, then release', async () => {
    const session = await rehearsal.session(canary);
    await releaseStoppedAtStep2(session);
    session.at(3600, (s) => s.deliver(s.approveVersion(3)));

    await session.run();

    const next = session.executions.at(-1)!;
    expect(next.status).toBe('SUCCEEDED');
    expect(next.timeline.find((e) => e.state === 'Take the endpoint lock' && e.detail.startsWith('recover'))?.detail).toMatch(/its execution is ABORTED/);
    expect(session.liveVersion()).toBe(3);
    const history = await session.ledger.history(CANARY_ENDPOINT, { limit: 5 });
    expect(history.map((r) => [r.version, r.status])).toEqual([
      [3, 'succeeded'],
      [2, 'failed'],
    ]);
    expect(inProgressErrors(session)).toEqual([]);
  });

  it('It should take over a lock whose lease expired while its holder still runs, and stop the old holder without it touching the endpoint', async () => {
    const session = await gated.session(canary);
    const { executionName } = (await session.deliver(session.world.startInput)) as { executionName: string };
    let holder = '';
    // The successor waits at its own gate: approve it after a minute.
    session.whenState('Wait for approval', (execution, s) => {
      if (execution.name === executionName) return;
      s.at(s.now() + 60, (t) => t.sendTaskSuccess(t.taskTokens(execution.executionArn)[0]!.token, { approvedBy: 'bob' }));
    });
    session.whenState('Wait for approval', (execution, s) => {
      if (execution.name !== executionName) return;
      holder = execution.executionArn;
      // The holder hangs: its lease runs out although Step Functions still says RUNNING.
      s.at(s.now() + 60, async (t) => {
        const lock = await t.ledger.readLock(CANARY_ENDPOINT);
        await t.ledger.acquireLock({ endpointName: CANARY_ENDPOINT, owner: lock!.owner, leaseSeconds: 1, now: new Date(Date.now() - 3_600_000) });
        await t.deliver(t.approveVersion(3));
      });
    });
    // Once the successor is done, the old holder gets its approval and wakes up.
    session.at(6 * 3600, (s) => {
      const [token] = s.taskTokens(holder);
      if (token) s.sendTaskSuccess(token.token, { approvedBy: 'late' });
    });

    await session.run();

    const old = byName(session, holder);
    const successor = session.executions.at(-1)!;
    expect(successor.timeline.find((e) => e.state === 'Take the endpoint lock' && e.detail.startsWith('recover'))?.detail).toMatch(/lease expired/);
    expect(successor.status).toBe('SUCCEEDED');
    expect(old).toMatchObject({ status: 'FAILED', error: 'LockNotHeld' });
    expect(session.liveVersion()).toBe(3);
    expect(inProgressErrors(session)).toEqual([]);
  });
});
