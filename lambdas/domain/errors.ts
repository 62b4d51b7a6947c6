/**
 * Errors a task raises on purpose. Each `name` is what Step Functions sees as the
 * error name, so Retry and Catch rules in lib/release-workflow.ts match on them.
 */

/** The execution input is neither a model package state change event nor a documented manual input. */
export class InvalidReleaseInputError extends Error {
  override readonly name = 'InvalidReleaseInput';
}

/** A task received a payload that does not match its contract (a bug or a hand-edited redrive). */
export class InvalidTaskInputError extends Error {
  override readonly name = 'InvalidTaskInput';
}

/** The model package group is not bound to any target in the configuration. */
export class UnknownTargetError extends Error {
  override readonly name = 'UnknownTarget';
}

export class ModelPackageNotFoundError extends Error {
  override readonly name = 'ModelPackageNotFound';
}

/** Only Approved model packages are released; the event may be stale or the input wrong. */
export class ModelPackageNotApprovedError extends Error {
  override readonly name = 'ModelPackageNotApproved';
}

/** The endpoint is in a state the release manager will not touch (Failed, OutOfService, several variants). */
export class UnsupportedEndpointStateError extends Error {
  override readonly name = 'UnsupportedEndpointState';
}

/** The endpoint stayed busy (Updating, Creating, ...) longer than the target's endpoint wait. */
export class EndpointNotReadyError extends Error {
  override readonly name = 'EndpointNotReady';
}

/**
 * A mutation was about to be sent while the endpoint is not InService. SageMaker
 * would reject it with "Cannot update in-progress endpoint"; the workflow retries.
 */
export class EndpointNotInServiceError extends Error {
  override readonly name = 'EndpointNotInService';
}

/** The endpoint no longer looks like the release left it: someone else changed it. */
export class EndpointChangedError extends Error {
  override readonly name = 'EndpointChanged';
}

/** A resource with a release's deterministic name exists but differs from what the release would create. */
export class ResourceConflictError extends Error {
  override readonly name = 'ResourceConflict';
}

/** The rollback could not restore the baseline; the message carries the endpoint's state. */
export class RollbackFailedError extends Error {
  override readonly name = 'RollbackFailed';
}

/** Another execution holds the endpoint's ledger lock and its lease has not expired. */
export class LockHeldError extends Error {
  override readonly name = 'LockHeld';
  constructor(
    readonly endpointName: string,
    /** The execution ARN that holds the lock. */
    readonly owner: string,
    /** Epoch seconds. */
    readonly leaseExpiresAt: number,
  ) {
    super(`Endpoint ${endpointName} is locked by ${owner} until ${new Date(leaseExpiresAt * 1000).toISOString()} (lease expires at ${leaseExpiresAt})`);
  }
}

/** The caller does not hold the endpoint's ledger lock: another execution does, or nobody does. */
export class LockNotHeldError extends Error {
  override readonly name = 'LockNotHeld';
  constructor(
    readonly endpointName: string,
    readonly owner: string,
    /** Who holds it instead, if anybody. */
    readonly holder: string | undefined,
  ) {
    super(`${owner} does not hold the lock on endpoint ${endpointName}: ${holder ? `${holder} holds it` : 'nobody holds it'}`);
  }
}

/** The ledger has no record of the release a task refers to. */
export class ReleaseRecordNotFoundError extends Error {
  override readonly name = 'ReleaseRecordNotFound';
}

/** A finished release record is never rewritten: it was finished with another status, or a step was recorded after the end. */
export class ReleaseAlreadyFinishedError extends Error {
  override readonly name = 'ReleaseAlreadyFinished';
  constructor(
    message: string,
    readonly status: string,
  ) {
    super(message);
  }
}

/** A write does not fit the release record as stored (a step recorded before the one preceding it). */
export class ReleaseRecordConflictError extends Error {
  override readonly name = 'ReleaseRecordConflict';
}

/** An item read from the ledger does not match its schema; `issues` name the fields. */
export class CorruptLedgerItemError extends Error {
  override readonly name = 'CorruptLedgerItem';
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
  }
}

/** EventBridge rejected a lifecycle event; the task's Retry policy tries again. */
export class EventPublishFailedError extends Error {
  override readonly name = 'EventPublishFailed';
}

/** An operator asked to roll back the release in flight. */
export class ReleaseAbortedError extends Error {
  override readonly name = 'ReleaseAborted';
}

/** approve / reject found no release waiting at an approval gate (or not the one named). */
export class NothingToApproveError extends Error {
  override readonly name = 'NothingToApprove';
}
