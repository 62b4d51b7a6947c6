/**
 * A rehearsal's traffic as a terminal chart: three panels over one virtual-time axis
 * (the candidate's share of traffic, the 5XX error rate and the p99 ModelLatency of
 * candidate and baseline), then the moments that mattered (alarms, the rollback or the
 * promotion) as letters under the axis, explained one per line.
 *
 * Each column is a time bucket of one or more whole minutes, chosen so the chart fits
 * the width. The candidate is drawn as filled braille bars, the baseline as a braille
 * line over them: where the candidate is worse than the baseline, its bar swallows the
 * line, which reads without color too.
 */
import type { Marker, MarkerKind, SeriesPoint, VariantMinute } from './model';
import { formatDuration } from './report';

export interface TerminalChartOptions {
  /** Plot columns at most; a short series uses one column per minute and fewer columns. @default 72 */
  readonly width?: number;
  /** Text rows per panel (each has four braille dot rows). @default 5 */
  readonly height?: number;
  /** ANSI colors; leave off when the output is not a terminal. @default false */
  readonly color?: boolean;
}

const DEFAULTS = { width: 72, height: 5, color: false } as const;

/** The marker kinds charted, with the letter that marks them. */
export const MARKER_LETTERS: Readonly<Partial<Record<MarkerKind, string>>> = Object.freeze({ alarm: 'A', rollback: 'R', promotion: 'P' });

export const NO_TRAFFIC_LINE = 'No traffic to chart: the rehearsal recorded no minute of endpoint traffic.';

export interface ChartedMarker extends Marker {
  readonly letter: string;
}

/** Alarm, rollback and promotion markers in time order, each with its letter. */
export function chartedMarkers(markers: readonly Marker[]): ChartedMarker[] {
  return markers
    .flatMap((marker) => {
      const letter = MARKER_LETTERS[marker.kind];
      return letter ? [{ ...marker, letter }] : [];
    })
    .sort((a, b) => a.at - b.at);
}

/** "alarm fraud-scoring-prod-5xx-errors ALARM": the kind, unless the label already starts with it. */
export function markerText(marker: Marker): string {
  return marker.label.toLowerCase().startsWith(marker.kind) ? marker.label : `${marker.kind} ${marker.label}`;
}

/** Virtual time as HH:MM. */
export function formatClock(seconds: number): string {
  return formatDuration(seconds).split(':').slice(0, 2).join(':');
}

/** 5XX errors as a percentage of the variant's requests; undefined when it served none. */
export function errorRatePercent(variant: VariantMinute | undefined): number | undefined {
  if (!variant || variant.invocations <= 0) return undefined;
  return (variant.errors5xx / variant.invocations) * 100;
}

const NICE_STEPS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/** The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) at or above the value; 1 for nothing. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = NICE_STEPS.find((s) => value / magnitude <= s * (1 + 1e-9)) ?? 10;
  return Number((step * magnitude).toPrecision(6));
}

export function formatAxisValue(value: number): string {
  return String(Number(value.toPrecision(3)));
}

const BUCKET_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440];
const TICK_MINUTES = [5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 4320, 10080];
/** A tick label is HH:MM: at least this many columns between ticks. */
const MIN_COLUMNS_PER_TICK = 8;

interface Bucket {
  share?: number;
  candidateErrorRate?: number;
  baselineErrorRate?: number;
  candidateP99?: number;
  baselineP99?: number;
}

interface Layout {
  readonly bucketSeconds: number;
  readonly columns: number;
}

function layout(series: readonly SeriesPoint[], markers: readonly ChartedMarker[], width: number): Layout {
  const lastMinute = [...series.map((point) => Math.ceil(point.at / 60)), ...markers.map((marker) => Math.floor(marker.at / 60) + 1)].reduce(
    (a, b) => Math.max(a, b),
    1,
  );
  const needed = Math.ceil(lastMinute / width);
  const bucketMinutes = BUCKET_MINUTES.find((m) => m >= needed) ?? Math.ceil(needed / 1440) * 1440;
  return { bucketSeconds: bucketMinutes * 60, columns: Math.ceil(lastMinute / bucketMinutes) };
}

/** The column of a moment (a marker). */
function columnAt(seconds: number, { bucketSeconds, columns }: Layout): number {
  return Math.min(columns - 1, Math.max(0, Math.floor(seconds / bucketSeconds)));
}

/** The column of a minute of traffic; `at` is the end of the minute. */
function columnOfMinute(point: SeriesPoint, l: Layout): number {
  return columnAt(Math.max(0, point.at - 60), l);
}

