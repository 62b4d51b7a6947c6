/**
 * Task "Is the endpoint ...?": reads the endpoint back and compares it with what the
 * last change asked for. Returns in-progress while SageMaker works, failed when the
 * change did not take (including a silent revert) or the wait ran out.
 */
import { CheckInputSchema, type CheckOutput } from '../contracts';
import { describeEndpoint, observe } from '../aws/sagemaker';
import { judgeEndpoint } from '../domain/endpoint';
import { lambdaHandler, logger, parseTaskInput } from './common';

export async function checkEndpoint(event: unknown): Promise<CheckOutput> {
  const { release, expect, previous } = parseTaskInput(CheckInputSchema, event);
  const attempt = previous.for === expect.id ? previous.attempt + 1 : 1;
  const observed = observe(await describeEndpoint(expect.endpointName));
  const result = judgeEndpoint(expect, observed, attempt, release.endpointWait.maxPolls);
  if (result.outcome === 'failed') logger.warn('Endpoint is not as expected', { ...result });
  return result;
}

export const handler = lambdaHandler(checkEndpoint);
