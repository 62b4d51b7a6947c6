/**
 * Turns a target's strategy into the concrete traffic steps of a release, and a bake
 * into a number of alarm checks. Every release ends with the candidate at 100 %.
 */
import type { StrategyConfig, TargetConfig } from './config';

export interface PlannedStep {
  /** Candidate weight in percent after the shift. */
  readonly weightPercent: number;
  readonly bakeSeconds: number;
  /** Alarm checks during the bake; the last one is at the end of the bake. */
  readonly checks: number;
  /** Seconds between checks; checks x interval covers the bake. */
  readonly checkIntervalSeconds: number;
}

export function strategySteps(strategy: StrategyConfig): Array<{ weightPercent: number; bakeSeconds: number }> {
  switch (strategy.type) {
    case 'all-at-once':
      return [{ weightPercent: 100, bakeSeconds: strategy.bakeSeconds }];
    case 'canary': {
      const steps = strategy.steps.map((s) => ({ weightPercent: s.weightPercent, bakeSeconds: s.bakeSeconds }));
      const last = steps[steps.length - 1]!;
      if (last.weightPercent < 100) {
        steps.push({ weightPercent: 100, bakeSeconds: strategy.finalBakeSeconds ?? last.bakeSeconds });
      }
      return steps;
    }
    case 'linear': {
      const steps: Array<{ weightPercent: number; bakeSeconds: number }> = [];
      for (let weight = strategy.stepPercent; ; weight += strategy.stepPercent) {
        steps.push({ weightPercent: Math.min(weight, 100), bakeSeconds: strategy.intervalSeconds });
        if (weight >= 100) return steps;
      }
    }
  }
}

/** Splits a bake into checks no further apart than `alarmCheckSeconds`. A zero bake is one immediate check. */
export function bakeSchedule(bakeSeconds: number, alarmCheckSeconds: number): { checks: number; checkIntervalSeconds: number } {
  if (bakeSeconds <= 0) return { checks: 1, checkIntervalSeconds: 0 };
  const checks = Math.max(1, Math.ceil(bakeSeconds / alarmCheckSeconds));
  return { checks, checkIntervalSeconds: Math.ceil(bakeSeconds / checks) };
}

export function planSteps(target: Pick<TargetConfig, 'strategy' | 'alarmCheckSeconds'>): PlannedStep[] {
  return strategySteps(target.strategy).map((step) => ({ ...step, ...bakeSchedule(step.bakeSeconds, target.alarmCheckSeconds) }));
}

/** How many DescribeEndpoint polls fit in the endpoint wait timeout. */
export function maxEndpointPolls(target: Pick<TargetConfig, 'endpointWait'>): number {
  return Math.max(1, Math.ceil(target.endpointWait.timeoutSeconds / target.endpointWait.pollSeconds));
}

/** A rollback may need three changes (weights, config, delete), each with its own endpoint wait. */
export const ROLLBACK_CHANGES = 3;
/** Upper bound of the Retry intervals one task can spend (see lib/retry-policies.ts). */
const RETRY_ALLOWANCE_SECONDS = 600;

/**
 * The longest a release of this target can take when every wait runs to its limit:
 * the waits before and after each mutation, every bake, and a rollback. The state
 * machine's execution timeout is derived from it.
 */
export function worstCaseReleaseSeconds(
  target: Pick<TargetConfig, 'strategy' | 'alarmCheckSeconds' | 'endpointWait'> & Partial<Pick<TargetConfig, 'approval' | 'lock'>>,
): number {
  const steps = planSteps(target);
  const wait = target.endpointWait.timeoutSeconds;
  const bakes = steps.reduce((sum, s) => sum + s.checks * s.checkIntervalSeconds, 0);
  // Waits: endpoint busy at start, deploy, each step, promote; the rollback may wait for
  // up to three changes (weights, config, delete), each with its own endpoint wait.
  const waits = wait * (1 + 1 + steps.length + 1 + ROLLBACK_CHANGES);
  // Retry delays: at most ~400 s per task for a busy endpoint or throttling, forward and back.
  const retries = (steps.length + 3) * RETRY_ALLOWANCE_SECONDS;
  // The lock: waiting for newer approvals, then for other releases of the endpoint, and a recovery of an interrupted one.
  const lock = target.lock ? target.lock.settleSeconds + target.lock.waitTimeoutSeconds + ROLLBACK_CHANGES * wait : 0;
  return waits + bakes + retries + (target.approval?.timeoutSeconds ?? 0) + lock;
}
