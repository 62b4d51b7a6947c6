/**
 * A rehearsal as one self-contained HTML page, to attach to a change request or open
 * from CI artifacts: the outcome first, then the key numbers and the cost estimate, the
 * same three panels as the terminal chart as inline SVG (alarms, the rollback and the
 * promotion as labelled vertical lines), and the timeline. Nothing is loaded from
 * elsewhere: no scripts, no external styles, fonts or images. Every string from the
 * input is escaped, since scenario names and causes are user data.
 */
import { chartedMarkers, errorRatePercent, formatClock, formatAxisValue, markerText, niceCeiling, NO_TRAFFIC_LINE, type ChartedMarker } from './chart';
import { formatUsd } from './cost';
import type { CostLine, ReportInput, SeriesPoint, VariantMinute } from './model';
import { formatDuration, formatWeights } from './report';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values made inert. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

export function renderHtmlReport(input: ReportInput): string {
  const title = `Rehearsal: ${input.scenarioName} on ${input.target}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    '<header>',
    `<h1>Rehearsal: ${escapeHtml(input.scenarioName)}</h1>`,
    `<p class="target">Target <code>${escapeHtml(input.target)}</code></p>`,
    input.description ? `<p class="description">${escapeHtml(input.description)}</p>` : '',
    '</header>',
    renderOutcome(input),
    renderKeyNumbers(input),
    renderCharts(input),
    renderCost(input),
    renderTimeline(input),
    '<footer>Times are virtual: seconds of the rehearsal clock since the execution started (HH:MM:SS).</footer>',
    '</main>',
    '</body>',
    '</html>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function renderOutcome(input: ReportInput): string {
  const succeeded = input.status === 'SUCCEEDED';
  return [
    `<section class="outcome ${succeeded ? 'succeeded' : 'failed'}" aria-label="Outcome">`,
    `<p class="status">${escapeHtml(input.status)}${input.error ? ` <span class="error">${escapeHtml(input.error)}</span>` : ''}</p>`,
    input.cause ? `<pre class="cause">${escapeHtml(input.cause)}</pre>` : '',
    '</section>',
  ].join('\n');
}

function renderKeyNumbers(input: ReportInput): string {
  const wall = input.wallMilliseconds < 1000 ? `${Math.round(input.wallMilliseconds)} ms` : `${(input.wallMilliseconds / 1000).toFixed(1)} s`;
  const numbers: Array<[string, string]> = [
    ['Virtual duration', formatDuration(input.virtualSeconds)],
    ['Wall time', wall],
    ['State transitions', String(input.usage.stateTransitions)],
    ['Lambda invocations', String(input.usage.lambdaInvocations)],
    ['SageMaker calls', String(input.usage.sagemakerCalls)],
    ['CloudWatch calls', String(input.usage.cloudwatchCalls)],
    ['Estimated cost', formatUsd(input.cost.totalUsd)],
  ];
  return [
    '<section aria-labelledby="numbers"><h2 id="numbers">Key numbers</h2>',
    '<dl class="numbers">',
    ...numbers.map(([name, value]) => `<div><dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd></div>`),
    '</dl></section>',
  ].join('\n');
}

function formatQuantity(line: CostLine): string {
  const quantity = Number.isInteger(line.quantity) ? String(line.quantity) : String(Number(line.quantity.toPrecision(4)));
  return `${quantity} ${line.unit}`;
}

function renderCost(input: ReportInput): string {
  const rows = input.cost.lines.map(
    (line) =>
      `<tr><td>${escapeHtml(line.item)}</td><td class="num">${escapeHtml(formatQuantity(line))}</td><td class="num">${escapeHtml(formatUsd(line.usd))}</td></tr>`,
  );
  return [
    '<section aria-labelledby="cost"><h2 id="cost">Estimated cost of this release in AWS</h2>',
    '<table class="cost"><thead><tr><th>Item</th><th class="num">Quantity</th><th class="num">USD</th></tr></thead><tbody>',
    ...rows,
    `</tbody><tfoot><tr><th colspan="2">Total</th><td class="num">${escapeHtml(formatUsd(input.cost.totalUsd))}</td></tr></tfoot></table>`,
    '<details open><summary>Prices and assumptions</summary><ul class="assumptions">',
    ...input.cost.assumptions.map((assumption) => `<li>${escapeHtml(assumption)}</li>`),
    '</ul></details></section>',
  ].join('\n');
}

function renderTimeline(input: ReportInput): string {
  const rows = input.timeline.map(
    (line) =>
      `<tr class="kind-${escapeHtml(line.kind)}"><td class="num">${escapeHtml(formatDuration(line.at))}</td><td>${escapeHtml(line.state)}</td>` +
      `<td class="kind">${escapeHtml(line.kind)}</td><td>${escapeHtml(line.detail)}</td><td class="traffic">${escapeHtml(formatWeights(line.weights))}</td></tr>`,
  );
  return [
    '<section aria-labelledby="timeline"><h2 id="timeline">Timeline</h2>',
    '<div class="scroll"><table class="timeline"><thead><tr><th>Time</th><th>State</th><th>Kind</th><th>Detail</th><th>Traffic after</th></tr></thead><tbody>',
    ...(rows.length > 0 ? rows : ['<tr><td colspan="5">No states recorded.</td></tr>']),
    '</tbody></table></div></section>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------
// Charts: one SVG per panel, sharing the time scale. Each minute of traffic is drawn
// as a step over the minute it covers (`at` is the end of the minute).

const SVG_WIDTH = 960;
const SVG_HEIGHT = 180;
const MARGIN = { left: 64, right: 32, top: 22, bottom: 28 } as const;
const PLOT_WIDTH = SVG_WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = SVG_HEIGHT - MARGIN.top - MARGIN.bottom;
const TICK_MINUTES = [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 10080];
const MAX_TICKS = 10;

interface Minute {
  readonly start: number;
  readonly end: number;
  readonly value: number | undefined;
}

interface TimeScale {
  readonly endSeconds: number;
  readonly tickSeconds: number;
  readonly x: (seconds: number) => number;
}

function timeScale(series: readonly SeriesPoint[], markers: readonly ChartedMarker[]): TimeScale {
  const last = [...series.map((point) => point.at), ...markers.map((marker) => marker.at)].reduce((a, b) => Math.max(a, b), 60);
  const minutes = Math.ceil(last / 60);
  const tickMinutes = TICK_MINUTES.find((m) => minutes / m <= MAX_TICKS) ?? Math.ceil(minutes / MAX_TICKS / 1440) * 1440;
  const endSeconds = minutes * 60;
  return { endSeconds, tickSeconds: tickMinutes * 60, x: (seconds) => round(MARGIN.left + (Math.min(seconds, endSeconds) / endSeconds) * PLOT_WIDTH) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function minutesOf(series: readonly SeriesPoint[], value: (point: SeriesPoint) => number | undefined): Minute[] {
  return series.map((point) => ({ start: Math.max(0, point.at - 60), end: point.at, value: value(point) }));
}

/** Contiguous runs of minutes with a value. */
function runs(minutes: readonly Minute[]): Minute[][] {
  const out: Minute[][] = [];
  let current: Minute[] = [];
  for (const minute of minutes) {
    if (minute.value === undefined || (current.length > 0 && current[current.length - 1].end !== minute.start)) {
      if (current.length > 0) out.push(current);
      current = [];
    }
    if (minute.value !== undefined) current.push(minute);
  }
  if (current.length > 0) out.push(current);
  return out;
}

function stepPath(minutes: readonly Minute[], x: (s: number) => number, y: (v: number) => number): string {
  return runs(minutes)
    .map((run) => run.map((m, i) => `${i === 0 ? 'M' : 'L'}${x(m.start)} ${y(m.value ?? 0)} L${x(m.end)} ${y(m.value ?? 0)}`).join(' '))
    .join(' ');
}

function stepArea(minutes: readonly Minute[], x: (s: number) => number, y: (v: number) => number): string {
  return runs(minutes)
    .map(
      (run) =>
        `M${x(run[0].start)} ${y(0)} ${run.map((m) => `L${x(m.start)} ${y(m.value ?? 0)} L${x(m.end)} ${y(m.value ?? 0)}`).join(' ')} L${x(run[run.length - 1].end)} ${y(0)} Z`,
    )
    .join(' ');
}

interface SvgPanel {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly max: number;
  readonly candidate: readonly Minute[];
  readonly baseline?: readonly Minute[];
  /** Draw the candidate as a filled area (traffic share) rather than a line. */
  readonly area?: boolean;
}

function renderSvgPanel(panel: SvgPanel, scale: TimeScale, markers: readonly ChartedMarker[]): string {
  const y = (value: number) => round(MARGIN.top + PLOT_HEIGHT - (Math.min(value, panel.max) / panel.max) * PLOT_HEIGHT);
  const right = MARGIN.left + PLOT_WIDTH;
  const parts: string[] = [];
  for (const fraction of [0, 0.5, 1]) {
    const value = panel.max * fraction;
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${right}" y1="${y(value)}" y2="${y(value)}"/>`);
    parts.push(`<text class="ylabel" x="${MARGIN.left - 6}" y="${y(value) + 4}" text-anchor="end">${escapeHtml(formatAxisValue(value))}</text>`);
  }
  for (let t = 0; t <= scale.endSeconds; t += scale.tickSeconds) {
    parts.push(`<line class="tick" x1="${scale.x(t)}" x2="${scale.x(t)}" y1="${y(0)}" y2="${y(0) + 4}"/>`);
    parts.push(`<text class="xlabel" x="${scale.x(t)}" y="${SVG_HEIGHT - 8}" text-anchor="middle">${escapeHtml(formatClock(t))}</text>`);
  }
  parts.push(`<text class="unit" x="${MARGIN.left - 6}" y="${MARGIN.top - 9}" text-anchor="end">${escapeHtml(panel.unit)}</text>`);
  if (panel.area) parts.push(`<path class="candidate area" d="${stepArea(panel.candidate, scale.x, y)}"/>`);
  if (panel.baseline) parts.push(`<path class="baseline line" d="${stepPath(panel.baseline, scale.x, y)}"/>`);
  parts.push(`<path class="candidate line" d="${stepPath(panel.candidate, scale.x, y)}"/>`);
  for (const marker of markers) {
    const x = scale.x(marker.at);
    const text = `${marker.letter} ${formatClock(marker.at)} ${markerText(marker)}`;
    parts.push(
      `<g class="marker ${escapeHtml(marker.kind)}"><title>${escapeHtml(text)}</title>` +
        `<line x1="${x}" x2="${x}" y1="${MARGIN.top - 4}" y2="${y(0)}"/>` +
        `<text x="${x}" y="${MARGIN.top - 8}" text-anchor="middle">${escapeHtml(marker.letter)}</text></g>`,
    );
  }
  const legend = [
    `<span class="key"><span class="swatch candidate"></span>candidate</span>`,
    ...(panel.baseline ? [`<span class="key"><span class="swatch baseline"></span>baseline</span>`] : []),
  ].join(' ');
  return [
    `<figure class="panel" id="${escapeHtml(panel.id)}">`,
    `<figcaption><span class="panel-title">${escapeHtml(panel.title)}</span> ${legend}</figcaption>`,
    `<svg viewBox="0 0 ${SVG_WIDTH} ${SVG_HEIGHT}" role="img" aria-label="${escapeHtml(panel.title)}" preserveAspectRatio="xMidYMid meet">`,
    ...parts,
    '</svg>',
    '</figure>',
  ].join('\n');
}

