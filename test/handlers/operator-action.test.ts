/**
 * operator-action: approve / reject answer the approval gate of the release waiting on
 * the endpoint lock (dynalite) with SendTaskSuccess / SendTaskFailure (mocked SFN).
 * Nothing waiting, or not the release named, is NothingToApprove with a message that
 * says what the endpoint is doing, and nothing is sent.
 */
import './helpers/targets-file';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-jest';
import { parseConfig } from '../../lambdas/domain/config';
import { configured, handler } from '../../lambdas/handlers/operator-action';
import { ENDPOINT_NAME, NAMES, makeRelease } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { execution, recordOf, seedLock, sfnError, useLedger, useServiceMocks } from './helpers/ledger';
import targets from './helpers/targets.json';

const { sfn } = useServiceMocks();
const db = useLedger();
const operatorAction = configured(parseConfig(targets, 'test targets'));

/** The operator's execution, and the release execution waiting at its gate. */
const ME = execution('approve-churn-0001', '2025-06-01T12:00:00.000Z');
const RELEASE = execution('churn-models-v7-0000bbbb', '2025-06-01T10:00:00.000Z');
const release = makeRelease({ approval: { timeoutSeconds: 3600 } });
const record = recordOf(release, RELEASE);
const TOKEN = 'gate-token-of-v7';
const GATE = { taskToken: TOKEN, releaseId: NAMES.releaseId, requestedAt: '2025-06-01T11:00:00.000Z', expiresAt: '2025-06-01T12:00:00.000Z' };

const approve = { action: 'approve', endpointName: ENDPOINT_NAME, comment: 'ship it', requestedBy: 'carol' };
const reject = { action: 'reject', endpointName: ENDPOINT_NAME, reason: 'not ready', requestedBy: 'dave' };

const answer = (input: unknown) => operatorAction({ input, execution: ME });

async function givenWaitingAtGate(): Promise<void> {
  await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: RELEASE.arn, releaseId: NAMES.releaseId });
  await db.ledger.updateLock({ endpointName: ENDPOINT_NAME, owner: RELEASE.arn, now: new Date(), approval: GATE });
  await db.ledger.startRelease(record);
}

function expectNothingSent(): void {
  expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
}

describe('answering the gate', () => {
  beforeEach(async () => {
    await givenWaitingAtGate();
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
  });

  it('It should approve with SendTaskSuccess, clear the spent token and note the answer on the record', async () => {
    const result = await answer(approve);

    expect(result).toEqual({
      action: 'approve',
      endpointName: ENDPOINT_NAME,
      releaseId: NAMES.releaseId,
      releaseExecutionArn: RELEASE.arn,
      reason: `approved release ${NAMES.releaseId} of endpoint ${ENDPOINT_NAME}`,
    });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const sent = sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input;
    expect(sent.taskToken).toBe(TOKEN);
    const output = JSON.parse(sent.output!) as Record<string, string>;
    expect(output).toEqual({ approvedBy: 'carol', comment: 'ship it', at: expect.any(String) });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);

    const lock = await db.ledger.readLock(ENDPOINT_NAME);
    expect(lock).toMatchObject({ owner: RELEASE.arn, releaseId: NAMES.releaseId });
    expect(lock).not.toHaveProperty('approval');
    expect((await db.ledger.release(record))?.approval).toEqual({ decision: 'approved', by: 'carol', at: output.at, note: 'ship it' });
  });

  it('It should approve the release it names', async () => {
    await expect(answer({ ...approve, releaseId: NAMES.releaseId })).resolves.toMatchObject({ action: 'approve', releaseId: NAMES.releaseId });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it('It should reject with SendTaskFailure ReleaseRejected, naming who and why', async () => {
    const result = await answer(reject);

    expect(result).toMatchObject({ action: 'reject', reason: `rejected release ${NAMES.releaseId} of endpoint ${ENDPOINT_NAME}` });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TOKEN, error: 'ReleaseRejected', cause: 'rejected by dave: not ready' });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(await db.ledger.readLock(ENDPOINT_NAME)).not.toHaveProperty('approval');
    expect((await db.ledger.release(record))?.approval).toMatchObject({ decision: 'rejected', by: 'dave', note: 'not ready' });
  });

  it('It should refuse to answer for another release than the one waiting, sending nothing', async () => {
    const error = await answer({ ...approve, releaseId: 'v9-0badc0de' }).catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'NothingToApprove',
      message: `Endpoint ${ENDPOINT_NAME} waits for approval of release ${NAMES.releaseId}, not v9-0badc0de; nothing was answered`,
    });
    expectNothingSent();
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.approval).toEqual(GATE);
    expect((await db.ledger.release(record))?.approval).toBeUndefined();
  });

  it('It should report a gate that no longer waits (timed out) as NothingToApprove, without noting an answer', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(sfnError('TaskTimedOut', 'Task Timed Out'));

    await expect(answer(approve)).rejects.toMatchObject({
      name: 'NothingToApprove',
      message: `The approval gate of release ${NAMES.releaseId} no longer waits (it timed out, was answered, or its execution ended)`,
    });
    expect((await db.ledger.release(record))?.approval).toBeUndefined();
  });

  it('It should pass on other Step Functions errors, keeping the token for a retry', async () => {
    sfn.on(SendTaskFailureCommand).rejects(sfnError('ThrottlingException', 'Rate exceeded'));

    await expect(answer(reject)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.approval).toEqual(GATE);
  });
});

