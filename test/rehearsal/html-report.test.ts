// HTML report of a rehearsal: self-contained (nothing fetched from elsewhere), user data
// escaped everywhere, one SVG per panel with the markers on it, the outcome, the numbers,
// the cost and the timeline.
import { estimateCost } from '../../rehearsal/cost';
import { escapeHtml, renderHtmlReport } from '../../rehearsal/html-report';
import type { ReportInput, SeriesPoint, Usage, VariantMinute } from '../../rehearsal/model';

function variant(name: string, invocations: number, errors5xx: number, p99LatencyMs: number): VariantMinute {
  return { variantName: name, sharePercent: 0, invocations, errors4xx: 0, errors5xx, p99LatencyMs };
}

const USAGE: Usage = { stateTransitions: 118, lambdaInvocations: 41, lambdaMemoryMb: 256, sagemakerCalls: 63, cloudwatchCalls: 22 };

/** A canary rolled back at its second step (25%), 30 minutes of traffic. */
function report(overrides: Partial<ReportInput> = {}): ReportInput {
  const series: SeriesPoint[] = Array.from({ length: 30 }, (_, i) => {
    const minute = i + 1;
    const share = minute <= 5 || minute > 24 ? undefined : minute <= 15 ? 10 : 25;
    const failing = minute >= 19 && minute <= 24;
    return {
      at: minute * 60,
      candidateShare: share,
      candidate: share === undefined ? undefined : variant('candidate', share * 10, failing ? 20 : 0, failing ? 400 : 120),
      baseline: variant('AllTraffic', 1_000 - (share ?? 0) * 10, 3, 115),
    };
  });
  return {
    scenarioName: 'canary-rollback',
    description: 'The candidate fails at 25%.',
    target: 'fraud-scoring/prod',
    status: 'FAILED',
    error: 'ReleaseRolledBack',
    cause: 'alarm fraud-scoring-prod-5xx-errors is in ALARM',
    virtualSeconds: 1_500,
    wallMilliseconds: 2_345,
    usage: USAGE,
    cost: estimateCost(USAGE),
    series,
    markers: [
      { at: 900, kind: 'step', label: 'step 2: 25%' },
      { at: 23 * 60 + 12, kind: 'alarm', label: 'fraud-scoring-prod-5xx-errors ALARM' },
      { at: 24 * 60 + 3, kind: 'rollback', label: 'rollback started' },
    ],
    timeline: [
      { at: 0, state: 'Plan the release', kind: 'task', detail: 'canary 10% then 25%', weights: undefined },
      { at: 900, state: 'Shift traffic', kind: 'task', detail: 'step 2', weights: { AllTraffic: 75, candidate: 25 } },
      { at: 1_443, state: 'Roll back', kind: 'error', detail: 'alarm in ALARM', weights: { AllTraffic: 100 } },
    ],
    ...overrides,
  };
}

function svgs(html: string): string[] {
  return html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
}

