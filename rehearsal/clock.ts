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
/** The real Date, captured when this module loads (before a virtual one is installed). */
const REAL_DATE = Date;

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

  /** When the next one-off action is due (epoch ms); undefined when none is scheduled. */
  nextActionAt(): number | undefined {
    return this.scheduled[0]?.at;
  }

  /** Advances the clock, stopping at each whole minute on the way for the minute listeners; negative or non-finite amounts are a programming error. */
  advanceSeconds(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`VirtualClock.advanceSeconds: expected a finite number >= 0, got ${seconds}`);
    }
    this.advance(this.current + seconds * 1000);
  }

  /**
   * Advances the clock to `epochMs` exactly, as advanceSeconds does (the scheduler moves
   * from one wake-up time to the next without rounding through seconds); a time in the
   * past is a programming error.
   */
  advanceTo(epochMs: number): void {
    if (!Number.isFinite(epochMs) || epochMs < this.current) {
      throw new RangeError(`VirtualClock.advanceTo: expected a finite time not before now (${this.current}), got ${epochMs}`);
    }
    this.advance(epochMs);
  }

  /**
   * A `Date` constructor that reads this clock: `new Date()` and `Date.now()` give the
   * virtual time, every other form behaves as the real Date (same prototype, so
   * `instanceof Date` holds either way). The rehearsal installs it while executions run,
   * so that handler code computing leases and timestamps with `new Date()` lives in the
   * same time as the simulators.
   */
  dateConstructor(): DateConstructor {
    return virtualDate(() => this.current);
  }

  private advance(target: number): void {
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

/**
 * A `Date` constructor whose `new Date()` and `Date.now()` read `now` (epoch ms); every
 * other form behaves as the real Date, and the prototype is the real one, so
 * `instanceof Date` holds for dates made by either.
 */
export function virtualDate(now: () => number): DateConstructor {
  const RealDate = REAL_DATE;
  function VirtualDate(this: unknown, ...args: unknown[]): unknown {
    // Called without `new`, Date returns the current time as a string.
    if (!new.target) return new RealDate(now()).toString();
    return args.length === 0 ? new RealDate(now()) : new (RealDate as unknown as new (...a: unknown[]) => Date)(...args);
  }
  VirtualDate.prototype = RealDate.prototype;
  VirtualDate.now = now;
  VirtualDate.parse = RealDate.parse;
  VirtualDate.UTC = RealDate.UTC;
  return VirtualDate as unknown as DateConstructor;
}

/** Runs `fn` with `date` as the global Date, restoring the previous one after (also when `fn` throws). */
export function withGlobalDate<T>(date: DateConstructor, fn: () => T): T {
  const previous = globalThis.Date;
  globalThis.Date = date;
  try {
    return fn();
  } finally {
    globalThis.Date = previous;
  }
}
