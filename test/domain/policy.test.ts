import fc from 'fast-check';
import { bakeSchedule, planSteps, strategySteps, worstCaseReleaseSeconds } from '../../lambdas/domain/policy';

describe('traffic steps', () => {
  it('It should shift all at once for a blue/green release', () => {
    expect(strategySteps({ type: 'all-at-once', bakeSeconds: 900 })).toEqual([{ weightPercent: 100, bakeSeconds: 900 }]);
  });

  it('It should finish a canary at 100 % with the final bake', () => {
    expect(
      strategySteps({
        type: 'canary',
        steps: [
          { weightPercent: 10, bakeSeconds: 300 },
          { weightPercent: 50, bakeSeconds: 600 },
        ],
        finalBakeSeconds: 120,
      }),
    ).toEqual([
      { weightPercent: 10, bakeSeconds: 300 },
      { weightPercent: 50, bakeSeconds: 600 },
      { weightPercent: 100, bakeSeconds: 120 },
    ]);
  });

  it('It should cap the last linear step at 100 %', () => {
    expect(strategySteps({ type: 'linear', stepPercent: 30, intervalSeconds: 60 }).map((s) => s.weightPercent)).toEqual([30, 60, 90, 100]);
  });

  it('It should always end at 100 % with strictly increasing weights (property)', () => {
    const canary = fc
      .uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 8 })
      .map((weights) => ({ type: 'canary' as const, steps: [...weights].sort((a, b) => a - b).map((weightPercent) => ({ weightPercent, bakeSeconds: 60 })) }));
    const linear = fc.integer({ min: 1, max: 99 }).map((stepPercent) => ({ type: 'linear' as const, stepPercent, intervalSeconds: 60 }));
    fc.assert(
      fc.property(fc.oneof(canary, linear), (strategy) => {
        const weights = strategySteps(strategy).map((s) => s.weightPercent);
        expect(weights[weights.length - 1]).toBe(100);
        weights.forEach((w, i) => i > 0 && expect(w).toBeGreaterThan(weights[i - 1]!));
      }),
    );
  });
});

describe('bake schedule', () => {
  it('It should check once, immediately, for a zero bake', () => {
    expect(bakeSchedule(0, 60)).toEqual({ checks: 1, checkIntervalSeconds: 0 });
  });

  it('It should cover the whole bake with checks no further apart than the check interval (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 * 24 * 3600 }), fc.integer({ min: 10, max: 3600 }), (bake, interval) => {
        const { checks, checkIntervalSeconds } = bakeSchedule(bake, interval);
        expect(checks * checkIntervalSeconds).toBeGreaterThanOrEqual(bake);
        expect(checkIntervalSeconds).toBeLessThanOrEqual(interval);
        expect((checks - 1) * checkIntervalSeconds).toBeLessThan(bake);
      }),
    );
  });

  it('It should bound the execution by every wait and bake', () => {
    const target = {
      strategy: { type: 'all-at-once' as const, bakeSeconds: 600 },
      alarmCheckSeconds: 60,
      endpointWait: { timeoutSeconds: 3600, pollSeconds: 30 },
    };
    expect(planSteps(target)).toEqual([{ weightPercent: 100, bakeSeconds: 600, checks: 10, checkIntervalSeconds: 60 }]);
    // Waits: start, deploy, 1 step, promote, 3 rollback changes; bake 600 s; retries 600 s for each of 4 tasks.
    expect(worstCaseReleaseSeconds(target)).toBe(3600 * 7 + 600 + 4 * 600);
  });
});
