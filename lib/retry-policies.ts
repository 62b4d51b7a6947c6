/**
 * Named Retry policies for the release workflow's tasks. Each comment gives the most
 * time the policy spends waiting between attempts.
 */
import { Duration } from 'aws-cdk-lib';
import { JitterType, type RetryProps } from 'aws-cdk-lib/aws-stepfunctions';

/** The Lambda service itself failed to run the task: 2+4+8+16+32 = 62 s. */
export const RETRY_LAMBDA_SERVICE: RetryProps = {
  errors: [
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  interval: Duration.seconds(2),
  maxAttempts: 5,
  backoffRate: 2,
};

/** SageMaker, CloudWatch, DynamoDB, EventBridge or Step Functions throttled us after the SDK's own retries: at most 5+10+20+40+60+60 = 195 s, jittered. */
export const RETRY_THROTTLING: RetryProps = {
  errors: ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'],
  interval: Duration.seconds(5),
  maxAttempts: 6,
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
  jitterStrategy: JitterType.FULL,
};

/** A mutation found the endpoint busy (not InService): 30+45+68+101+152 = 396 s. */
export const RETRY_ENDPOINT_BUSY: RetryProps = {
  errors: ['EndpointNotInService'],
  interval: Duration.seconds(30),
  maxAttempts: 5,
  backoffRate: 1.5,
};

/** A network or 5xx error that the SDK gave up on, or a lifecycle event EventBridge did not take: 5+10+20 = 35 s. */
export const RETRY_TRANSIENT: RetryProps = {
  errors: ['InternalFailure', 'ServiceUnavailable', 'InternalServerError', 'TimeoutError', 'NetworkingError', 'EventPublishFailed'],
  interval: Duration.seconds(5),
  maxAttempts: 3,
  backoffRate: 2,
};

/** A rollback retries harder than a forward step: throttling up to 12 attempts, 5+10+20+40 then 60 s apart (555 s). */
export const RETRY_ROLLBACK_THROTTLING: RetryProps = { ...RETRY_THROTTLING, maxAttempts: 12 };
/** Lambda service errors during a rollback: 10 attempts, 2+4+8+16+32 then 60 s apart (362 s). */
export const RETRY_ROLLBACK_LAMBDA_SERVICE: RetryProps = { ...RETRY_LAMBDA_SERVICE, maxAttempts: 10, maxDelay: Duration.seconds(60) };
/** Transient errors during a rollback: 10 attempts, 5+10+20+40 then 60 s apart (435 s). */
export const RETRY_ROLLBACK_TRANSIENT: RetryProps = { ...RETRY_TRANSIENT, maxAttempts: 10, maxDelay: Duration.seconds(60) };

export const FORWARD_RETRIES: readonly RetryProps[] = [RETRY_LAMBDA_SERVICE, RETRY_THROTTLING, RETRY_TRANSIENT];
/** Another change started between the rollback's read and its write: 30+45+68+101+152+228+300x4 = 1824 s. */
export const RETRY_ROLLBACK_ENDPOINT_BUSY: RetryProps = { ...RETRY_ENDPOINT_BUSY, maxAttempts: 10, maxDelay: Duration.seconds(300) };

export const ROLLBACK_RETRIES: readonly RetryProps[] = [
  RETRY_ROLLBACK_ENDPOINT_BUSY,
  RETRY_ROLLBACK_LAMBDA_SERVICE,
  RETRY_ROLLBACK_THROTTLING,
  RETRY_ROLLBACK_TRANSIENT,
];
