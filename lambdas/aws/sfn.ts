/**
 * Step Functions calls the release manager makes itself: starting a release from the
 * trigger, asking whether a lock holder still runs, and answering an approval gate.
 * The client is made here, not in clients.ts, so only the functions that need it bundle it.
 */
import { DescribeExecutionCommand, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

let client: SFNClient | undefined;
const sfn = () => (client ??= new SFNClient({}));

/** Starts an execution; `duplicate` when an execution of that name exists already (a repeated delivery). */
export async function startExecution(input: {
  stateMachineArn: string;
  name: string;
  input: unknown;
}): Promise<{ outcome: 'started'; executionArn: string } | { outcome: 'duplicate'; message: string }> {
  try {
    const result = await sfn().send(
      new StartExecutionCommand({ stateMachineArn: input.stateMachineArn, name: input.name, input: JSON.stringify(input.input) }),
    );
    return { outcome: 'started', executionArn: result.executionArn ?? '' };
  } catch (error) {
    if ((error as Error).name === 'ExecutionAlreadyExists') return { outcome: 'duplicate', message: (error as Error).message };
    throw error;
  }
}

/** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE; `MISSING` when Step Functions has no such execution. */
export async function executionStatus(executionArn: string): Promise<string> {
  try {
    const result = await sfn().send(new DescribeExecutionCommand({ executionArn }));
    return result.status ?? 'UNKNOWN';
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return 'MISSING';
    throw error;
  }
}

/** Completes a task token; `gone` when the task no longer waits (timed out, already answered, execution ended). */
export async function completeTask(input: { taskToken: string } & ({ output: unknown } | { error: string; cause: string })): Promise<'sent' | 'gone'> {
  try {
    if ('output' in input) await sfn().send(new SendTaskSuccessCommand({ taskToken: input.taskToken, output: JSON.stringify(input.output) }));
    else await sfn().send(new SendTaskFailureCommand({ taskToken: input.taskToken, error: input.error, cause: input.cause.slice(0, 32_768) }));
    return 'sent';
  } catch (error) {
    if (['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes((error as Error).name)) return 'gone';
    throw error;
  }
}