function aggregate(series: readonly SeriesPoint[], l: Layout): Bucket[] {
  const sums = Array.from({ length: l.columns }, () => ({
    share: 0,
    shareMinutes: 0,
    candidate: { invocations: 0, errors: 0, p99: undefined as number | undefined },
    baseline: { invocations: 0, errors: 0, p99: undefined as number | undefined },
  }));
  for (const point of series) {
    const sum = sums[columnOfMinute(point, l)];
    if (point.candidateShare !== undefined) {
      sum.share += point.candidateShare;
      sum.shareMinutes++;
    }
    for (const [variant, acc] of [
      [point.candidate, sum.candidate],
      [point.baseline, sum.baseline],
    ] as const) {
      if (!variant) continue;
      acc.invocations += variant.invocations;
      acc.errors += variant.errors5xx;
      // A p99 of several minutes cannot be rebuilt from per-minute p99s: show the worst minute.
      if (variant.p99LatencyMs !== undefined) acc.p99 = Math.max(acc.p99 ?? 0, variant.p99LatencyMs);
    }
  }
  const rate = (acc: { invocations: number; errors: number }) => (acc.invocations > 0 ? (acc.errors / acc.invocations) * 100 : undefined);
  return sums.map((sum) => ({
    share: sum.shareMinutes > 0 ? sum.share / sum.shareMinutes : undefined,
    candidateErrorRate: rate(sum.candidate),
    baselineErrorRate: rate(sum.baseline),
    candidateP99: sum.candidate.p99,
    baselineP99: sum.baseline.p99,
  }));
}

type Style = 'candidate' | 'baseline' | 'guide' | 'alarm' | 'rollback' | 'promotion';
const ANSI: Readonly<Record<Style, string>> = {
  candidate: '\u001b[33m',
  baseline: '\u001b[36m',
  guide: '\u001b[2m',
  alarm: '\u001b[31m',
  rollback: '\u001b[1;31m',
  promotion: '\u001b[32m',
};
const RESET = '\u001b[0m';

interface Cell {
  readonly ch: string;
  readonly style?: Style;
}

/** Cells to text, one escape sequence per run of equally styled cells. */
function paint(cells: readonly Cell[], color: boolean): string {
  if (!color) return cells.map((cell) => cell.ch).join('');
  let out = '';
  let current: Style | undefined;
  for (const cell of cells) {
    if (cell.style !== current) {
      if (current) out += RESET;
      if (cell.style) out += ANSI[cell.style];
      current = cell.style;
    }
    out += cell.ch;
  }
  return current ? out + RESET : out;
}

function styled(text: string, style: Style, color: boolean): string {
  return color ? `${ANSI[style]}${text}${RESET}` : text;
}

/** Braille dot pairs (left and right dot of one dot row), top dot row first. */
const DOT_ROWS = [0x09, 0x12, 0x24, 0xc0];
const BAR_GLYPH = '\u28ff';
const LINE_GLYPH = '\u2812';
const GUIDE_GLYPH = '\u250a';

interface Panel {
  readonly title: string;
  readonly max: number;
  readonly candidate: ReadonlyArray<number | undefined>;
  readonly baseline?: ReadonlyArray<number | undefined>;
}

/** Dot rows a value reaches, 1 to `dots`; a value above zero always shows. */
function dotLevel(value: number, max: number, dots: number): number {
  return Math.min(dots, Math.max(1, Math.round((value / max) * dots)));
}

function renderPanel(panel: Panel, height: number, labelWidth: number, guides: ReadonlySet<number>, color: boolean): string[] {
  const dots = height * 4;
  const columns = panel.candidate.length;
  const candidateBits = Array.from({ length: height }, () => new Array<number>(columns).fill(0));
  const baselineBits = Array.from({ length: height }, () => new Array<number>(columns).fill(0));
  const setDot = (grid: number[][], dot: number, column: number) => {
    const fromTop = dots - 1 - dot;
    grid[Math.floor(fromTop / 4)][column] |= DOT_ROWS[fromTop % 4];
  };
  for (let column = 0; column < columns; column++) {
    const candidate = panel.candidate[column];
    if (candidate !== undefined && candidate > 0) {
      const level = dotLevel(candidate, panel.max, dots);
      for (let dot = 0; dot < level; dot++) setDot(candidateBits, dot, column);
    }
    const baseline = panel.baseline?.[column];
    // The baseline is a line: at zero it runs along the bottom, so its presence shows.
    if (baseline !== undefined) setDot(baselineBits, baseline > 0 ? dotLevel(baseline, panel.max, dots) - 1 : 0, column);
  }

  const legend = [styled(`${BAR_GLYPH} candidate`, 'candidate', color), ...(panel.baseline ? [styled(`${LINE_GLYPH} baseline`, 'baseline', color)] : [])];
  const lines = [`${panel.title}   ${legend.join('  ')}`];
  for (let row = 0; row < height; row++) {
    const label = row === 0 ? formatAxisValue(panel.max) : row === height - 1 ? '0' : '';
    const axis = row === 0 || row === height - 1 ? '\u2524' : '\u2502';
    const cells: Cell[] = [];
    for (let column = 0; column < columns; column++) {
      const own = candidateBits[row][column];
      const bits = own | baselineBits[row][column];
      if (bits) cells.push({ ch: String.fromCharCode(0x2800 + bits), style: own ? 'candidate' : 'baseline' });
      else if (guides.has(column)) cells.push({ ch: GUIDE_GLYPH, style: 'guide' });
      else cells.push({ ch: ' ' });
    }
    lines.push(`${label.padStart(labelWidth)} ${axis}${paint(cells, color)}`);
  }
  return lines;
}