function renderCharts(input: ReportInput): string {
  const heading = '<section aria-labelledby="traffic"><h2 id="traffic">Traffic, errors and latency</h2>';
  if (input.series.length === 0) return `${heading}\n<p class="empty">${escapeHtml(NO_TRAFFIC_LINE)}</p>\n</section>`;
  const markers = chartedMarkers(input.markers);
  const scale = timeScale(input.series, markers);
  const p99 = (variant: VariantMinute | undefined) => variant?.p99LatencyMs;
  const errors = {
    candidate: minutesOf(input.series, (point) => errorRatePercent(point.candidate)),
    baseline: minutesOf(input.series, (point) => errorRatePercent(point.baseline)),
  };
  const latency = { candidate: minutesOf(input.series, (point) => p99(point.candidate)), baseline: minutesOf(input.series, (point) => p99(point.baseline)) };
  const worst = (...sets: ReadonlyArray<readonly Minute[]>) => niceCeiling(sets.flat().reduce((a, m) => Math.max(a, m.value ?? 0), 0));
  const panels: SvgPanel[] = [
    { id: 'share', title: 'Candidate traffic share', unit: '%', max: 100, area: true, candidate: minutesOf(input.series, (point) => point.candidateShare) },
    { id: 'errors', title: '5XX error rate, % of requests', unit: '%', max: worst(errors.candidate, errors.baseline), ...errors },
    { id: 'latency', title: 'p99 ModelLatency', unit: 'ms', max: worst(latency.candidate, latency.baseline), ...latency },
  ];
  const legend =
    markers.length === 0
      ? '<p class="empty">No alarm, rollback or promotion during the rehearsal.</p>'
      : [
          '<ul class="marker-legend">',
          ...markers.map(
            (marker) =>
              `<li><span class="letter ${escapeHtml(marker.kind)}">${escapeHtml(marker.letter)}</span> ` +
              `<time>${escapeHtml(formatClock(marker.at))}</time> ${escapeHtml(markerText(marker))}</li>`,
          ),
          '</ul>',
        ].join('\n');
  return [heading, ...panels.map((panel) => renderSvgPanel(panel, scale, markers)), legend, '</section>'].join('\n');
}

