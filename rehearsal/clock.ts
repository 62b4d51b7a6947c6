/**
 * The virtual clock of a rehearsal. Wait states advance it by exactly what they
 * would have waited; the simulators read it, so statuses, alarms and timelines
 * move in virtual time while the rehearsal takes no wall time.
 *
 * Listeners registered with `onMinute` run at every whole virtual minute the clock
 * passes, in order, with the clock set to that minute: the data plane publishes the
 * minute's traffic and CloudWatch evaluates alarms there, as the services do once a
 * minute.
 */
const MINUTE_MS = 60_000;
const DEFAULT_START = Date.UTC(2026, 0, 1, 9, 0, 0);

export class VirtualClock {
  private current: number;
  private readonly minuteListeners: Array<(epochMs: number) => void> = [];
  /** One-off actions at a virtual time, in time order (same-time actions in the order scheduled). */
  private scheduled: Array<{ at: number; action: () => void }> = [];

  constructor(start: Date | number = DEFAULT_START) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  /** Sets the clock back to a start time, for the next rehearsal in the same process. Listeners stay. */
  reset(start: Date | number = DEFAULT_START): void {
    this.current = typeof start === 'number' ? start : start.getTime();
    this.scheduled = [];
  }

  /** Runs `action` when the clock reaches `epochMs` (at once if that is now or past). Forgotten by reset. */
  at(epochMs: number, action: () => void): void {
    if (!Number.isFinite(epochMs)) throw new RangeError(`VirtualClock.at: expected a finite time, got ${epochMs}`);
    if (epochMs <= this.current) {
      action();
      return;
    }
    const index = this.scheduled.findIndex((entry) => entry.at > epochMs);
    this.scheduled.splice(index === -1 ? this.scheduled.length : index, 0, { at: epochMs, action });
  }

  /** Milliseconds since the epoch, virtual. */
  now(): number {
    return this.current;
  }

  nowDate(): Date {
    return new Date(this.current);
  }

  /** Runs `listener` at each whole minute the clock passes from now on; returns a function that removes it. */
  onMinute(listener: (epochMs: number) => void): () => void {
    this.minuteListeners.push(listener);
    return () => {
      const index = this.minuteListeners.indexOf(listener);
      if (index >= 0) this.minuteListeners.splice(index, 1);
    };
  }

  /** Advances the clock, stopping at each whole minute on the way for the minute listeners; negative or non-finite amounts are a programming error. */
  advanceSeconds(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`VirtualClock.advanceSeconds: expected a finite number >= 0, got ${seconds}`);
    }
    const target = this.current + seconds * 1000;
    // Every whole minute is a stop, so that a listener added by a scheduled action on the way still runs.
    let minute = Math.floor(this.current / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    for (;;) {
      const action = this.scheduled[0];
      const next = Math.min(minute, action?.at ?? Infinity);
      if (next > target) break;
      this.current = next;
      // At a whole minute the listeners run first: the minute that ends at 09:05 is published before a fault due at 09:05 changes anything.
      if (next < minute) {
        this.scheduled.shift();
        action?.action();
        continue;
      }
      for (const listener of [...this.minuteListeners]) listener(minute);
      minute += MINUTE_MS;
    }
    this.current = target;
  }
}
