/**
 * Turns what Step Functions recorded about a failure into one readable sentence: the
 * cause of the execution's ReleaseRolledBack error.
 */
import type { Failure } from '../contracts';

/** Lambda's lambda:invoke puts `{"errorType","errorMessage","trace"}` JSON in Cause. */
export function describeFailure(failure: Failure): string {
  const cause = failure.Cause?.trim();
  if (!cause) return failure.Error;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) {
      const { errorType, errorMessage } = parsed as { errorType?: unknown; errorMessage?: unknown };
      return `${typeof errorType === 'string' ? errorType : failure.Error}: ${String(errorMessage)}`;
    }
  } catch {
    // Not JSON: the cause is already text.
  }
  return `${failure.Error}: ${cause}`;
}
