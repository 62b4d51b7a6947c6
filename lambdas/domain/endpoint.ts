/**
 * Reading an endpoint back after a change. SageMaker can revert a failed update and
 * report InService, so "InService" alone proves nothing: the config name and every
 * variant's CurrentWeight must be what was asked for.
 */
import type { CheckOutput, EndpointExpectation, ObservedEndpoint } from '../contracts';

/** Endpoint statuses that end by themselves: wait and read again. Anything else but InService needs a person. */
export const SETTLING_STATUSES: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);
/** Shares may differ by float rounding after SageMaker normalises weights. */
const WEIGHT_TOLERANCE_PERCENT = 0.01;

/** Each variant's share of traffic in percent, from its CurrentWeight. */
export function trafficShares(variants: ObservedEndpoint['variants'], which: 'currentWeight' | 'desiredWeight' = 'currentWeight'): Record<string, number> {
  const total = variants.reduce((sum, v) => sum + (v[which] ?? 0), 0);
  return Object.fromEntries(variants.map((v) => [v.name, total > 0 ? ((v[which] ?? 0) / total) * 100 : 0]));
}

/** Do the variants carry exactly these shares (percent)? Same variant set, each share within rounding. */
export function sharesMatch(
  variants: ObservedEndpoint['variants'],
  weights: Record<string, number>,
  which: 'currentWeight' | 'desiredWeight' = 'currentWeight',
): boolean {
  const shares = trafficShares(variants, which);
  const expectedNames = Object.keys(weights).sort();
  const observedNames = Object.keys(shares).sort();
  return (
    expectedNames.length === observedNames.length &&
    expectedNames.every((n, i) => n === observedNames[i] && Math.abs((shares[n] ?? 0) - (weights[n] ?? 0)) <= WEIGHT_TOLERANCE_PERCENT)
  );
}

export function describeObserved(observed: ObservedEndpoint | undefined): string {
  if (!observed) return 'endpoint does not exist';
  const shares = trafficShares(observed.variants);
  const variants = observed.variants.map((v) => `${v.name}=${formatPercent(shares[v.name] ?? 0)}`).join(', ');
  return [
    `status ${observed.status}`,
    observed.configName ? `config ${observed.configName}` : undefined,
    variants ? `traffic ${variants}` : undefined,
    observed.failureReason ? `FailureReason: ${observed.failureReason}` : undefined,
  ]
    .filter(Boolean)
    .join('; ');
}

export function formatPercent(value: number): string {
  return `${Number.isInteger(value) ? value : value.toFixed(1)}%`;
}

/**
 * Compares what DescribeEndpoint returned with the expectation.
 * `attempt` counts polls for this expectation, including this one.
 */
export function judgeEndpoint(expect: EndpointExpectation, observed: ObservedEndpoint | undefined, attempt: number, maxPolls: number): CheckOutput {
  const base = { for: expect.id, attempt, observed: observed ?? null };
  const verdict = compare(expect, observed);
  if (verdict.outcome !== 'in-progress') return { ...base, ...verdict };
  if (attempt >= maxPolls) {
    return { ...base, outcome: 'failed', reason: `timed out after ${attempt} polls waiting for ${expect.id}: ${describeObserved(observed)}` };
  }
  return { ...base, ...verdict };
}

function compare(expect: EndpointExpectation, observed: ObservedEndpoint | undefined): Pick<CheckOutput, 'outcome' | 'reason'> {
  if (!observed) {
    return expect.absent
      ? { outcome: 'as-expected', reason: `endpoint ${expect.endpointName} no longer exists` }
      : { outcome: 'failed', reason: `endpoint ${expect.endpointName} does not exist` };
  }
  if (SETTLING_STATUSES.has(observed.status)) {
    return { outcome: 'in-progress', reason: `endpoint is ${observed.status}` };
  }
  if (expect.absent) {
    return { outcome: 'failed', reason: `expected endpoint ${expect.endpointName} to be deleted, but it is ${describeObserved(observed)}` };
  }
  if (observed.status !== 'InService') {
    return { outcome: 'failed', reason: `endpoint ${expect.endpointName} is ${describeObserved(observed)}` };
  }
  if (expect.configName && observed.configName !== expect.configName) {
    return {
      outcome: 'failed',
      reason: `endpoint ${expect.endpointName} is InService with config ${observed.configName}, not ${expect.configName}: SageMaker reverted the update (${describeObserved(observed)})`,
    };
  }
  const weights = expect.weights;
  if (weights && !sharesMatch(observed.variants, weights)) {
    const wanted = Object.keys(weights)
      .sort()
      .map((n) => `${n}=${formatPercent(weights[n]!)}`)
      .join(', ');
    return { outcome: 'failed', reason: `endpoint ${expect.endpointName} is InService but traffic is not ${wanted} (${describeObserved(observed)})` };
  }
  return { outcome: 'as-expected', reason: `endpoint ${expect.endpointName} is InService as expected (${describeObserved(observed)})` };
}
