/**
 * Task "Wait for approval" (lambda:invoke.waitForTaskToken): the approval gate before
 * promotion. Stores the task token on the endpoint lock, where the `approve` and
 * `reject` actions find it, extends the lock's lease past the gate's timeout, and emits
 * "Release Approval Requested". The execution then waits until an operator answers or
 * the gate times out (States.Timeout), which rolls the release back.
 */
import { RequestApprovalInputSchema } from '../contracts';
import { publishLifecycleEvents } from '../aws/events';
import { ledger } from '../aws/ledger';
import { LIFECYCLE_DETAIL_TYPES } from '../domain/events';
import { ReleaseAbortedError } from '../domain/errors';
import { lambdaHandler, parseTaskInput } from './common';
import { abortReason, releaseEvent } from './ledger-support';

export async function requestApproval(event: unknown): Promise<{ waitingUntil: string }> {
  const { release, execution, taskToken } = parseTaskInput(RequestApprovalInputSchema, event);
  const timeoutSeconds = release.approval?.timeoutSeconds ?? 0;
  const now = new Date();
  const expiresAt = new Date(now.getTime() + timeoutSeconds * 1000).toISOString();
  const lock = await ledger().updateLock({
    endpointName: release.endpointName,
    owner: execution.arn,
    now,
    leaseSeconds: timeoutSeconds + release.leaseSeconds,
    approval: { taskToken, releaseId: release.releaseId, requestedAt: now.toISOString(), expiresAt },
  });
  const abort = abortReason(lock);
  if (abort) throw new ReleaseAbortedError(abort);
  await publishLifecycleEvents([
    releaseEvent(LIFECYCLE_DETAIL_TYPES.approvalRequested, release, execution, {
      approval: { timeoutSeconds, expiresAt },
      reason: 'waiting for approve or reject',
    }),
  ]);
  return { waitingUntil: expiresAt };
}

export const handler = lambdaHandler(requestApproval);
