/**
 * What one release would cost in AWS, from what its rehearsal used: Step Functions
 * state transitions, Lambda requests and compute, CloudWatch API requests. List prices
 * of us-east-1 (the same in eu-west-1 for every item here), free tiers ignored, so the
 * figure is what a release costs in an account that already uses its free tier.
 *
 * Prices checked on 2026-11-23:
 * - Step Functions Standard: $0.025 per 1,000 state transitions, retries included
 *   (us-east-1 and eu-west-1), https://aws.amazon.com/step-functions/pricing/
 * - Lambda: $0.20 per 1M requests; arm64 duration $0.0000133334 per GB-second for the
 *   first 7.5 billion GB-seconds a month, https://aws.amazon.com/lambda/pricing/ (the
 *   page renders its rate table client-side; the rates were read from copies of it)
 * - CloudWatch: API requests $0.01 per 1,000 requests; GetMetricData $0.01 per 1,000
 *   metrics requested, https://aws.amazon.com/cloudwatch/pricing/
 * - SageMaker: control-plane API calls (CreateModel, UpdateEndpoint, DescribeEndpoint, ...)
 *   are not charged; instances are, and are outside this estimate.
 */
import type { CostEstimate, CostLine, Usage } from './model';

export interface Prices {
  /** USD per Step Functions Standard state transition. */
  readonly stepFunctionsPerTransition: number;
  /** USD per Lambda request. */
  readonly lambdaPerRequest: number;
  /** USD per GB-second of Lambda duration on arm64. */
  readonly lambdaArmPerGbSecond: number;
  /** USD per CloudWatch API request charged per request (DescribeAlarms is all the release manager calls). */
  readonly cloudwatchPerRequest: number;
}

/** List prices in us-east-1 and eu-west-1, checked on PRICES_CHECKED_ON (sources in the file header). */
export const DEFAULT_PRICES: Readonly<Prices> = Object.freeze({
  // $0.025 per 1,000 state transitions: https://aws.amazon.com/step-functions/pricing/
  stepFunctionsPerTransition: 0.025 / 1_000,
  // $0.20 per 1M requests: https://aws.amazon.com/lambda/pricing/
  lambdaPerRequest: 0.2 / 1_000_000,
  // Arm, first 7.5 billion GB-s a month: https://aws.amazon.com/lambda/pricing/
  lambdaArmPerGbSecond: 0.0000133334,
  // $0.01 per 1,000 requests: https://aws.amazon.com/cloudwatch/pricing/
  cloudwatchPerRequest: 0.01 / 1_000,
});

export const PRICES_CHECKED_ON = '2026-11-23';

/** The task functions do a few SDK calls each; the rehearsal does not measure their duration. */
export const DEFAULT_LAMBDA_BILLED_MS_PER_INVOCATION = 100;

export interface CostOptions {
  /** Billed duration of one task invocation, ms. @default 100 */
  readonly lambdaBilledMsPerInvocation?: number;
  /** Prices to use instead of the defaults, e.g. for another region. @default DEFAULT_PRICES */
  readonly prices?: Partial<Prices>;
}

const SOURCES: Readonly<Record<keyof Prices, string>> = {
  stepFunctionsPerTransition: 'https://aws.amazon.com/step-functions/pricing/',
  lambdaPerRequest: 'https://aws.amazon.com/lambda/pricing/',
  lambdaArmPerGbSecond: 'https://aws.amazon.com/lambda/pricing/',
  cloudwatchPerRequest: 'https://aws.amazon.com/cloudwatch/pricing/',
};

