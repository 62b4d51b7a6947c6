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
