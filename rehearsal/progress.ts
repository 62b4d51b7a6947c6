/**
 * The live progress line of `rehearse` on a terminal: virtual time, the state running,
 * the step and the traffic split, rewritten in place as the execution goes. Nothing is
 * written when the stream is not a terminal (logs and pipes get the timeline only).
 */
import type { TimelineEntry } from './engine';
import { formatDuration, formatWeights } from './report';

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export class ProgressLine {
  private step = '';
  private shown = false;
  private lastDraw = -Infinity;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    /** Steps of the release, when known: shown as "step 2/3". */
    private readonly stepCount?: number,
    /** Minimum wall milliseconds between redraws. */
    private readonly intervalMs = 40,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(entry: TimelineEntry): void {
    if (entry.state === 'Shift traffic to the next step' && entry.kind === 'task') {
      const output = entry.output as { stepIndex?: number; weightPercent?: number } | undefined;
      if (output?.stepIndex !== undefined) {
        this.step = `step ${output.stepIndex + 1}${this.stepCount ? `/${this.stepCount}` : ''}${output.weightPercent !== undefined ? ` (${output.weightPercent} %)` : ''}`;
      }
    }
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < this.intervalMs && entry.kind !== 'end') return;
    this.lastDraw = now;
    const line = `${this.label}  ${formatDuration(entry.at)}  ${entry.state}${this.step ? `  ${this.step}` : ''}  ${formatWeights(entry.weights)}`;
    // A terminal that does not report its size (columns 0 or unset) gets 100 columns.
    const width = Math.max(20, (this.stream.columns || 100) - 1);
    this.stream.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    this.shown = true;
  }

  /** Clears the line, before the timeline and the summary are printed. */
  done(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
