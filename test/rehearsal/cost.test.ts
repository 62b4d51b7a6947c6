// Cost estimate of a rehearsed release: the arithmetic of each line, the options, the
// assumptions it states, and its refusal of nonsense input.
import fc from 'fast-check';
import { DEFAULT_PRICES, estimateCost, formatUsd } from '../../rehearsal/cost';
import type { Usage } from '../../rehearsal/model';

const USAGE: Usage = { stateTransitions: 1_000, lambdaInvocations: 1_000_000, lambdaMemoryMb: 256, sagemakerCalls: 50, cloudwatchCalls: 2_000 };

function line(usage: Usage, prefix: string, options?: Parameters<typeof estimateCost>[1]) {
  const found = estimateCost(usage, options).lines.find((l) => l.item.startsWith(prefix));
  if (!found) throw new Error(`no line starting with ${prefix}`);
  return found;
}

describe('estimateCost', () => {
  it('It should price each item of a known usage at the list prices', () => {
    const estimate = estimateCost(USAGE);

    // 1,000 transitions at $0.025 per 1,000.
    expect(line(USAGE, 'Step Functions').usd).toBeCloseTo(0.025, 12);
    // 1M requests at $0.20 per 1M.
    expect(line(USAGE, 'Lambda requests').usd).toBeCloseTo(0.2, 12);
    // 1M invocations x 0.1 s x 0.25 GB = 25,000 GB-s at $0.0000133334.
    expect(line(USAGE, 'Lambda compute')).toMatchObject({ quantity: 25_000, unit: 'GB-s' });
    expect(line(USAGE, 'Lambda compute').usd).toBeCloseTo(0.333335, 12);
    // 2,000 requests at $0.01 per 1,000.
    expect(line(USAGE, 'CloudWatch').usd).toBeCloseTo(0.02, 12);
    expect(line(USAGE, 'SageMaker')).toMatchObject({ quantity: 50, usd: 0 });
    expect(estimate.totalUsd).toBeCloseTo(0.578335, 12);
  });

  it('It should bill the given Lambda duration and memory', () => {
    const compute = line({ ...USAGE, lambdaInvocations: 10, lambdaMemoryMb: 1024 }, 'Lambda compute', { lambdaBilledMsPerInvocation: 1_500 });

    expect(compute.quantity).toBeCloseTo(15, 12);
    expect(compute.usd).toBeCloseTo(15 * 0.0000133334, 15);
    expect(compute.item).toContain('1024 MB, 1500 ms');
  });

  it('It should use the given prices and say they are not list prices', () => {
    const estimate = estimateCost(USAGE, { prices: { stepFunctionsPerTransition: 0.0000279, lambdaPerRequest: undefined } });

    expect(line(USAGE, 'Step Functions', { prices: { stepFunctionsPerTransition: 0.0000279 } }).usd).toBeCloseTo(0.0279, 12);
    expect(line(USAGE, 'Lambda requests', { prices: { lambdaPerRequest: undefined } }).usd).toBeCloseTo(0.2, 12);
    expect(estimate.assumptions.find((a) => a.startsWith('Step Functions'))).toBe(
      'Step Functions Standard: $0.0279 per 1,000 state transitions, retries included (given, not a list price)',
    );
  });

  it('It should state its prices with their sources, the date checked and what it leaves out', () => {
    const text = estimateCost(USAGE).assumptions.join('\n');

    expect(text).toContain('$0.025 per 1,000 state transitions');
    expect(text).toContain('$0.20 per 1M requests');
    expect(text).toContain('$0.0000133334 per GB-second');
    expect(text).toContain('$0.01 per 1,000 API requests');
    expect(text).toContain('https://aws.amazon.com/step-functions/pricing/');
    expect(text).toContain('https://aws.amazon.com/lambda/pricing/');
    expect(text).toContain('https://aws.amazon.com/cloudwatch/pricing/');
    expect(text).toMatch(/checked \d{4}-\d{2}-\d{2}/);
    expect(text).toContain('free tiers are ignored');
    expect(text).toContain('100 ms per invocation, assumed');
    expect(text).toContain('SageMaker control-plane API calls are free');
    expect(text).toContain('DescribeAlarms');
  });

  it('It should export the list prices per unit', () => {
    expect(DEFAULT_PRICES.stepFunctionsPerTransition * 1_000).toBeCloseTo(0.025, 12);
    expect(DEFAULT_PRICES.lambdaPerRequest * 1_000_000).toBeCloseTo(0.2, 12);
    expect(DEFAULT_PRICES.lambdaArmPerGbSecond).toBe(0.0000133334);
    expect(DEFAULT_PRICES.cloudwatchPerRequest * 1_000).toBeCloseTo(0.01, 12);
    expect(Object.isFrozen(DEFAULT_PRICES)).toBe(true);
  });

  it('It should refuse negative or non-finite usage, durations and prices', () => {
    expect(() => estimateCost({ ...USAGE, stateTransitions: -1 })).toThrow(/usage.stateTransitions/);
    expect(() => estimateCost({ ...USAGE, cloudwatchCalls: Number.NaN })).toThrow(RangeError);
    expect(() => estimateCost(USAGE, { lambdaBilledMsPerInvocation: Number.POSITIVE_INFINITY })).toThrow(/lambdaBilledMsPerInvocation/);
    expect(() => estimateCost(USAGE, { prices: { lambdaPerRequest: -0.1 } })).toThrow(/prices.lambdaPerRequest/);
  });

  it('It should total its lines and grow in proportion to usage', () => {
    const count = fc.integer({ min: 0, max: 1_000_000 });
    fc.assert(
      fc.property(
        fc.record({
          stateTransitions: count,
          lambdaInvocations: count,
          lambdaMemoryMb: fc.integer({ min: 128, max: 10_240 }),
          sagemakerCalls: count,
          cloudwatchCalls: count,
        }),
        (usage) => {
          const estimate = estimateCost(usage);
          const doubled = estimateCost({
            ...usage,
            stateTransitions: 2 * usage.stateTransitions,
            lambdaInvocations: 2 * usage.lambdaInvocations,
            cloudwatchCalls: 2 * usage.cloudwatchCalls,
          });
          const sum = estimate.lines.reduce((total, l) => total + l.usd, 0);
          expect(estimate.totalUsd).toBeCloseTo(sum, 9);
          expect(doubled.totalUsd).toBeCloseTo(2 * estimate.totalUsd, 9);
          expect(estimate.lines.every((l) => l.usd >= 0)).toBe(true);
        },
      ),
    );
  });
});

describe('formatUsd', () => {
  it('It should show cents from a cent up and two significant digits below', () => {
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(1.234)).toBe('$1.23');
    expect(formatUsd(0.01)).toBe('$0.01');
    expect(formatUsd(0.003221)).toBe('$0.0032');
    expect(formatUsd(0.0000133334)).toBe('$0.000013');
  });
});
