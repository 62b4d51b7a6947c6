/**
 * Task "Answer the approval gate": the `approve` and `reject` actions. Finds the release
 * waiting at its approval gate on the endpoint's lock, checks it is the one named (when
 * releaseId is given), and completes its task token: SendTaskSuccess lets it promote,
 * SendTaskFailure with ReleaseRejected rolls it back. Nothing waiting is an error
 * (NothingToApprove) that names what the endpoint is doing instead.
 */
import { OperatorActionInputSchema, type ApprovalDecision, type OperatorActionOutput } from '../contracts';
import { ledger } from '../aws/ledger';
import { completeTask } from '../aws/sfn';
import type { ReleaseManagerConfig } from '../domain/config';
import { InvalidReleaseInputError, NothingToApproveError } from '../domain/errors';
import { parseExecutionRequest, targetOfRequest } from '../domain/request';
import { configuredHandler, logger, parseTaskInput } from './common';
import { executionNameOf } from './ledger-support';

export function configured(config: ReleaseManagerConfig): (event: unknown) => Promise<OperatorActionOutput> {
  return async function operatorAction(event) {
    const { input, execution } = parseTaskInput(OperatorActionInputSchema, event);
    const request = parseExecutionRequest(input);
    if (request.kind !== 'approve' && request.kind !== 'reject') {
      throw new InvalidReleaseInputError(`Action ${request.kind} is not an answer to an approval gate (expected approve or reject)`);
    }
    const { endpointName } = targetOfRequest(config, request);
    const lock = await ledger().readLock(endpointName);
    if (!lock) throw new NothingToApproveError(`No release of endpoint ${endpointName} is in flight; nothing to ${request.kind}`);
    const gate = lock.approval;
    const running = `release ${lock.releaseId ?? '(not planned yet)'} (${executionNameOf(lock.owner)})`;
    if (!gate) throw new NothingToApproveError(`${running} of endpoint ${endpointName} is not waiting for approval; nothing to ${request.kind}`);
    if (request.releaseId && request.releaseId !== gate.releaseId) {
      throw new NothingToApproveError(
        `Endpoint ${endpointName} waits for approval of release ${gate.releaseId}, not ${request.releaseId}; nothing was answered`,
      );
    }
    const at = new Date().toISOString();
    const note = request.note;
    const sent =
      request.kind === 'approve'
        ? await completeTask({
            taskToken: gate.taskToken,
            output: { approvedBy: request.requestedBy, ...(note ? { comment: note } : {}), at } satisfies ApprovalDecision,
          })
        : await completeTask({ taskToken: gate.taskToken, error: 'ReleaseRejected', cause: `rejected by ${request.requestedBy}${note ? `: ${note}` : ''}` });
    if (sent === 'gone') {
      throw new NothingToApproveError(`The approval gate of release ${gate.releaseId} no longer waits (it timed out, was answered, or its execution ended)`);
    }
    // The token is spent: a later rollback must not try it again.
    await ledger()
      .updateLock({ endpointName, owner: lock.owner, now: new Date(), approval: null })
      .catch((error: Error) => logger.warn('Could not clear the answered approval gate from the lock', { endpointName, error: error.message }));
    const record = await ledger().releaseByExecution(endpointName, executionNameOf(lock.owner));
    if (record) {
      await ledger().annotateRelease({
        endpointName,
        startedAt: record.startedAt,
        executionName: record.executionName,
        approval: { decision: request.kind === 'approve' ? 'approved' : 'rejected', by: request.requestedBy, at, ...(note ? { note } : {}) },
      });
    }
    logger.info('Answered the approval gate', {
      endpointName,
      releaseId: gate.releaseId,
      action: request.kind,
      by: request.requestedBy,
      execution: execution.name,
    });
    return {
      action: request.kind,
      endpointName,
      releaseId: gate.releaseId,
      releaseExecutionArn: lock.owner,
      reason: `${request.kind === 'approve' ? 'approved' : 'rejected'} release ${gate.releaseId} of endpoint ${endpointName}`,
    };
  };
}

export const handler = configuredHandler(configured);
