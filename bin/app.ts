#!/usr/bin/env node
/**
 * CDK app entry (cdk.json "app"). Reads the targets file (default config/targets.json,
 * or `cdk synth -c config=path/to/targets.json`), builds the stack and runs the
 * cdk-nag AwsSolutions checks on every synth: an unacknowledged finding fails it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { InvalidConfigurationError } from '../lambdas/domain/config';
import { ReleaseManagerStack } from '../lib/release-manager-stack';

const app = new App();
const configPath = resolve(String(app.node.tryGetContext('config') ?? 'config/targets.json'));
let document: unknown;
try {
  document = JSON.parse(readFileSync(configPath, 'utf8'));
} catch (error) {
  console.error(`Cannot read the targets file ${configPath}: ${(error as Error).message}`);
  process.exit(1);
}
try {
  new ReleaseManagerStack(app, String(app.node.tryGetContext('stackName') ?? 'SageMakerReleaseManager'), {
    config: document as never,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
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
