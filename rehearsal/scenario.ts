/**
 * A rehearsal scenario: the endpoint as it is before the release, the model version
 * being released, and the faults to inject (alarms firing at a given step, a silent
 * revert, a busy endpoint, throttling). Validated with zod; errors name the field.
 */
import { z } from 'zod';
import { formatIssues } from '../lambdas/domain/config';

const AlarmStateSchema = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

export const FaultSchema = z.discriminatedUnion('type', [
  z.strictObject({
    /** An alarm changes state once traffic has shifted to the given step (1-based), or at a virtual time after the start. */
    type: z.literal('alarm'),
    alarm: z.string().min(1),
    state: AlarmStateSchema.default('ALARM'),
    atStep: z.number().int().min(1).optional(),
    afterSeconds: z.number().int().min(0).optional(),
    reason: z.string().optional(),
  }),
  z.strictObject({
    /** A configured alarm that does not exist in CloudWatch. */
    type: z.literal('missing-alarm'),
    alarm: z.string().min(1),
  }),
  z.strictObject({
    /** Updates to a config with the candidate fail; SageMaker reverts to the old config and reports InService. */
    type: z.literal('candidate-never-healthy'),
    reportFailureReason: z.boolean().default(false),
  }),
  z.strictObject({
    /** The endpoint is busy (for example another update) when the release starts. */
    type: z.literal('endpoint-busy'),
    status: z.enum(['Updating', 'Creating', 'SystemUpdating']).default('Updating'),
    forSeconds: z.number().int().min(1),
  }),
  z.strictObject({
    /** The next `times` calls of a SageMaker or CloudWatch operation are throttled. */
    type: z.literal('throttle'),
    service: z.enum(['sagemaker', 'cloudwatch']).default('sagemaker'),
    operation: z.string().min(1),
    times: z.number().int().min(1).max(100),
  }),
]);
export type Fault = z.infer<typeof FaultSchema>;

export const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Target name from the config. @default the first target */
  target: z.string().optional(),
  /** The version live before the release; null means the endpoint does not exist yet. @default 1 */
  baselineVersion: z.number().int().min(1).nullable().default(1),
  candidate: z
    .strictObject({
      version: z.number().int().min(1).default(2),
      status: z.enum(['Approved', 'Rejected', 'PendingManualApproval']).default('Approved'),
    })
    .default({ version: 2, status: 'Approved' }),
  /** How the execution is started: the approval event, the manual input, or a raw input (for malformed-input rehearsals). */
  start: z.union([z.enum(['event', 'manual']), z.strictObject({ raw: z.unknown() })]).default('event'),
  faults: z.array(FaultSchema).default([]),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

export function parseScenario(document: unknown, source = 'scenario'): Scenario {
  const result = ScenarioSchema.safeParse(document);
  if (!result.success) throw new Error(`Invalid ${source}:\n  ${formatIssues(result.error).join('\n  ')}`);
  return result.data;
}
