/**
 * The error a simulator throws for anything the real service would reject. The HTTP
 * layer turns it into the JSON-protocol error body (`__type` + `message`), so the real
 * SDK v3 client raises the same named exception it would get from AWS.
 */
export interface SimulatedServiceErrorOptions {
  /** HTTP status; AWS JSON services use 400 for almost every client error. */
  statusCode?: number;
  /**
   * CloudWatch is "awsQueryCompatible": beside `__type` it sends the legacy Query error
   * code in `x-amzn-query-error` (e.g. `ValidationError`), which the SDK copies to
   * `error.Code` and uses to pick the modelled exception class.
   */
  queryErrorCode?: string;
}

export class SimulatedServiceError extends Error {
  readonly statusCode: number;
  readonly queryErrorCode: string | undefined;

  constructor(name: string, message: string, options: SimulatedServiceErrorOptions = {}) {
    super(message);
    this.name = name;
    this.statusCode = options.statusCode ?? 400;
    this.queryErrorCode = options.queryErrorCode;
  }
}

export function isSimulatedServiceError(error: unknown): error is SimulatedServiceError {
  return error instanceof SimulatedServiceError;
}
