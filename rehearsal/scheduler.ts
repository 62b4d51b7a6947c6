/**
 * Many actors in one virtual time. Every running execution of a rehearsal (and every
 * scheduled operator action) is an actor. Actors run one at a time, each until it
 * sleeps (a Wait state, a Retry interval, a task waiting for its token) or ends; the
 * next ready actor then runs. When no actor is ready, the clock advances to the earliest
 * wake-up time (or to the clock's next scheduled action, if that is earlier), running the
 * minute listeners and scheduled actions on the way as VirtualClock.advanceSeconds does,
 * and the sleepers due then become ready, in the order they went to sleep.
 *
 * Running one actor at a time makes a rehearsal repeat exactly: two executions whose
 * waits end at the same virtual second always take their turns in the same order, and
 * nothing they do over HTTP can interleave differently from one run to the next.
 *
 * When every live actor waits with no wake-up time and nothing is scheduled, nothing can
 * ever happen again: the waits are interrupted with a DeadlockError naming who waited for
 * what (an approval nobody gives), instead of the rehearsal hanging.
 */
import type { VirtualClock } from './clock';

export interface Actor {
  readonly id: number;
  readonly name: string;
}

/** The error a wait that can never end is interrupted with. */
export class DeadlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Rehearsal.Deadlock';
  }
}

export type WaitOutcome<T> = { readonly woken: true; readonly value: T } | { readonly woken: false; readonly timedOut: true };

export interface Waiting<T> {
  readonly promise: Promise<WaitOutcome<T>>;
  /** Wakes the actor with `value` (it runs when its turn comes); false when the wait has ended already. */
  wake(value: T): boolean;
}

export interface WaitOptions {
  /** Virtual seconds after which the wait ends with `timedOut`; absent: only `wake` (or a deadlock) ends it. */
  readonly timeoutSeconds?: number;
  /** Aborting rejects the wait with the signal's reason (StopExecution). */
  readonly signal?: AbortSignal;
  /** What the actor waits for, for the deadlock report. */
  readonly reason: string;
}

export interface RunOptions {
  /** Stop once nothing is due at or before this virtual time (epoch ms); the clock then stands there. */
  readonly until?: number;
}

export type ActorStatus = 'ready' | 'running' | 'asleep' | 'done';

