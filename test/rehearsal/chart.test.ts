// Terminal chart of a rehearsal: the layout (three panels over one time axis), markers
// in the columns of their minutes, bucketing of long series, and plain text without color.
import { NO_TRAFFIC_LINE, niceCeiling, renderTerminalChart } from '../../rehearsal/chart';
import type { Marker, SeriesPoint, VariantMinute } from '../../rehearsal/model';

const ESC = '\u001b';
const FULL = '\u28ff';

function variant(name: string, invocations: number, errors5xx: number, p99LatencyMs: number): VariantMinute {
  return { variantName: name, sharePercent: 0, invocations, errors4xx: 0, errors5xx, p50LatencyMs: p99LatencyMs / 3, p99LatencyMs };
}

/**
 * A canary rolled back at its second step: no candidate for 5 minutes, 10% until minute
 * 15, then 25% with errors from minute 19; the alarm fires at 00:23:12 and the rollback
 * starts at 00:24:03; the candidate is gone from minute 25.
 */
function canaryRolledBack(): { series: SeriesPoint[]; markers: Marker[] } {
  const series: SeriesPoint[] = [];
  for (let minute = 1; minute <= 30; minute++) {
    const share = minute <= 5 || minute > 24 ? undefined : minute <= 15 ? 10 : 25;
    const candidateRequests = (share ?? 0) * 10;
    const failing = minute >= 19 && minute <= 24;
    series.push({
      at: minute * 60,
      candidateShare: share,
      candidate:
        share === undefined
          ? undefined
          : variant('candidate', candidateRequests, failing ? candidateRequests * 0.02 * (minute - 18) : 0, failing ? 180 + 40 * (minute - 18) : 120),
      baseline: variant('AllTraffic', 1_000 - candidateRequests, 4, 110 + (minute % 3) * 5),
    });
  }
  const markers: Marker[] = [
    { at: 300, kind: 'step', label: 'step 1: 10%' },
    { at: 900, kind: 'step', label: 'step 2: 25%' },
    { at: 23 * 60 + 12, kind: 'alarm', label: 'fraud-scoring-prod-5xx-errors ALARM' },
    { at: 24 * 60 + 3, kind: 'rollback', label: 'rollback started' },
    { at: 24 * 60 + 50, kind: 'end', label: 'FAILED' },
  ];
  return { series, markers };
}

