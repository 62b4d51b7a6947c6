/**
 * SDK v3 clients, created once per Lambda container. Endpoints come from the standard
 * AWS_ENDPOINT_URL_<SERVICE> variables when set (the rehearsal points them at its
 * simulators), otherwise from the region.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';

export const sagemaker = new SageMakerClient({});
export const cloudwatch = new CloudWatchClient({});
