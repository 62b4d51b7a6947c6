/**
 * Task "Is the endpoint ...?": reads the endpoint back and compares it with what the
 * last change asked for. Returns in-progress while SageMaker works, failed when the
 * change did not take (including a silent revert) or the wait ran out. In the workflow
 * it also renews the endpoint lock, and an operator's rollback (ReleaseAborted) stops
 * the wait and rolls back.
 */
import { CheckInputSchema, type CheckOutput } from '../contracts';
import { describeEndpoint, observe } from '../aws/sagemaker';
import { judgeEndpoint } from '../domain/endpoint';
import { ReleaseAbortedError } from '../domain/errors';
import { lambdaHandler, logger, parseTaskInput } from './common';
import { abortReason, guardLock } from './ledger-support';

export async function checkEndpoint(event: unknown): Promise<CheckOutput> {
  const { release, expect, previous, execution } = parseTaskInput(CheckInputSchema, event);
  if (execution) {
    const abort = abortReason(await guardLock(release, execution));
    if (abort) throw new ReleaseAbortedError(abort);
  }
  const attempt = previous.for === expect.id ? previous.attempt + 1 : 1;
  const observed = observe(await describeEndpoint(expect.endpointName));
  const result = judgeEndpoint(expect, observed, attempt, release.endpointWait.maxPolls);
  if (result.outcome === 'failed') logger.warn('Endpoint is not as expected', { ...result });
  return result;
}

export const handler = lambdaHandler(checkEndpoint);
