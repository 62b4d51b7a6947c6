/**
 * start-release: the approval rule's target. Starts the release workflow (mocked SFN)
 * for an Approved model package with a name derived from the approval, so a duplicate
 * delivery finds the execution that exists and is reported, not started again.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-jest';
import { executionNameFor, handler, startRelease } from '../../lambdas/handlers/start-release';
import { CANDIDATE_PACKAGE_ARN, GROUP_NAME, approvalEvent } from './fixtures';
import { lambdaContext } from './helpers/lambda-context';
import { STATE_MACHINE_ARN, executionArn, sfnError, useServiceMocks } from './helpers/ledger';

const { sfn } = useServiceMocks();

beforeEach(() => {
  process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
});

afterEach(() => {
  delete process.env.STATE_MACHINE_ARN;
});

const NAME = executionNameFor({ ModelPackageGroupName: GROUP_NAME, ModelPackageArn: CANDIDATE_PACKAGE_ARN, LastModifiedTime: '2025-06-01T09:59:58.000Z' });

describe('starting a release', () => {
  it('It should start the state machine with the event as input and a name derived from the approval', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(NAME), startDate: new Date() });
    const event = approvalEvent();

    const result = await startRelease(event);

    expect(NAME).toMatch(/^churn-models-v7-[0-9a-f]{8}$/);
    expect(result).toEqual({
      outcome: 'started',
      executionName: NAME,
      executionArn: executionArn(NAME),
      reason: `release of ${CANDIDATE_PACKAGE_ARN} started`,
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const sent = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(sent).toEqual({ stateMachineArn: STATE_MACHINE_ARN, name: NAME, input: JSON.stringify(event) });
  });

  it('It should give a duplicate delivery the same name and report the existing execution as a duplicate, successfully', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: executionArn(NAME), startDate: new Date() })
      .rejects(sfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn(NAME)}'`));

    await startRelease(approvalEvent());
    const duplicate = await startRelease({ ...approvalEvent(), id: 'another-delivery-id' });

    expect(duplicate).toEqual({
      outcome: 'duplicate',
      executionName: NAME,
      reason: `an execution named ${NAME} exists already: Execution Already Exists: '${executionArn(NAME)}'`,
    });
    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(names).toEqual([NAME, NAME]);
  });

  it('It should start another execution when the version is approved again later', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    const reapproved = await startRelease(approvalEvent(undefined, undefined, { LastModifiedTime: '2025-06-03T08:00:00.000Z' }));

    expect(reapproved.executionName).not.toBe(NAME);
    expect(reapproved.executionName).toMatch(/^churn-models-v7-/);
  });

  it.each(['Rejected', 'PendingManualApproval'])('It should ignore a package that is %s, starting nothing', async (status) => {
    const result = await startRelease(approvalEvent(undefined, undefined, { ModelApprovalStatus: status }));

    expect(result).toEqual({ outcome: 'ignored', executionName: NAME, reason: `model package is ${status}, not Approved` });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('It should pass on other Step Functions errors', async () => {
    sfn.on(StartExecutionCommand).rejects(sfnError('StateMachineDoesNotExist', 'State Machine Does Not Exist'));

    await expect(startRelease(approvalEvent())).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });

  it('It should fail loudly when STATE_MACHINE_ARN is not set', async () => {
    delete process.env.STATE_MACHINE_ARN;

    await expect(startRelease(approvalEvent())).rejects.toThrow('STATE_MACHINE_ARN is not set');
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('rejected events', () => {
  it.each([
    ['an event from another source', { ...approvalEvent(), source: 'my.app' }, 'source'],
    ['an event without the package ARN', approvalEvent(undefined, undefined, { ModelPackageArn: undefined }), 'detail.ModelPackageArn'],
    ['a manual input', { action: 'release', modelPackageArn: CANDIDATE_PACKAGE_ARN }, 'detail'],
    ['nothing', undefined, '(root)'],
  ])('It should refuse %s with InvalidReleaseInput naming the field, starting nothing', async (_what, event, field) => {
    const error = await startRelease(event).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'InvalidReleaseInput', message: expect.stringMatching(/^Not a SageMaker Model Package State Change event: /) });
    expect((error as Error).message).toContain(`${field}: `);
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('the Lambda handler', () => {
  it('It should start through the middy wrapper', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(NAME), startDate: new Date() });

    const result = await handler(approvalEvent(), lambdaContext('smrm-start-release'));

    expect(result).toMatchObject({ outcome: 'started', executionName: NAME });
  });
});
