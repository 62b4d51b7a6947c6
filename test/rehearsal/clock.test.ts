// The rehearsal's virtual clock: minute listeners at every whole minute passed, one-off
// actions at a virtual time (after the minute listeners when both fall on a boundary),
// reset between rehearsals, and the programming errors it refuses.
import { VirtualClock } from '../../rehearsal/clock';

/** 2026-01-01 09:00:00 UTC, the clock's default start. */
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const MINUTE = 60_000;

/** Offsets from T0 in seconds, which read better in expectations than epoch ms. */
const seconds = (epochMs: number) => (epochMs - T0) / 1000;

describe('VirtualClock', () => {
  it('It should start at 2026-01-01 09:00 UTC by default, or at the given time', () => {
    expect(new VirtualClock().now()).toBe(T0);
    expect(new VirtualClock(new Date(T0 + 5000)).now()).toBe(T0 + 5000);
    expect(new VirtualClock(T0 + 7000).nowDate()).toEqual(new Date(T0 + 7000));
  });

  it('It should advance by exactly the seconds asked, fractions included', () => {
    const clock = new VirtualClock();

    clock.advanceSeconds(90.5);
    clock.advanceSeconds(0);

    expect(clock.now()).toBe(T0 + 90_500);
  });

  describe('onMinute', () => {
    it('It should run the listeners at each whole minute passed, in order, with the clock set to that minute', () => {
      const clock = new VirtualClock(T0 + 20_000); // 09:00:20
      const calls: Array<[string, number, number]> = [];
      clock.onMinute((minute) => calls.push(['first', seconds(minute), seconds(clock.now())]));
      clock.onMinute((minute) => calls.push(['second', seconds(minute), seconds(clock.now())]));

      clock.advanceSeconds(170); // to 09:03:10

      expect(calls).toEqual([
        ['first', 60, 60],
        ['second', 60, 60],
        ['first', 120, 120],
        ['second', 120, 120],
        ['first', 180, 180],
        ['second', 180, 180],
      ]);
      expect(clock.now()).toBe(T0 + 190_000);
    });

    it('It should include a minute the clock lands on exactly, but not the minute it starts on', () => {
      const clock = new VirtualClock();
      const minutes: number[] = [];
      clock.onMinute((minute) => minutes.push(seconds(minute)));

      clock.advanceSeconds(120);
      clock.advanceSeconds(30);
      clock.advanceSeconds(30);

      expect(minutes).toEqual([60, 120, 180]);
    });

    it('It should stop calling a listener once it is removed', () => {
      const clock = new VirtualClock();
      const minutes: number[] = [];
      const remove = clock.onMinute((minute) => minutes.push(seconds(minute)));

      clock.advanceSeconds(60);
      remove();
      remove(); // a second call is harmless
      clock.advanceSeconds(120);

      expect(minutes).toEqual([60]);
    });
  });

  describe('at', () => {
    it('It should run actions in time order with the clock set to their time, same-time actions in the order scheduled', () => {
      const clock = new VirtualClock();
      const runs: Array<[string, number]> = [];
      const action = (name: string) => () => runs.push([name, seconds(clock.now())]);
      clock.at(T0 + 30_000, action('c'));
      clock.at(T0 + 10_000, action('a'));
      clock.at(T0 + 30_000, action('d'));
      clock.at(T0 + 20_000, action('b'));
      clock.at(T0 + 30_000, action('e'));

      clock.advanceSeconds(25);
      const beforeTheLast = [...runs];
      clock.advanceSeconds(5);

      expect(beforeTheLast).toEqual([
        ['a', 10],
        ['b', 20],
      ]);
      expect(runs).toEqual([
        ['a', 10],
        ['b', 20],
        ['c', 30],
        ['d', 30],
        ['e', 30],
      ]);
    });

    it('It should run an action due at a minute boundary after the minute listeners', () => {
      const clock = new VirtualClock();
      const runs: string[] = [];
      clock.at(T0 + MINUTE, () => runs.push(`action at ${seconds(clock.now())}`));
      clock.at(T0 + 30_000, () => runs.push(`action at ${seconds(clock.now())}`));
      clock.onMinute((minute) => runs.push(`minute ${seconds(minute)}`));

      clock.advanceSeconds(120);

      expect(runs).toEqual(['action at 30', 'minute 60', 'action at 60', 'minute 120']);
    });

    it('It should run an action scheduled for now or the past at once', () => {
      const clock = new VirtualClock();
      clock.advanceSeconds(60);
      const runs: number[] = [];

      clock.at(clock.now(), () => runs.push(1));
      clock.at(T0, () => runs.push(2));

      expect(runs).toEqual([1, 2]);
    });

    it('It should run an action scheduled by another action when its time comes in the same advance', () => {
      const clock = new VirtualClock();
      const runs: number[] = [];
      clock.at(T0 + 10_000, () => clock.at(clock.now() + 15_000, () => runs.push(seconds(clock.now()))));

      clock.advanceSeconds(30);

      expect(runs).toEqual([25]);
    });

    it('It should refuse a time that is not finite', () => {
      const clock = new VirtualClock();

      expect(() => clock.at(Number.NaN, () => undefined)).toThrow(RangeError);
      expect(() => clock.at(Number.POSITIVE_INFINITY, () => undefined)).toThrow(RangeError);
    });
  });

  describe('reset', () => {
    it('It should forget scheduled actions and set the time back, keeping the minute listeners', () => {
      const clock = new VirtualClock();
      const runs: string[] = [];
      clock.onMinute((minute) => runs.push(`minute ${seconds(minute)}`));
      clock.at(T0 + 30_000, () => runs.push('forgotten'));
      clock.advanceSeconds(10);

      clock.reset();
      clock.advanceSeconds(60);

      expect(clock.now()).toBe(T0 + MINUTE);
      expect(runs).toEqual(['minute 60']);
    });

    it('It should set the clock to a given start', () => {
      const clock = new VirtualClock();

      clock.reset(new Date(T0 - MINUTE));

      expect(clock.now()).toBe(T0 - MINUTE);
    });
  });

  it('It should refuse a negative or non-finite advance, without moving', () => {
    const clock = new VirtualClock();
    const minutes: number[] = [];
    clock.onMinute((minute) => minutes.push(minute));

    expect(() => clock.advanceSeconds(-1)).toThrow(RangeError);
    expect(() => clock.advanceSeconds(Number.NaN)).toThrow(RangeError);
    expect(() => clock.advanceSeconds(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(clock.now()).toBe(T0);
    expect(minutes).toEqual([]);
  });
});

it('It should run a minute listener added by a scheduled action during the same advance', () => {
  const start = Date.UTC(2026, 0, 1, 9, 0, 0);
  const clock = new VirtualClock(start);
  const minutes: number[] = [];
  clock.at(start + 30_000, () => clock.onMinute((m) => minutes.push(m)));
  clock.advanceSeconds(180);
  expect(minutes).toEqual([start + 60_000, start + 120_000, start + 180_000]);
});
