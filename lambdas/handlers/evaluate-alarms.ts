/**
 * Task "Check the alarms": one health check during a bake. Reads the target's alarms
 * and gives the verdict; counts checks so the workflow knows when the bake is over.
 */
import { EvaluateInputSchema, type EvaluateOutput } from '../contracts';
import { readAlarms } from '../aws/cloudwatch';
import { judgeAlarms } from '../domain/verdict';
import { lambdaHandler, logger, parseTaskInput } from './common';

export async function evaluateAlarms(event: unknown): Promise<EvaluateOutput> {
  const { release, progress, previous } = parseTaskInput(EvaluateInputSchema, event);
  const checksDone = previous.stepIndex === progress.stepIndex ? previous.checksDone + 1 : 1;
  const alarms = await readAlarms(release.alarms);
  const verdict = judgeAlarms(alarms, release.onInsufficientData);
  if (verdict.status !== 'healthy') logger.warn('Bake check not healthy', { verdict, alarms });
  return {
    stepIndex: progress.stepIndex,
    checksDone,
    verdict,
    alarms,
    bakeComplete: checksDone >= (progress.checks ?? 1),
    moreSteps: progress.isLastStep !== true,
  };
}

export const handler = lambdaHandler(evaluateAlarms);