/** The text without its SGR sequences (ESC [ params m). */
function withoutEscapes(line: string): string {
  const [head, ...rest] = line.split(ESC);
  return head + rest.map((part) => part.replace(/^\[[0-9;]*m/, '')).join('');
}

/** Index of the axis line and the string index of the first plot column. */
function axisOf(lines: readonly string[]): { index: number; origin: number } {
  const index = lines.findIndex((line) => line.includes('\u2514'));
  expect(index).toBeGreaterThan(0);
  return { index, origin: lines[index].indexOf('\u2514') + 1 };
}

describe('renderTerminalChart', () => {
  it('It should draw three panels of the given height over one time axis', () => {
    const { series, markers } = canaryRolledBack();
    const lines = renderTerminalChart(series, markers, { height: 4 });
    const { index, origin } = axisOf(lines);

    expect(lines[0]).toMatch(/^\(a\) Candidate traffic share, %/);
    expect(lines[5]).toMatch(/^\(b\) 5XX error rate, % of requests .*candidate.*baseline/);
    expect(lines[10]).toMatch(/^\(c\) p99 ModelLatency, ms/);
    expect(index).toBe(15);
    // 30 minutes of traffic, one column per minute.
    expect(lines[index].length - origin).toBe(30);
    for (const row of [1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14]) expect(lines[row].length).toBe(origin + 30);
    // Each panel's y axis is labelled with its maximum at the top and 0 at the bottom.
    expect(lines[1]).toMatch(/^100 \u2524/);
    expect(lines[4]).toMatch(/^ {2}0 \u2524/);
    expect(lines[6]).toMatch(/^ 12 \u2524/);
    expect(lines[11]).toMatch(/^500 \u2524/);
    expect(lines[index + 1].slice(origin)).toMatch(/^00:00 {5}00:10 {5}00:20$/);
  });

  it('It should draw the candidate share as a bar as high as the share', () => {
    const series: SeriesPoint[] = [{ at: 60, candidateShare: 50 }, { at: 120, candidateShare: 100 }, { at: 180 }];
    const lines = renderTerminalChart(series, [], { height: 4 });
    const { origin } = axisOf(lines);
    const column = (c: number) => [1, 2, 3, 4].map((row) => lines[row][origin + c]);

    expect(column(0)).toEqual([' ', ' ', FULL, FULL]);
    expect(column(1)).toEqual([FULL, FULL, FULL, FULL]);
    expect(column(2)).toEqual([' ', ' ', ' ', ' ']);
  });

  it('It should mark the alarm and the rollback in the columns of their minutes and explain them', () => {
    const { series, markers } = canaryRolledBack();
    const lines = renderTerminalChart(series, markers);
    const { index, origin } = axisOf(lines);
    const markerRow = lines[index + 2];

    expect(markerRow[origin + 23]).toBe('A');
    expect(markerRow[origin + 24]).toBe('R');
    expect(markerRow.trim()).toBe('AR');
    expect(lines).toContain('A 00:23 alarm fraud-scoring-prod-5xx-errors ALARM');
    expect(lines).toContain('R 00:24 rollback started');
    // Steps and the end are in the share panel and the summary already: no letters for them.
    expect(lines.join('\n')).not.toContain('FAILED');
  });

  it('It should stack markers that fall in one column', () => {
    const series: SeriesPoint[] = [{ at: 60, candidateShare: 10 }];
    const markers: Marker[] = [
      { at: 10, kind: 'alarm', label: 'latency ALARM' },
      { at: 40, kind: 'rollback', label: 'rollback started' },
      { at: 50, kind: 'promotion', label: 'never mind' },
    ];
    const lines = renderTerminalChart(series, markers);
    const { index, origin } = axisOf(lines);

    expect([2, 3, 4].map((offset) => lines[index + offset][origin])).toEqual(['A', 'R', 'P']);
    expect(lines).toContain('P 00:00 promotion never mind');
  });

  it('It should write no ANSI escape without color, and color the chart with it', () => {
    const { series, markers } = canaryRolledBack();

    expect(renderTerminalChart(series, markers).join('\n')).not.toContain(ESC);
    expect(renderTerminalChart(series, markers, { color: false }).join('\n')).not.toContain(ESC);
    const colored = renderTerminalChart(series, markers, { color: true });
    expect(colored.join('\n')).toContain(`${ESC}[31mA${ESC}[0m`);
    // Escapes aside, the colored chart is the plain one.
    expect(colored.map(withoutEscapes)).toEqual(renderTerminalChart(series, markers));
  });

  it('It should put several minutes in a column when the series is longer than the width', () => {
    // Ten hours, one point a minute; the alarm at 06:35.
    const series: SeriesPoint[] = Array.from({ length: 600 }, (_, i) => ({
      at: (i + 1) * 60,
      candidateShare: 10,
      candidate: variant('candidate', 100, i === 400 ? 50 : 0, 100),
      baseline: variant('AllTraffic', 900, 0, 100),
    }));
    const lines = renderTerminalChart(series, [{ at: 6 * 3600 + 35 * 60, kind: 'alarm', label: 'errors ALARM' }], { width: 72 });
    const { index, origin } = axisOf(lines);

    // 600 minutes / 72 columns needs 9 minutes a column; the next round size is 10.
    expect(lines[index].length - origin).toBe(60);
    expect(lines).toContain('One column = 10 min of virtual time since the execution started.');
    expect(lines[index + 2][origin + 39]).toBe('A');
    expect(lines[index + 1].slice(origin)).toMatch(/^00:00 +02:00 +04:00 +06:00 +08:00$/);
    // The error panel's scale is the worst column: 50 errors in 10 x 100 candidate requests = 5%.
    expect(lines[7]).toMatch(/^ {2}5 \u2524/);
    expect(lines[12]).toContain('worst minute of each column');
  });

  it('It should keep to a narrow width', () => {
    const { series, markers } = canaryRolledBack();
    const lines = renderTerminalChart(series, markers, { width: 12 });
    const { index, origin } = axisOf(lines);

    // 30 minutes in at most 12 columns: 3 minutes a column, 10 columns.
    expect(lines[index].length - origin).toBe(10);
    expect(lines[index + 2][origin + 7]).toBe('A');
    expect(lines[index + 2][origin + 8]).toBe('R');
  });

  it('It should say there was no traffic for an empty series', () => {
    expect(renderTerminalChart([], [{ at: 5, kind: 'alarm', label: 'x' }])).toEqual([NO_TRAFFIC_LINE]);
    expect(NO_TRAFFIC_LINE).toMatch(/^No traffic to chart/);
  });

  it('It should refuse a width or height it cannot draw', () => {
    expect(() => renderTerminalChart([], [], { width: 5 })).toThrow(RangeError);
    expect(() => renderTerminalChart([], [], { height: 1.5 })).toThrow(RangeError);
  });
});

describe('niceCeiling', () => {
  it('It should round a maximum up to a number an axis can show', () => {
    expect(niceCeiling(0)).toBe(1);
    expect(niceCeiling(12)).toBe(12);
    expect(niceCeiling(12.5)).toBe(15);
    expect(niceCeiling(412)).toBe(500);
    expect(niceCeiling(0.034)).toBe(0.04);
    expect(niceCeiling(100)).toBe(100);
  });
});
