/**
 * The operator commands' errors and how AWS SDK errors become one clear line: a bad
 * argument or a missing setting is a usage error (exit 2, before any AWS call); an
 * AWS service that cannot be reached, missing or rejected credentials, a denied
 * action, or a missing table or state machine is a command error (exit 1). Neither
 * prints a stack trace.
 */

/** Bad input: a value that fails the contract, a missing or malformed setting. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** The command could not do what was asked, for a reason the message states. Exit 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly exitCode = 1;
}

/** The part of an SDK v3 client's resolved config the messages need. */
interface ClientConfigView {
  region: unknown;
  endpoint?: unknown;
  endpointProvider?: unknown;
}

/** One AWS service as the commands use it: its display name, the AWS_ENDPOINT_URL_<KEY> suffix, and its client. */
export interface AwsService {
  readonly name: 'DynamoDB' | 'SageMaker' | 'Step Functions';
  readonly envKey: 'DYNAMODB' | 'SAGEMAKER' | 'SFN';
  readonly client: { readonly config: object };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What a failed call was doing, for the message. */
export interface CallHints {
  /** The IAM action, like `dynamodb:Query`. */
  readonly action: string;
  /** The message when the service says the resource (table, state machine) does not exist. */
  readonly notFound?: string;
}

/** Error codes and names of a connection that could not be made or timed out. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
  'NetworkingError',
]);
const CREDENTIALS_REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidClientTokenId',
  'IncompleteSignatureException',
]);
const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'UnauthorizedException', 'NotAuthorized']);
const NOT_FOUND = new Set(['ResourceNotFoundException', 'StateMachineDoesNotExist', 'ExecutionDoesNotExist']);

interface SdkErrorView {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Where the service's requests go: an explicit endpoint, an AWS_ENDPOINT_URL_* override, or the regional endpoint. */
export async function whereIs(service: AwsService): Promise<string> {
  const config = service.client.config as ClientConfigView;
  try {
    if (typeof config.endpoint === 'function') {
      const endpoint = (await (config.endpoint as () => Promise<{ protocol: string; hostname: string; port?: number; path?: string }>)()) ?? undefined;
      if (endpoint)
        return `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path && endpoint.path !== '/' ? endpoint.path : ''}`;
    }
  } catch {
    // fall through to the other ways of saying where
  }
  const override = service.env[`AWS_ENDPOINT_URL_${service.envKey}`] ?? service.env.AWS_ENDPOINT_URL;
  if (override) return override;
  let region: string | undefined;
  try {
    region = typeof config.region === 'function' ? await (config.region as () => Promise<string>)() : (config.region as string | undefined);
    if (region && typeof config.endpointProvider === 'function') {
      const resolved = (config.endpointProvider as (params: object, context: object) => { url: URL })(
        { Region: region, UseFIPS: false, UseDualStack: false },
        {},
      );
      return resolved.url.origin;
    }
  } catch {
    // fall through
  }
  return region ? `region ${region}` : 'its default endpoint';
}

function isNetworkError(error: SdkErrorView): boolean {
  if (NETWORK_ERRORS.has(error.name ?? '') || NETWORK_ERRORS.has(error.code ?? '')) return true;
  // An SDK error that never got an HTTP response: the request did not reach the service.
  return error.$metadata !== undefined && error.$metadata.httpStatusCode === undefined;
}

/** One clear line for an error an AWS call raised; anything that is not an AWS error is returned as is. */
export async function describeAwsError(error: unknown, service: AwsService, hints: CallHints): Promise<unknown> {
  if (error instanceof UsageError || error instanceof CommandError) return error;
  const e = (error ?? {}) as SdkErrorView;
  const message = (e.message ?? String(error)).trim();
  if (e.name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new CommandError(
      `No AWS credentials for ${service.name}: ${message}. Set AWS_PROFILE (and run \`aws sso login\` for SSO profiles) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
    );
  }
  if (CREDENTIALS_REJECTED.has(e.name ?? '')) {
    return new CommandError(
      `${service.name} rejected the AWS credentials (${e.name}): ${message}. Refresh them (\`aws sso login\` for SSO profiles) and try again.`,
    );
  }
  if (ACCESS_DENIED.has(e.name ?? '') || e.$metadata?.httpStatusCode === 403) {
    return new CommandError(`Access denied: ${hints.action} on ${service.name}: ${message}. The caller's IAM policy must allow ${hints.action}.`);
  }
  if (hints.notFound && NOT_FOUND.has(e.name ?? '')) return new CommandError(`${hints.notFound} (${message})`);
  if (isNetworkError(e)) return new CommandError(`Cannot reach ${service.name} at ${await whereIs(service)}: ${message || e.code || e.name}`);
  if (e.$metadata?.httpStatusCode !== undefined) return new CommandError(`${service.name} ${hints.action} failed: ${e.name ?? 'error'}: ${message}`);
  return error;
}

/** Runs one AWS call; its failure becomes a CommandError with one clear line. */
export async function viaAws<T>(service: AwsService, hints: CallHints, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw await describeAwsError(error, service, hints);
  }
}
