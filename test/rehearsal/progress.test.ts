// The live progress line of `rehearse`: silent when the stream is not a terminal; on a
// terminal, one line rewritten in place (carriage return + erase line), truncated to the
// terminal's width, showing the step as "step 2/3 (50 %)", and cleared when done.
import type { TimelineEntry } from '../../rehearsal/engine';
import { ProgressLine, type ProgressStream } from '../../rehearsal/progress';

const CLEAR = '\r\x1b[2K';

function stream(isTTY: boolean, columns?: number): ProgressStream & { writes: string[] } {
  const writes: string[] = [];
  return {
    isTTY,
    ...(columns !== undefined ? { columns } : {}),
    writes,
    write(text: string) {
      writes.push(text);
      return true;
    },
  };
}

const WEIGHTS = { AllTraffic: 50, 'v7-0123abcd': 50 };

function shift(at: number, stepIndex: number, weightPercent?: number): TimelineEntry {
  return {
    at,
    state: 'Shift traffic to the next step',
    kind: 'task',
    detail: '',
    weights: WEIGHTS,
    output: { stepIndex, ...(weightPercent !== undefined ? { weightPercent } : {}) },
  };
}

const bake: TimelineEntry = { at: 1330, state: 'Wait for the bake', kind: 'wait', detail: 'waited 60 s', weights: WEIGHTS };

afterEach(() => {
  jest.restoreAllMocks();
});

describe('ProgressLine', () => {
  it('It should write nothing when the stream is not a terminal', () => {
    const out = stream(false);
    const progress = new ProgressLine(out, '[1/1] promoted', 3, 0);

    progress.update(shift(1320, 1, 50));
    progress.update({ ...bake, kind: 'end' });
    progress.done();

    expect(progress.enabled).toBe(false);
    expect(out.writes).toEqual([]);
  });

  it('It should rewrite one line in place with the label, virtual time, state, step and traffic, and clear it when done', () => {
    const out = stream(true, 200);
    const progress = new ProgressLine(out, '[1/2] promoted', 3, 0);

    progress.update(shift(1320, 1, 50));
    progress.update(bake);
    progress.done();

    expect(out.writes).toEqual([
      `${CLEAR}[1/2] promoted  00:22:00  Shift traffic to the next step  step 2/3 (50 %)  AllTraffic 50% | v7-0123abcd 50%`,
      `${CLEAR}[1/2] promoted  00:22:10  Wait for the bake  step 2/3 (50 %)  AllTraffic 50% | v7-0123abcd 50%`,
      CLEAR,
    ]);
    expect(out.writes.some((text) => text.includes('\n'))).toBe(false);
  });

  it('It should show the step without a count or weight when it does not know them, and no endpoint before it exists', () => {
    const out = stream(true, 200);
    const progress = new ProgressLine(out, 'x', undefined, 0);

    progress.update({ at: 0, state: 'Plan the release', kind: 'task', detail: '' });
    progress.update(shift(600, 0));

    expect(out.writes).toEqual([
      `${CLEAR}x  00:00:00  Plan the release  no endpoint`,
      `${CLEAR}x  00:10:00  Shift traffic to the next step  step 1  ${'AllTraffic 50% | v7-0123abcd 50%'}`,
    ]);
  });

  it('It should truncate the line to the terminal width, less one column, with an ellipsis', () => {
    const out = stream(true, 40);
    const progress = new ProgressLine(out, '[1/1] a-scenario-with-a-rather-long-name', 3, 0);

    progress.update(shift(1320, 1, 50));

    const [written] = out.writes;
    const line = written.slice(CLEAR.length);
    expect(written.startsWith(CLEAR)).toBe(true);
    expect(line).toHaveLength(39);
    expect(line).toBe('[1/1] a-scenario-with-a-rather-long-na…');
  });

  it('It should keep at least 20 columns on a very narrow terminal, and assume 100 when the width is unknown', () => {
    const narrow = stream(true, 5);
    const unknown = stream(true);
    // `script` and some CI terminals report a width of 0.
    const zero = stream(true, 0);
    const label = 'L'.repeat(150);

    new ProgressLine(narrow, label, 3, 0).update(bake);
    new ProgressLine(unknown, label, 3, 0).update(bake);
    new ProgressLine(zero, label, 3, 0).update(bake);

    expect(narrow.writes[0].slice(CLEAR.length)).toBe(`${'L'.repeat(19)}…`);
    expect(unknown.writes[0].slice(CLEAR.length)).toBe(`${'L'.repeat(98)}…`);
    expect(zero.writes[0].slice(CLEAR.length)).toBe(`${'L'.repeat(98)}…`);
  });

  it('It should redraw at most once per interval of wall time, but always draw the end', () => {
    const out = stream(true, 200);
    const progress = new ProgressLine(out, 'x', 3, 40);
    const now = jest.spyOn(performance, 'now');

    now.mockReturnValue(10_000);
    progress.update(bake);
    now.mockReturnValue(10_030); // within 40 ms: skipped
    progress.update({ ...bake, at: 1390 });
    now.mockReturnValue(10_035); // the end is always drawn
    progress.update({ ...bake, at: 1450, state: 'Execution succeeded', kind: 'end' });
    now.mockReturnValue(10_080);
    progress.update({ ...bake, at: 1510 });

    expect(out.writes.map((text) => text.split('  ')[1])).toEqual(['00:22:10', '00:24:10', '00:25:10']);
  });

  it('It should clear nothing when it showed nothing, and clear only once', () => {
    const out = stream(true, 200);
    const progress = new ProgressLine(out, 'x', 3, 0);

    progress.done();
    progress.update(bake);
    progress.done();
    progress.done();

    expect(out.writes.filter((text) => text === CLEAR)).toHaveLength(1);
  });

  it('It should keep track of the step between draws', () => {
    const out = stream(true, 200);
    const progress = new ProgressLine(out, 'x', 2, 40);
    const now = jest.spyOn(performance, 'now');

    now.mockReturnValue(10_000);
    progress.update(bake);
    now.mockReturnValue(10_010); // within the interval: not drawn, but the step is kept
    progress.update(shift(1400, 1, 100));
    progress.update({ ...bake, at: 1460, kind: 'end' });

    expect(out.writes).toHaveLength(2);
    expect(out.writes[1]).toContain('step 2/2 (100 %)');
  });
});
