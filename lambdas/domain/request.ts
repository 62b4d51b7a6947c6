/**
 * Reads the execution input: a SageMaker "Model Package State Change" event from
 * EventBridge, or the documented manual input. Anything else is rejected with the
 * field that is wrong, before any AWS call.
 */
import { type z } from 'zod';
import { ManualReleaseInputSchema, ModelPackageStateChangeEventSchema } from '../contracts';
import { formatIssues } from './config';
import { InvalidReleaseInputError } from './errors';

export interface ReleaseRequestSummary {
  /** `event` when EventBridge started the execution, `manual` for an operator's input. */
  readonly origin: 'event' | 'manual';
  readonly modelPackageArn: string;
  /** From the event; a manual input names the package only. */
  readonly modelPackageGroupName?: string;
}

export function parseReleaseRequest(input: unknown): ReleaseRequestSummary {
  if (input && typeof input === 'object' && 'action' in input) {
    const manual = ManualReleaseInputSchema.safeParse(input);
    if (!manual.success) throw invalid('manual input', manual.error);
    return { origin: 'manual', modelPackageArn: manual.data.modelPackageArn };
  }
  const event = ModelPackageStateChangeEventSchema.safeParse(input);
  if (!event.success) throw invalid('SageMaker Model Package State Change event', event.error);
  return { origin: 'event', modelPackageArn: event.data.detail.ModelPackageArn, modelPackageGroupName: event.data.detail.ModelPackageGroupName };
}

function invalid(what: string, error: z.ZodError): InvalidReleaseInputError {
  return new InvalidReleaseInputError(
    `Invalid execution input: expected a ${what} or {"action":"release","modelPackageArn":"..."}. Problems: ${formatIssues(error).join('; ')}`,
  );
}
