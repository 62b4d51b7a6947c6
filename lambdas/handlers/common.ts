/**
 * What every task handler shares: the logger, the middy wrapper with the house
 * middleware, input validation at the edge, and the tags put on created resources.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Release } from '../contracts';
import { loadConfigFile } from '../aws/config-file';
import { formatIssues, type ReleaseManagerConfig } from '../domain/config';
import { InvalidTaskInputError } from '../domain/errors';

export const logger = new Logger({ serviceName: 'sagemaker-release-manager' });

/** Wraps a plain task function as a Lambda handler with the house middleware. */
export function lambdaHandler<I, O>(task: (event: I) => Promise<O>): middy.MiddyfiedHandler<I, O, Error, Context> {
  return middy<I, O, Error, Context>()
    .use(injectLambdaContext(logger, { clearState: true }))
    .handler(task);
}

/**
 * The Lambda handler of a task that needs the targets: `configured` is built on the first
 * invocation from the targets file bundled next to the handler (TARGETS_FILE overrides it).
 */
export function configuredHandler<O>(configured: (config: ReleaseManagerConfig) => (event: unknown) => Promise<O>) {
  let task: ((event: unknown) => Promise<O>) | undefined;
  return lambdaHandler((event: unknown) => {
    task ??= configured(loadConfigFile(process.env.TARGETS_FILE ?? join(__dirname, 'targets.json')));
    return task(event);
  });
}

export function parseTaskInput<S extends z.ZodType>(schema: S, event: unknown): z.infer<S> {
  const result = schema.safeParse(event);
  if (!result.success) {
    throw new InvalidTaskInputError(`Task input does not match its contract: ${formatIssues(result.error).join('; ')}`);
  }
  return result.data;
}

export const TAG_RELEASE = 'sagemaker-release-manager:release';
export const TAG_TARGET = 'sagemaker-release-manager:target';

export function releaseTags(release: Pick<Release, 'releaseId' | 'targetName'>): Array<{ Key: string; Value: string }> {
  return [
    { Key: TAG_RELEASE, Value: release.releaseId },
    { Key: TAG_TARGET, Value: release.targetName },
  ];
}