describe('renderHtmlReport', () => {
  it('It should escape a script in the scenario name and everywhere else user data goes', () => {
    const evil = '<script>alert("x")</script>';
    const html = renderHtmlReport(
      report({
        scenarioName: evil,
        description: evil,
        target: evil,
        error: evil,
        cause: evil,
        markers: [{ at: 60, kind: 'alarm', label: evil }],
        timeline: [{ at: 0, state: evil, kind: evil, detail: evil, weights: { [evil]: 100 } }],
      }),
    );

    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('<title>Rehearsal: &lt;script&gt;');
  });

  it('It should escape the five characters that matter in HTML', () => {
    expect(escapeHtml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f');
  });

  it('It should draw one SVG per panel', () => {
    const charts = svgs(renderHtmlReport(report()));

    expect(charts).toHaveLength(3);
    expect(charts[0]).toContain('aria-label="Candidate traffic share"');
    expect(charts[0]).toContain('class="candidate area"');
    expect(charts[1]).toContain('aria-label="5XX error rate, % of requests"');
    expect(charts[2]).toContain('aria-label="p99 ModelLatency"');
    for (const chart of charts.slice(1)) {
      expect(chart).toMatch(/class="candidate line" d="M[\d. LM]+"/);
      expect(chart).toMatch(/class="baseline line" d="M[\d. LM]+"/);
    }
  });

  it('It should reference nothing outside the file', () => {
    const html = renderHtmlReport(report());

    expect(html).not.toMatch(/\b(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<(?:script|link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toMatch(/^<!doctype html>/);
  });

  it('It should draw the alarm and the rollback as labelled vertical lines at their time', () => {
    const html = renderHtmlReport(report());

    for (const chart of svgs(html)) {
      const tickX = (label: string) => Number(new RegExp(`<text class="xlabel" x="([\\d.]+)"[^>]*>${label}</text>`).exec(chart)?.[1]);
      const markerLine = (kind: string) =>
        new RegExp(`<g class="marker ${kind}"><title>([^<]*)</title><line x1="([\\d.]+)" x2="\\2"[^>]*/><text[^>]*>(\\w)</text></g>`).exec(chart);
      const alarm = markerLine('alarm');
      const rollback = markerLine('rollback');
      expect(alarm?.[1]).toBe('A 00:23 alarm fraud-scoring-prod-5xx-errors ALARM');
      expect(alarm?.[3]).toBe('A');
      expect(rollback?.[1]).toBe('R 00:24 rollback started');
      expect(rollback?.[3]).toBe('R');
      // 00:23:12 and 00:24:03 lie between the 00:20 and 00:25 ticks, in that order.
      expect(Number(alarm?.[2])).toBeGreaterThan(tickX('00:20'));
      expect(Number(rollback?.[2])).toBeGreaterThan(Number(alarm?.[2]));
      expect(Number(rollback?.[2])).toBeLessThan(tickX('00:25'));
    }
    expect(html).toContain('<li><span class="letter alarm">A</span> <time>00:23</time> alarm fraud-scoring-prod-5xx-errors ALARM</li>');
    // Traffic steps are in the share panel itself: no marker line for them.
    expect(html).not.toContain('step 2: 25%');
  });

  it('It should put the outcome first, with the error and the cause', () => {
    const html = renderHtmlReport(report());
    const outcome = /<section class="outcome failed"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';

    expect(html.indexOf('class="outcome')).toBeLessThan(html.indexOf('<svg'));
    expect(outcome).toContain('FAILED');
    expect(outcome).toContain('ReleaseRolledBack');
    expect(outcome).toContain('alarm fraud-scoring-prod-5xx-errors is in ALARM');
    expect(renderHtmlReport(report({ status: 'SUCCEEDED', error: undefined, cause: undefined }))).toContain('<section class="outcome succeeded"');
  });

  it('It should show the key numbers and the cost with its assumptions', () => {
    const input = report();
    const html = renderHtmlReport(input);

    expect(html).toContain('<dt>Virtual duration</dt><dd>00:25:00</dd>');
    expect(html).toContain('<dt>Wall time</dt><dd>2.3 s</dd>');
    expect(html).toContain('<dt>State transitions</dt><dd>118</dd>');
    expect(html).toContain('<dt>Lambda invocations</dt><dd>41</dd>');
    expect(html).toContain('<dt>SageMaker calls</dt><dd>63</dd>');
    expect(html).toContain('<dt>CloudWatch calls</dt><dd>22</dd>');
    // 118 x $0.000025 + 41 x $0.0000002 + 41 x 0.1 s x 0.25 GB x $0.0000133334 + 22 x $0.00001 = $0.0032 (rounded)
    expect(html).toContain('<dt>Estimated cost</dt><dd>$0.0032</dd>');
    expect(html).toContain('<td>Step Functions Standard state transitions</td><td class="num">118 transitions</td>');
    for (const assumption of input.cost.assumptions) expect(html).toContain(`<li>${escapeHtml(assumption)}</li>`);
  });

  it('It should list the timeline with the traffic after each state', () => {
    const html = renderHtmlReport(report());

    expect(html).toContain(
      '<tr class="kind-error"><td class="num">00:24:03</td><td>Roll back</td><td class="kind">error</td><td>alarm in ALARM</td><td class="traffic">AllTraffic 100%</td></tr>',
    );
    expect(html).toContain('<td class="traffic">AllTraffic 75% | candidate 25%</td>');
    expect(html).toContain('<td class="traffic">no endpoint</td>');
  });

  it('It should say there was no traffic instead of drawing empty charts', () => {
    const html = renderHtmlReport(report({ series: [] }));

    expect(svgs(html)).toHaveLength(0);
    expect(html).toContain('No traffic to chart');
  });

  it('It should be readable in light and dark mode', () => {
    const html = renderHtmlReport(report());

    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toContain('@media (prefers-color-scheme: dark)');
  });
});
