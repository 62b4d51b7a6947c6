/**
 * The virtual clock of a rehearsal. Wait states advance it by exactly what they
 * would have waited; the simulators read it, so statuses, alarms and timelines
 * move in virtual time while the rehearsal takes no wall time.
 */
export class VirtualClock {
  private current: number;

  constructor(start: Date | number = Date.UTC(2026, 0, 1, 9, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  /** Sets the clock back to a start time, for the next rehearsal in the same process. */
  reset(start: Date | number = Date.UTC(2026, 0, 1, 9, 0, 0)): void {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  /** Milliseconds since the epoch, virtual. */
  now(): number {
    return this.current;
  }

  nowDate(): Date {
    return new Date(this.current);
  }

  /** Advances the clock; negative or non-finite amounts are a programming error. */
  advanceSeconds(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`VirtualClock.advanceSeconds: expected a finite number >= 0, got ${seconds}`);
    }
    this.current += seconds * 1000;
  }
}
