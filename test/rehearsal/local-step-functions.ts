// Test harness for the engine's local Step Functions: a virtual clock, the scheduler,
// the simulators on fresh ports, and real SDK v3 clients (no retries) pointed at them.
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { VirtualClock } from '../../rehearsal/clock';
import type { AslDefinition } from '../../rehearsal/definition';
import { LocalStateMachine, type StateMachineObserver, type TaskFunction } from '../../rehearsal/engine';
import { Scheduler } from '../../rehearsal/scheduler';
import { startSimulators, type RunningSimulators } from '../../rehearsal/simulator';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
/** 2026-01-01 09:00:00 UTC, the clock's default start. */
export const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

export interface LocalHarness {
  readonly clock: VirtualClock;
  readonly scheduler: Scheduler;
  readonly sims: RunningSimulators;
  readonly sfn: SFNClient;
  readonly events: EventBridgeClient;
  /** Defines a state machine run by the engine, with local task functions. */
  define(name: string, definition: AslDefinition, tasks: Record<string, TaskFunction>, observer?: StateMachineObserver): Promise<LocalStateMachine>;
  /** Virtual seconds since T0. */
  seconds(): number;
  close(): Promise<void>;
}

export async function startLocal(): Promise<LocalHarness> {
  const clock = new VirtualClock();
  const scheduler = new Scheduler(clock);
  const sims = await startSimulators({ clock, region: REGION, accountId: ACCOUNT });
  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
  const sfn = new SFNClient({ endpoint: sims.urls.stepfunctions, region: REGION, credentials, maxAttempts: 1 });
  const events = new EventBridgeClient({ endpoint: sims.urls.eventbridge, region: REGION, credentials, maxAttempts: 1 });
  return {
    clock,
    scheduler,
    sims,
    sfn,
    events,
    define: (name, definition, tasks, observer) =>
      LocalStateMachine.create({ name, definition, tasks, scheduler, stepfunctions: sims.stepfunctions, ...(observer ? { observer } : {}) }),
    seconds: () => (clock.now() - T0) / 1000,
    close: async () => {
      scheduler.reset();
      sfn.destroy();
      events.destroy();
      await sims.close();
    },
  };
}

/** A Lambda-style Resource; the engine binds tasks by state name, so any ARN will do. */
export const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`Rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('Expected a rejection, but the promise resolved');
}
