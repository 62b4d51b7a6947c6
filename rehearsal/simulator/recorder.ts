/**
 * Call log and throttling shared by the simulators. Every request is recorded, the
 * rejected ones too, so a rehearsal can show exactly what the workflow asked of AWS
 * and when (in virtual time).
 */
import type { VirtualClock } from '../clock';
import { SimulatedServiceError } from './errors';

export type SimulatedService = 'sagemaker' | 'cloudwatch' | 'stepfunctions' | 'eventbridge';

export interface RecordedCall<S extends SimulatedService = SimulatedService> {
  /** Virtual clock, epoch ms. */
  at: number;
  service: S;
  operation: string;
  input: unknown;
  /** Error name (AWS error code) when the call was rejected. */
  error?: string;
  errorMessage?: string;
}

const READ_ONLY_OPERATION = /^(Describe|List|Get)/;

export class CallRecorder<S extends SimulatedService> {
  readonly calls: RecordedCall<S>[] = [];
  private readonly throttles = new Map<string, number>();

  constructor(
    private readonly service: S,
    private readonly clock: VirtualClock,
  ) {}

  throttle(operation: string, times: number): void {
    if (!Number.isInteger(times) || times < 0) {
      throw new RangeError(`throttle(${operation}): times must be an integer >= 0, got ${times}`);
    }
    // Bursts add up: a second burst before the first is used up throttles both.
    this.throttles.set(operation, (this.throttles.get(operation) ?? 0) + times);
  }

  /** Runs one request: records it, applies pending throttles, records the outcome. */
  run<T>(operation: string, input: unknown, handler: () => T): T {
    const call: RecordedCall<S> = { at: this.clock.now(), service: this.service, operation, input: snapshot(input) };
    this.calls.push(call);
    try {
      const remaining = this.throttles.get(operation) ?? 0;
      if (remaining > 0) {
        this.throttles.set(operation, remaining - 1);
        // Both services document ThrottlingException (HTTP 400) among their common errors.
        throw new SimulatedServiceError('ThrottlingException', 'Rate exceeded');
      }
      return handler();
    } catch (error) {
      call.error = error instanceof Error ? error.name : 'InternalFailure';
      call.errorMessage = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  /** Forgets every call and pending throttle (a new rehearsal in the same process). */
  reset(): void {
    this.calls.length = 0;
    this.throttles.clear();
  }

  mutatingCalls(): RecordedCall<S>[] {
    return this.calls.filter((call) => !READ_ONLY_OPERATION.test(call.operation));
  }
}

// The caller may reuse or mutate its input object after the call; the log must not change.
function snapshot(input: unknown): unknown {
  try {
    return structuredClone(input);
  } catch {
    return input;
  }
}
