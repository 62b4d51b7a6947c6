#!/usr/bin/env node
/**
 * CDK app entry (cdk.json "app"). Reads the targets file (default config/targets.json,
 * or `cdk synth -c config=path/to/targets.json`), builds the stack and runs the
 * cdk-nag AwsSolutions checks on every synth: an unacknowledged finding fails it.
 * Optional context: `stackName`, `notificationTopicArn` (an SNS topic for lifecycle
 * notifications), `notifyOn` (comma-separated lifecycle detail-types), `ledgerKeyArn`
 * (a customer managed KMS key for the ledger table).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Arn, ArnFormat, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { InvalidConfigurationError } from '../lambdas/domain/config';
import { ReleaseManagerStack } from '../lib/release-manager-stack';
import type { LifecycleDetailType } from '../lib/release-notifications';

const app = new App();
const configPath = resolve(String(app.node.tryGetContext('config') ?? 'config/targets.json'));
const optionalContext = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === '' ? undefined : String(value);
};
let document: unknown;
try {
  document = JSON.parse(readFileSync(configPath, 'utf8'));
} catch (error) {
  console.error(`Cannot read the targets file ${configPath}: ${(error as Error).message}`);
  process.exit(1);
}
const notificationTopicArn = optionalContext('notificationTopicArn');
// The notification rule must sit in the topic's account and region: with a topic, its ARN
// says where the stack goes (`cdk deploy` refuses credentials for another account).
const topicEnv = notificationTopicArn ? Arn.split(notificationTopicArn, ArnFormat.NO_RESOURCE_NAME) : undefined;
const env = topicEnv
  ? { account: topicEnv.account, region: topicEnv.region }
  : { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
try {
  new ReleaseManagerStack(app, String(app.node.tryGetContext('stackName') ?? 'SageMakerReleaseManager'), {
    config: document as never,
    notificationTopicArn,
    notifyOn: optionalContext('notifyOn')
      ?.split(',')
      .map((t) => t.trim()) as LifecycleDetailType[] | undefined,
    ledgerKeyArn: optionalContext('ledgerKeyArn'),
    env,
    description: 'SageMaker Release Manager: canary, linear and blue/green releases of SageMaker endpoints with automatic rollback',
  });
} catch (error) {
  if (error instanceof InvalidConfigurationError) {
    console.error(`${configPath}: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