export function estimateCost(usage: Usage, options: CostOptions = {}): CostEstimate {
  for (const [name, value] of Object.entries(usage)) requireNonNegative(`usage.${name}`, value);
  const prices: Prices = { ...DEFAULT_PRICES, ...definedOnly(options.prices ?? {}) };
  for (const [name, value] of Object.entries(prices)) requireNonNegative(`prices.${name}`, value);
  const billedMs = options.lambdaBilledMsPerInvocation ?? DEFAULT_LAMBDA_BILLED_MS_PER_INVOCATION;
  requireNonNegative('lambdaBilledMsPerInvocation', billedMs);

  const gbSeconds = usage.lambdaInvocations * (billedMs / 1000) * (usage.lambdaMemoryMb / 1024);
  const lines: CostLine[] = [
    {
      item: 'Step Functions Standard state transitions',
      quantity: usage.stateTransitions,
      unit: 'transitions',
      usd: usage.stateTransitions * prices.stepFunctionsPerTransition,
    },
    { item: 'Lambda requests', quantity: usage.lambdaInvocations, unit: 'requests', usd: usage.lambdaInvocations * prices.lambdaPerRequest },
    {
      item: `Lambda compute (arm64, ${usage.lambdaMemoryMb} MB, ${billedMs} ms per invocation)`,
      quantity: gbSeconds,
      unit: 'GB-s',
      usd: gbSeconds * prices.lambdaArmPerGbSecond,
    },
    { item: 'CloudWatch API requests', quantity: usage.cloudwatchCalls, unit: 'requests', usd: usage.cloudwatchCalls * prices.cloudwatchPerRequest },
    { item: 'SageMaker control-plane API calls', quantity: usage.sagemakerCalls, unit: 'calls', usd: 0 },
  ];
  const totalUsd = lines.reduce((sum, line) => sum + line.usd, 0);

  const price = (key: keyof Prices, text: string) =>
    prices[key] === DEFAULT_PRICES[key] ? `${text} (${SOURCES[key]}, checked ${PRICES_CHECKED_ON})` : `${text} (given, not a list price)`;
  const assumptions = [
    'List prices of us-east-1 (N. Virginia), the same as eu-west-1 (Ireland) for every item here; free tiers are ignored.',
    price(
      'stepFunctionsPerTransition',
      `Step Functions Standard: $${round(prices.stepFunctionsPerTransition * 1_000)} per 1,000 state transitions, retries included`,
    ),
    price('lambdaPerRequest', `Lambda requests: $${round(prices.lambdaPerRequest * 1_000_000)} per 1M requests`),
    price('lambdaArmPerGbSecond', `Lambda compute on arm64 (the task functions' architecture): $${round(prices.lambdaArmPerGbSecond)} per GB-second`),
    `Lambda billed duration: ${billedMs} ms per invocation, assumed (the rehearsal runs the handlers locally and does not measure it); ` +
      `memory ${usage.lambdaMemoryMb} MB as synthesized.`,
    price(
      'cloudwatchPerRequest',
      `CloudWatch: $${round(prices.cloudwatchPerRequest * 1_000)} per 1,000 API requests, applied to every CloudWatch call. ` +
        'The release manager only calls DescribeAlarms, which the pricing page does not list by name, so this is an upper bound; ' +
        'it never calls GetMetricData, which would be charged per metric requested',
    ),
    'SageMaker control-plane API calls are free; endpoint instance hours (the candidate variant while it runs) are not in this estimate.',
    'Not included: CloudWatch alarms and logs, X-Ray traces, data transfer.',
  ];
  return { lines, totalUsd, assumptions };
}

/** Dollars for people: cents from one cent up, two significant digits below, "$0" for nothing. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  if (usd < 0.00000001) return '< $0.00000001';
  return `$${usd.toFixed(1 - Math.floor(Math.log10(usd)))}`;
}

function requireNonNegative(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
}

function definedOnly(prices: Partial<Prices>): Partial<Prices> {
  return Object.fromEntries(Object.entries(prices).filter(([, value]) => value !== undefined));
}

/** Prices as the pricing pages write them, without binary floating point noise. */
function round(value: number): string {
  const [whole, decimals = ''] = String(Number(value.toPrecision(10))).split('.');
  return `${whole}.${decimals.padEnd(2, '0')}`;
}