describe('nothing waiting', () => {
  it('It should say that no release is in flight when the endpoint is not locked', async () => {
    await expect(answer(approve)).rejects.toMatchObject({
      name: 'NothingToApprove',
      message: `No release of endpoint ${ENDPOINT_NAME} is in flight; nothing to approve`,
    });
    expectNothingSent();
  });

  it('It should say what the release in flight is doing when it is not at its gate', async () => {
    await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: RELEASE.arn, releaseId: NAMES.releaseId });

    await expect(answer(reject)).rejects.toMatchObject({
      name: 'NothingToApprove',
      message: `release ${NAMES.releaseId} (${RELEASE.name}) of endpoint ${ENDPOINT_NAME} is not waiting for approval; nothing to reject`,
    });
    expectNothingSent();
  });

  it('It should say when the execution in flight has not planned yet', async () => {
    await seedLock(db.ledger, { endpointName: ENDPOINT_NAME, owner: RELEASE.arn, action: 'rollback' });

    await expect(answer(approve)).rejects.toMatchObject({ message: expect.stringContaining('release (not planned yet)') });
    expectNothingSent();
  });
});

describe('rejected requests', () => {
  it.each([
    ['rollback', { action: 'rollback', endpointName: ENDPOINT_NAME }, 'InvalidReleaseInput'],
    ['a release', { action: 'release', modelPackageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-models/7' }, 'InvalidReleaseInput'],
    ['an endpoint that is no target', { action: 'approve', endpointName: 'other-endpoint' }, 'UnknownTarget'],
    ['an invalid releaseId', { action: 'approve', endpointName: ENDPOINT_NAME, releaseId: '7' }, 'InvalidReleaseInput'],
  ])('It should refuse %s before reading the ledger or calling Step Functions', async (_what, input, name) => {
    await givenWaitingAtGate();

    await expect(answer(input)).rejects.toMatchObject({ name });
    expectNothingSent();
    expect((await db.ledger.readLock(ENDPOINT_NAME))?.approval).toEqual(GATE);
  });

  it('It should answer through the middy wrapper with the targets file', async () => {
    await givenWaitingAtGate();
    sfn.on(SendTaskSuccessCommand).resolves({});

    const result = await handler({ input: approve, execution: ME }, lambdaContext('smrm-operator-action'));

    expect(result.action).toBe('approve');
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });
});