const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --border: #d0d7de; --panel: #f6f8fa;
  --candidate: #d9480f; --baseline: #1c7ed6; --alarm: #c92a2a; --rollback: #c92a2a; --promotion: #2b8a3e;
  --ok-bg: #ebfbee; --ok-fg: #2b8a3e; --fail-bg: #fff5f5; --fail-fg: #c92a2a; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --border: #30363d; --panel: #161b22;
    --candidate: #ff922b; --baseline: #4dabf7; --alarm: #ff6b6b; --rollback: #ff6b6b; --promotion: #69db7c;
    --ok-bg: #0f2a17; --ok-fg: #69db7c; --fail-bg: #2d1214; --fail-fg: #ff8787; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 32px 0 12px; border-bottom: 1px solid var(--border); padding-bottom: 4px; }
code, pre, time, .num { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.target, .description, footer { color: var(--muted); margin: 0 0 4px; }
footer { margin-top: 32px; font-size: 0.85rem; }
.outcome { margin: 20px 0; padding: 16px 20px; border-radius: 8px; border: 1px solid; }
.outcome.succeeded { background: var(--ok-bg); color: var(--ok-fg); }
.outcome.failed { background: var(--fail-bg); color: var(--fail-fg); }
.outcome .status { font-size: 1.5rem; font-weight: 700; margin: 0; }
.outcome .error { font-weight: 600; margin-left: 8px; }
.outcome .cause { margin: 8px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; color: var(--fg); font-size: 0.9rem; }
.numbers { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 0; }
.numbers div { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 8px 12px; }
.numbers dt { color: var(--muted); font-size: 0.8rem; }
.numbers dd { margin: 0; font-size: 1.2rem; font-weight: 600; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--border); vertical-align: top; overflow-wrap: anywhere; }
th.num, td.num { text-align: right; white-space: nowrap; }
tfoot th, tfoot td { font-weight: 700; border-bottom: none; }
.timeline td:first-child { text-align: left; }
.timeline td.kind { white-space: nowrap; overflow-wrap: normal; }
.timeline td:nth-child(2) { min-width: 12em; }
.timeline td.traffic { min-width: 9em; }
.timeline tr.kind-fault td { color: var(--muted); font-style: italic; }
.timeline tr.kind-error td, .timeline tr.kind-retry td { color: var(--fail-fg); }
.scroll { overflow-x: auto; }
.assumptions { color: var(--muted); font-size: 0.85rem; padding-left: 20px; overflow-wrap: anywhere; }
summary { cursor: pointer; color: var(--muted); margin-top: 8px; }
.panel { margin: 0 0 12px; }
figcaption { font-size: 0.9rem; margin-bottom: 2px; }
.panel-title { font-weight: 600; margin-right: 12px; }
.key { color: var(--muted); margin-right: 12px; white-space: nowrap; }
.swatch { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
.swatch.candidate { background: var(--candidate); height: 4px; }
.swatch.baseline { background: var(--baseline); }
svg { width: 100%; height: auto; display: block; background: var(--panel); border: 1px solid var(--border); border-radius: 6px; }
svg text { fill: var(--muted); font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
svg .grid { stroke: var(--border); stroke-width: 1; }
svg .tick { stroke: var(--muted); }
svg .line { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg .candidate.line { stroke: var(--candidate); stroke-width: 2.5; }
svg .candidate.area { fill: var(--candidate); fill-opacity: 0.25; stroke: none; }
svg .baseline.line { stroke: var(--baseline); stroke-dasharray: 6 3; }
svg .marker line { stroke-width: 1.5; stroke-dasharray: 3 3; }
svg .marker text { font-weight: 700; }
svg .marker.alarm line { stroke: var(--alarm); } svg .marker.alarm text { fill: var(--alarm); }
svg .marker.rollback line { stroke: var(--rollback); stroke-dasharray: none; } svg .marker.rollback text { fill: var(--rollback); }
svg .marker.promotion line { stroke: var(--promotion); stroke-dasharray: none; } svg .marker.promotion text { fill: var(--promotion); }
.marker-legend { list-style: none; padding: 0; margin: 8px 0 0; font-size: 0.9rem; }
.marker-legend li { overflow-wrap: anywhere; }
.letter { display: inline-block; width: 1.4em; font-weight: 700; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.letter.alarm { color: var(--alarm); } .letter.rollback { color: var(--rollback); } .letter.promotion { color: var(--promotion); }
.empty { color: var(--muted); }
`;
