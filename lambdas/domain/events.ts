/**
 * Lifecycle events: what the release manager tells the world on the event bus. The
 * detail schema is versioned and documented in docs/events.md; consumers deduplicate
 * on `detail.eventId`, which is the same for a retried task's repeat of one event.
 */
import { z } from 'zod';
import { VerdictSchema } from '../contracts';

export const EVENT_SOURCE = 'sagemaker-release-manager';

export const LIFECYCLE_DETAIL_TYPES = {
  started: 'Release Started',
  stepCompleted: 'Release Step Completed',
  approvalRequested: 'Release Approval Requested',
  succeeded: 'Release Succeeded',
  rolledBack: 'Release Rolled Back',
  failed: 'Release Failed',
  superseded: 'Release Superseded',
  recovered: 'Release Recovered',
  nothingToDo: 'Release Not Needed',
} as const;
export type LifecycleDetailType = (typeof LIFECYCLE_DETAIL_TYPES)[keyof typeof LIFECYCLE_DETAIL_TYPES];

export const LifecycleDetailSchema = z.object({
  /** Schema version of this detail. */
  schemaVersion: z.literal('1'),
  /** Stable per event: releaseId or execution name, the detail type and the step. Deduplicate on it. */
  eventId: z.string(),
  endpointName: z.string(),
  targetName: z.string().optional(),
  executionArn: z.string(),
  releaseId: z.string().optional(),
  modelPackageArn: z.string().optional(),
  modelVersion: z.number().int().optional(),
  requestedBy: z.string().optional(),
  /** The ledger status after the event: running, succeeded, rolled-back, failed, superseded, nothing-to-do. */
  status: z.string(),
  reason: z.string().optional(),
  step: z.object({ index: z.number().int(), weightPercent: z.number(), verdict: VerdictSchema.optional(), stepsTotal: z.number().int().optional() }).optional(),
  approval: z.object({ timeoutSeconds: z.number().int(), expiresAt: z.string() }).optional(),
  /** When the release manager saw it happen (ISO). */
  at: z.string(),
});
export type LifecycleDetail = z.infer<typeof LifecycleDetailSchema>;

export interface LifecycleEvent {
  readonly detailType: LifecycleDetailType;
  readonly detail: LifecycleDetail;
}

export function lifecycleEvent(detailType: LifecycleDetailType, detail: Omit<LifecycleDetail, 'schemaVersion' | 'eventId'>): LifecycleEvent {
  const subject = detail.releaseId ? `${detail.releaseId}:${detail.executionArn.split(':').pop()}` : detail.executionArn.split(':').pop();
  const eventId = [subject, detailType.toLowerCase().replace(/ /g, '-'), detail.step ? `step-${detail.step.index}` : undefined].filter(Boolean).join(':');
  return { detailType, detail: LifecycleDetailSchema.parse({ schemaVersion: '1', eventId, ...detail }) };
}
