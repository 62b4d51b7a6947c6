/**
 * Task "Check the alarms": one health check during a bake. Reads the target's alarms
 * and gives the verdict; counts checks so the workflow knows when the bake is over.
 * In the workflow it also renews the endpoint lock and honours an operator's rollback
 * (the verdict becomes unhealthy), records the step's verdict in the ledger when the
 * bake ends or fails, and emits "Release Step Completed" for a healthy bake.
 */
import { EvaluateInputSchema, type EvaluateOutput, type Verdict } from '../contracts';
import { readAlarms } from '../aws/cloudwatch';
import { publishLifecycleEvents } from '../aws/events';
import { ledger } from '../aws/ledger';
import { LIFECYCLE_DETAIL_TYPES } from '../domain/events';
import { judgeAlarms } from '../domain/verdict';
import { lambdaHandler, logger, parseTaskInput } from './common';
import { abortReason, guardLock, recordRef, releaseEvent } from './ledger-support';

export async function evaluateAlarms(event: unknown): Promise<EvaluateOutput> {
  const { release, progress, previous, execution } = parseTaskInput(EvaluateInputSchema, event);
  const checksDone = previous.stepIndex === progress.stepIndex ? previous.checksDone + 1 : 1;
  const abort = execution ? abortReason(await guardLock(release, execution)) : undefined;
  const alarms = await readAlarms(release.alarms);
  const verdict: Verdict = abort ? { status: 'unhealthy', reason: abort } : judgeAlarms(alarms, release.onInsufficientData);
  if (verdict.status !== 'healthy') logger.warn('Bake check not healthy', { verdict, alarms });
  const bakeComplete = checksDone >= (progress.checks ?? 1);

  if (execution && (bakeComplete || verdict.status === 'unhealthy')) {
    const index = progress.stepIndex;
    const weightPercent = progress.weightPercent ?? release.steps[index]?.weightPercent ?? 0;
    const startedAt = progress.startedAt ?? new Date().toISOString();
    await ledger().recordStep({
      ...recordRef(execution, release.endpointName),
      step: { index, weightPercent, startedAt, endedAt: new Date().toISOString(), verdict },
    });
    if (verdict.status !== 'unhealthy') {
      await publishLifecycleEvents([
        releaseEvent(LIFECYCLE_DETAIL_TYPES.stepCompleted, release, execution, { step: { index, weightPercent, verdict, stepsTotal: release.steps.length } }),
      ]);
    }
  }
  return {
    stepIndex: progress.stepIndex,
    checksDone,
    verdict,
    alarms,
    bakeComplete,
    moreSteps: progress.isLastStep !== true,
  };
}

export const handler = lambdaHandler(evaluateAlarms);