interface ActorRecord {
  readonly actor: Actor;
  status: ActorStatus;
  /** What a sleeping actor waits for. */
  blockedOn: string | undefined;
  /** Asleep with no wake-up time. */
  waitsForever: boolean;
  /** Ends the current sleep or wait with an error, when the actor's turn comes. */
  interrupt: ((error: unknown) => void) | undefined;
  /** Ends the current sleep or wait with an error at once, outside any turn (reset). */
  cancel: ((error: unknown) => void) | undefined;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

interface ActiveRun {
  readonly until: number | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class Scheduler {
  private nextActorId = 1;
  private nextSeq = 0;
  private readonly records = new Map<number, ActorRecord>();
  /** Actors whose turn is coming; `cancel` ends a woken wait with an error instead (reset). */
  private ready: Array<{ record: ActorRecord; resume: () => void; cancel?: (error: unknown) => void }> = [];
  /** Wake-ups and scheduled spawns, by time, then by the order they were set. */
  private timers: Timer[] = [];
  private running: ActorRecord | undefined;
  private active: ActiveRun | undefined;
  private stepQueued = false;

  constructor(readonly clock: VirtualClock) {}

  /**
   * Forgets every actor and timer: the state of a new rehearsal. Sleeping actors of the
   * old one have their sleep rejected with `reason` at once, so that they can unwind.
   */
  reset(reason: unknown = new Error('The scheduler was reset')): void {
    const sleeping = [...this.records.values()].filter((record) => record.status === 'asleep');
    // Woken but not yet resumed: their waits fail too. Actors that never started are dropped.
    const woken = this.ready.flatMap((entry) => (entry.cancel ? [entry.cancel] : []));
    this.records.clear();
    this.ready = [];
    this.timers = [];
    this.running = undefined;
    const active = this.active;
    this.active = undefined;
    active?.reject(new Error('The scheduler was reset while it ran'));
    for (const record of sleeping) record.cancel?.(reason);
    for (const cancel of woken) cancel(reason);
  }

  /**
   * Adds an actor that runs `body` when its turn comes (after the actors ready before
   * it). The promise settles with the body's outcome; the actor leaves when it ends.
   */
  spawn<T>(name: string, body: (actor: Actor) => Promise<T> | T): Promise<T> {
    const actor: Actor = { id: this.nextActorId++, name };
    const record: ActorRecord = { actor, status: 'ready', blockedOn: undefined, waitsForever: false, interrupt: undefined, cancel: undefined };
    this.records.set(actor.id, record);
    return new Promise<T>((resolve, reject) => {
      this.enqueue(record, () => {
        Promise.resolve()
          .then(() => body(actor))
          .then(resolve, reject)
          .finally(() => this.leave(record));
      });
    });
  }

  /**
   * Spawns an actor at a virtual time (at once, in turn, if that is now or past). A
   * failure of `body` fails the run, so that a broken scenario action is not silent.
   */
  at(epochMs: number, name: string, body: (actor: Actor) => Promise<unknown> | unknown): void {
    if (!Number.isFinite(epochMs)) throw new RangeError(`Scheduler.at: expected a finite time, got ${epochMs}`);
    this.addTimer(Math.max(epochMs, this.clock.now()), () => {
      this.spawn(name, body).catch((error: unknown) => this.fail(error));
    });
  }

  /** The running actor sleeps `seconds` of virtual time; aborting `signal` rejects the sleep with its reason. */
  async sleep(actor: Actor, seconds: number, signal?: AbortSignal): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`Scheduler.sleep: expected a finite number of seconds >= 0, got ${seconds}`);
    }
    await this.wait<never>(actor, { timeoutSeconds: seconds, reason: `sleeping ${seconds} s`, ...(signal ? { signal } : {}) }).promise;
  }

  /**
   * The running actor waits until `wake(value)` is called, or until `timeoutSeconds`
   * elapse. The actor is asleep from this call on: the caller registers `wake` with
   * whatever will call it and awaits the promise.
   */
  wait<T>(actor: Actor, options: WaitOptions): Waiting<T> {
    if (options.timeoutSeconds !== undefined && (!Number.isFinite(options.timeoutSeconds) || options.timeoutSeconds < 0)) {
      throw new RangeError(`Scheduler.wait: expected timeoutSeconds to be a finite number >= 0, got ${options.timeoutSeconds}`);
    }
    const record = this.requireRunning(actor, options.reason);
    let settled = false;
    let cancelTimer: (() => void) | undefined;
    let resolvePromise!: (outcome: WaitOutcome<T>) => void;
    let rejectPromise!: (error: unknown) => void;
    const promise = new Promise<WaitOutcome<T>>((resolve, reject) => {
      resolvePromise = resolve;
      rejectPromise = reject;
    });
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      cancelTimer?.();
      options.signal?.removeEventListener('abort', onAbort);
      record.interrupt = undefined;
      record.cancel = undefined;
      record.waitsForever = false;
      return true;
    };
    const end = (resume: () => void): boolean => {
      if (!settle()) return false;
      this.enqueue(record, resume, rejectPromise);
      return true;
    };
    const onAbort = () => end(() => rejectPromise(options.signal?.reason));

    record.status = 'asleep';
    record.blockedOn = options.reason;
    record.waitsForever = options.timeoutSeconds === undefined;
    record.interrupt = (error) => end(() => rejectPromise(error));
    record.cancel = (error) => {
      if (settle()) rejectPromise(error);
    };
    if (options.timeoutSeconds !== undefined) {
      cancelTimer = this.addTimer(this.clock.now() + options.timeoutSeconds * 1000, () => end(() => resolvePromise({ woken: false, timedOut: true })));
    }
    this.running = undefined;
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    this.queueStep();
    return { promise, wake: (value: T) => end(() => resolvePromise({ woken: true, value })) };
  }

  /**
   * Runs actors until none is left (or, with `until`, until nothing is due by then). A
   * deadlock interrupts the stuck waits and the run goes on until their actors end.
   * Rejects when a scheduled action, a minute listener or an `at` body fails.
   */
  run(options: RunOptions = {}): Promise<void> {
    if (this.active) return Promise.reject(new Error('Scheduler.run: a run is in progress already'));
    return new Promise<void>((resolve, reject) => {
      this.active = { until: options.until, resolve, reject };
      this.queueStep();
    });
  }

  /** Whether `run` is in progress. */
  get isRunning(): boolean {
    return this.active !== undefined;
  }

  /** The live actors (ready, running or asleep), in the order they were spawned. */
  actors(): Array<{ readonly name: string; readonly status: ActorStatus; readonly blockedOn?: string }> {
    return [...this.records.values()].map((record) => ({
      name: record.actor.name,
      status: record.status,
      ...(record.status === 'asleep' && record.blockedOn ? { blockedOn: record.blockedOn } : {}),
    }));
  }

  // ---------------------------------------------------------------------------------

  private requireRunning(actor: Actor, what: string): ActorRecord {
    const record = this.records.get(actor.id);
    if (!record || record.status !== 'running') {
      throw new Error(
        `Actor ${actor.name} cannot start "${what}": it is ${record?.status ?? 'not known to the scheduler'}, and only the running actor may sleep or wait`,
      );
    }
    return record;
  }

  private enqueue(record: ActorRecord, resume: () => void, cancel?: (error: unknown) => void): void {
    record.status = 'ready';
    record.blockedOn = undefined;
    this.ready.push({ record, resume, ...(cancel ? { cancel } : {}) });
    this.queueStep();
  }

  private leave(record: ActorRecord): void {
    record.status = 'done';
    this.records.delete(record.actor.id);
    if (this.running === record) this.running = undefined;
    this.queueStep();
  }

  private addTimer(at: number, fire: () => void): () => void {
    const timer: Timer = { at, seq: this.nextSeq++, fire };
    let index = this.timers.findIndex((t) => t.at > at);
    if (index === -1) index = this.timers.length;
    this.timers.splice(index, 0, timer);
    return () => {
      const position = this.timers.indexOf(timer);
      if (position >= 0) this.timers.splice(position, 1);
    };
  }

  /** One step per macrotask, so that the promise continuations of the last actor have all run. */
  private queueStep(): void {
    if (!this.active || this.stepQueued) return;
    this.stepQueued = true;
    setImmediate(() => {
      this.stepQueued = false;
      try {
        this.step();
      } catch (error) {
        this.fail(error);
      }
    });
  }

  private step(): void {
    const active = this.active;
    if (!active || this.running) return;
    const next = this.ready.shift();
    if (next) {
      next.record.status = 'running';
      this.running = next.record;
      next.resume();
      return;
    }
    const timerAt = this.timers[0]?.at;
    if (this.records.size === 0 && timerAt === undefined) return this.stop();
    const actionAt = this.clock.nextActionAt();
    const target = Math.min(timerAt ?? Infinity, actionAt ?? Infinity);
    if (active.until !== undefined && target > active.until) {
      if (active.until > this.clock.now()) this.clock.advanceTo(active.until);
      return this.stop();
    }
    if (target === Infinity) return this.breakDeadlock();
    this.clock.advanceTo(target);
    while (this.timers.length > 0 && this.timers[0]!.at <= this.clock.now()) this.timers.shift()!.fire();
    this.queueStep();
  }

  private breakDeadlock(): void {
    const stuck = [...this.records.values()].filter((record) => record.status === 'asleep' && record.waitsForever);
    if (stuck.length === 0) return this.stop();
    const who = stuck.map((record) => `${record.actor.name} (${record.blockedOn ?? 'waiting'})`).join('; ');
    const at = new Date(this.clock.now()).toISOString();
    for (const record of stuck) {
      record.interrupt?.(
        new DeadlockError(
          `Deadlock at ${at}: ${record.actor.name} waited for ${record.blockedOn ?? 'something'}, but every actor was waiting and nothing was scheduled (${who})`,
        ),
      );
    }
  }

  private stop(): void {
    const active = this.active;
    this.active = undefined;
    active?.resolve();
  }

  private fail(error: unknown): void {
    const active = this.active;
    this.active = undefined;
    active?.reject(error);
  }
}
