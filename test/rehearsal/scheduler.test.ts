// The scheduler: actors run one at a time in one virtual time; the clock advances only
// when every actor sleeps, to the earliest wake-up (or clock action), running minute
// listeners and actions on the way as advanceSeconds does; same-time sleepers wake in the
// order they went to sleep; a run where everyone waits forever ends in a DeadlockError.
import { VirtualClock } from '../../rehearsal/clock';
import { DeadlockError, Scheduler, type Actor } from '../../rehearsal/scheduler';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const MINUTE = 60_000;

function setup() {
  const clock = new VirtualClock();
  const scheduler = new Scheduler(clock);
  const log: string[] = [];
  const at = () => (clock.now() - T0) / 1000;
  return { clock, scheduler, log, at };
}

/** Lets the event loop turn a few times, as an HTTP call would. */
async function busy(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('Scheduler', () => {
  it('It should wake sleepers due at the same time in the order they went to sleep, and run them one at a time', async () => {
    const { scheduler, log, at } = setup();
    const actor = (name: string, first: number) => async (self: Actor) => {
      await scheduler.sleep(self, first);
      log.push(`${name} wakes at ${at()}`);
      await busy();
      log.push(`${name} done at ${at()}`);
    };
    // C goes to sleep first (it is spawned first), then A, then B; all wake at 10 s.
    void scheduler.spawn('C', actor('C', 10));
    void scheduler.spawn('A', actor('A', 10));
    void scheduler.spawn('B', actor('B', 10));

    await scheduler.run();

    expect(log).toEqual(['C wakes at 10', 'C done at 10', 'A wakes at 10', 'A done at 10', 'B wakes at 10', 'B done at 10']);
  });

  it('It should advance the clock only once every actor sleeps, to the earliest wake-up', async () => {
    const { scheduler, log, at } = setup();
    void scheduler.spawn('long sleeper', async (self) => {
      await scheduler.sleep(self, 300);
      log.push(`long sleeper wakes at ${at()}`);
    });
    void scheduler.spawn('busy worker', async (self) => {
      await busy();
      log.push(`worker still at ${at()} after its work`);
      await scheduler.sleep(self, 45);
      log.push(`worker wakes at ${at()}`);
      await scheduler.sleep(self, 45);
      log.push(`worker wakes at ${at()}`);
    });

    await scheduler.run();

    expect(log).toEqual(['worker still at 0 after its work', 'worker wakes at 45', 'worker wakes at 90', 'long sleeper wakes at 300']);
  });

  it('It should run the minute listeners and clock actions on the way exactly as advanceSeconds does', async () => {
    const trace = (clock: VirtualClock, log: string[]) => {
      clock.onMinute((minute) => log.push(`minute ${(minute - T0) / 1000}`));
      clock.at(T0 + MINUTE, () => log.push(`action at ${(clock.now() - T0) / 1000}`));
      clock.at(T0 + 90_000, () => {
        log.push(`action at ${(clock.now() - T0) / 1000}`);
        clock.at(clock.now() + 15_000, () => log.push(`nested action at ${(clock.now() - T0) / 1000}`));
      });
    };
    const reference = new VirtualClock();
    const expected: string[] = [];
    trace(reference, expected);
    reference.advanceSeconds(150);

    const { clock, scheduler, log } = setup();
    trace(clock, log);
    void scheduler.spawn('sleeper', async (self) => {
      await scheduler.sleep(self, 150);
      log.push('woke');
    });
    await scheduler.run();

    expect(log).toEqual([...expected, 'woke']);
    expect(expected).toEqual(['minute 60', 'action at 60', 'action at 90', 'nested action at 105', 'minute 120']);
    expect(clock.now()).toBe(reference.now());
  });

  it('It should stop at a clock action due before the next wake-up, so that the action can wake a waiter then', async () => {
    const { clock, scheduler, at } = setup();
    let result: unknown;
    void scheduler.spawn('waiter', async (self) => {
      const waiting = scheduler.wait<string>(self, { reason: 'a signal', timeoutSeconds: 600 });
      clock.at(T0 + 20_000, () => waiting.wake('signal'));
      result = { outcome: await waiting.promise, at: at() };
    });

    await scheduler.run();

    expect(result).toEqual({ outcome: { woken: true, value: 'signal' }, at: 20 });
  });

  it('It should end a wait that nobody answers at its timeout, and refuse a late wake-up', async () => {
    const { scheduler, at } = setup();
    const results: unknown[] = [];
    let late: (() => boolean) | undefined;
    void scheduler.spawn('waiter', async (self) => {
      const waiting = scheduler.wait<string>(self, { reason: 'an answer', timeoutSeconds: 30 });
      late = () => waiting.wake('too late');
      results.push(await waiting.promise, at());
    });

    await scheduler.run();

    expect(results).toEqual([{ woken: false, timedOut: true }, 30]);
    expect(late?.()).toBe(false);
  });

  it('It should fail every wait that can never end with a DeadlockError naming who waited for what, instead of hanging', async () => {
    const { clock, scheduler, at } = setup();
    // A clock action still to come is not a deadlock: the clock goes there first.
    clock.at(T0 + 120_000, () => undefined);
    const outcomes: string[] = [];
    for (const name of ['first', 'second']) {
      void scheduler.spawn(name, async (self) => {
        try {
          await scheduler.wait(self, { reason: `an approval for ${name}` }).promise;
        } catch (error) {
          expect(error).toBeInstanceOf(DeadlockError);
          outcomes.push(`${name}: ${(error as Error).name} at ${at()}: ${(error as Error).message}`);
        }
      });
    }

    await scheduler.run();

    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).toMatch(/^first: Rehearsal\.Deadlock at 120: Deadlock at 2026-01-01T09:02:00\.000Z: first waited for an approval for first/);
    expect(outcomes[0]).toContain('(first (an approval for first); second (an approval for second))');
    expect(outcomes[1]).toMatch(/^second: Rehearsal\.Deadlock at 120/);
  });

  it('It should reject a sleep when its abort signal fires, at the actor’s turn', async () => {
    const { scheduler, at } = setup();
    const controller = new AbortController();
    const log: string[] = [];
    void scheduler.spawn('sleeper', async (self) => {
      try {
        await scheduler.sleep(self, 3600, controller.signal);
      } catch (error) {
        log.push(`sleeper interrupted at ${at()}: ${(error as Error).message}`);
      }
    });
    scheduler.at(T0 + 50_000, 'stopper', () => {
      log.push(`stop at ${at()}`);
      controller.abort(new Error('stopped'));
    });

    await scheduler.run();

    expect(log).toEqual(['stop at 50', 'sleeper interrupted at 50: stopped']);
  });

  it('It should spawn scheduled actors at their time, and fail the run when one of them fails', async () => {
    const { scheduler, at } = setup();
    const log: string[] = [];
    scheduler.at(T0 + 30_000, 'later', () => log.push(`later at ${at()}`));
    scheduler.at(T0 + 10_000, 'sooner', () => log.push(`sooner at ${at()}`));

    await scheduler.run();
    expect(log).toEqual(['sooner at 10', 'later at 30']);

    scheduler.at(T0 + 60_000, 'broken', () => {
      throw new Error('broken scenario action');
    });
    await expect(scheduler.run()).rejects.toThrow('broken scenario action');
  });

  it('It should not advance the clock for clock actions once no actor is left', async () => {
    const { clock, scheduler, at } = setup();
    let fired = false;
    clock.at(T0 + 3_600_000, () => (fired = true));
    void scheduler.spawn('short', async (self) => scheduler.sleep(self, 5));

    await scheduler.run();

    expect(at()).toBe(5);
    expect(fired).toBe(false);
  });

  it('It should stop a run at `until`, the sleepers still asleep, and go on with the next run', async () => {
    const { scheduler, at } = setup();
    const log: string[] = [];
    void scheduler.spawn('sleeper', async (self) => {
      await scheduler.sleep(self, 100);
      log.push(`woke at ${at()}`);
    });

    await scheduler.run({ until: T0 + 40_000 });
    expect({ at: at(), log: [...log], actors: scheduler.actors() }).toEqual({
      at: 40,
      log: [],
      actors: [{ name: 'sleeper', status: 'asleep', blockedOn: 'sleeping 100 s' }],
    });

    await scheduler.run();
    expect(log).toEqual(['woke at 100']);
    expect(scheduler.actors()).toEqual([]);
  });

  it('It should fail the waits of the old actors on reset, so that they unwind, and never start an actor that had not started', async () => {
    const { scheduler } = setup();
    const log: string[] = [];
    const unwinding = (name: string, seconds: number) => async (self: Actor) => {
      try {
        await scheduler.sleep(self, seconds);
        log.push(`${name} ran`);
      } catch (error) {
        log.push(`${name}: ${(error as Error).message}`);
      }
    };
    // The resetter and the woken one both wake at 10 s; the resetter's turn comes first.
    void scheduler.spawn('resetter', async (self) => {
      await scheduler.sleep(self, 10);
      void scheduler.spawn('never started', () => log.push('never started ran'));
      scheduler.reset(new Error('new rehearsal'));
    });
    void scheduler.spawn('woken', unwinding('woken', 10));
    void scheduler.spawn('sleeper', unwinding('sleeper', 600));

    await expect(scheduler.run()).rejects.toThrow('The scheduler was reset while it ran');
    await busy();

    expect(log.sort()).toEqual(['sleeper: new rehearsal', 'woken: new rehearsal']);
    expect(scheduler.actors()).toEqual([]);
  });

  it('It should refuse a sleep from an actor that is not the one running', async () => {
    const { scheduler } = setup();
    let stranger: Actor | undefined;
    void scheduler.spawn('stranger', async (self) => {
      stranger = self;
      await scheduler.sleep(self, 10);
    });
    let refusal: unknown;
    void scheduler.spawn('other', async () => {
      try {
        await scheduler.sleep(stranger!, 1);
      } catch (error) {
        refusal = error;
      }
    });

    await scheduler.run();

    expect(refusal).toBeInstanceOf(Error);
    expect((refusal as Error).message).toMatch(/Actor stranger cannot start "sleeping 1 s": it is asleep/);
  });
});