function tickColumns(bucketMinutes: number): number {
  const minutes = TICK_MINUTES.find((m) => m % bucketMinutes === 0 && m / bucketMinutes >= MIN_COLUMNS_PER_TICK);
  return minutes ? minutes / bucketMinutes : 10;
}

/**
 * Lines, in this order: for each panel a title with its legend and `height` plot rows
 * (y axis labelled with the panel's maximum and 0); the time axis (`└` then one
 * character per column); HH:MM labels under its ticks; one or more rows of marker
 * letters (A alarm, R rollback, P promotion) in their columns; one line per marker;
 * the time one column stands for.
 */
export function renderTerminalChart(series: readonly SeriesPoint[], markers: readonly Marker[], options: TerminalChartOptions = {}): string[] {
  const width = options.width ?? DEFAULTS.width;
  const height = options.height ?? DEFAULTS.height;
  const color = options.color ?? DEFAULTS.color;
  if (!Number.isInteger(width) || width < 10) throw new RangeError(`width must be an integer >= 10, got ${width}`);
  if (!Number.isInteger(height) || height < 2) throw new RangeError(`height must be an integer >= 2, got ${height}`);
  if (series.length === 0) return [NO_TRAFFIC_LINE];

  const charted = chartedMarkers(markers);
  const l = layout(series, charted, width);
  const buckets = aggregate(series, l);
  const bucketMinutes = l.bucketSeconds / 60;
  const worstOf = (values: ReadonlyArray<number | undefined>) => niceCeiling(values.reduce<number>((a, b) => Math.max(a, b ?? 0), 0));

  const errors = { candidate: buckets.map((b) => b.candidateErrorRate), baseline: buckets.map((b) => b.baselineErrorRate) };
  const latency = { candidate: buckets.map((b) => b.candidateP99), baseline: buckets.map((b) => b.baselineP99) };
  const panels: Panel[] = [
    { title: '(a) Candidate traffic share, %', max: 100, candidate: buckets.map((b) => b.share) },
    { title: '(b) 5XX error rate, % of requests', max: worstOf([...errors.candidate, ...errors.baseline]), ...errors },
    {
      title: `(c) p99 ModelLatency, ms${bucketMinutes > 1 ? ' (worst minute of each column)' : ''}`,
      max: worstOf([...latency.candidate, ...latency.baseline]),
      ...latency,
    },
  ];
  const labelWidth = Math.max(1, ...panels.map((panel) => formatAxisValue(panel.max).length));
  const guides = new Set(charted.map((marker) => columnAt(marker.at, l)));
  const lines = panels.flatMap((panel) => renderPanel(panel, height, labelWidth, guides, color));

  const gutter = ' '.repeat(labelWidth + 1);
  const everyTick = tickColumns(bucketMinutes);
  const ticks = Array.from({ length: l.columns }, (_, column) => (column % everyTick === 0 ? '\u252c' : '\u2500')).join('');
  lines.push(`${gutter}\u2514${ticks}`);
  let labels = '';
  for (let column = 0; column < l.columns; column += everyTick) labels = labels.padEnd(column) + formatClock(column * l.bucketSeconds);
  lines.push(`${gutter} ${labels}`);

  const markerRows: Cell[][] = [];
  for (const marker of charted) {
    const column = columnAt(marker.at, l);
    let row = markerRows.find((cells) => cells[column].ch === ' ');
    if (!row) {
      row = Array.from({ length: l.columns }, () => ({ ch: ' ' }));
      markerRows.push(row);
    }
    row[column] = { ch: marker.letter, style: marker.kind as Style };
  }
  for (const row of markerRows) lines.push(`${gutter} ${paint(row, color)}`.trimEnd());
  for (const marker of charted) {
    lines.push(`${styled(marker.letter, marker.kind as Style, color)} ${formatClock(marker.at)} ${markerText(marker)}`);
  }
  const unit = bucketMinutes % 60 === 0 ? `${bucketMinutes / 60} h` : `${bucketMinutes} min`;
  lines.push(`One column = ${unit} of virtual time since the execution started.`);
  return lines;
}
