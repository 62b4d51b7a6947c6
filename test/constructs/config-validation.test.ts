/** A bad targets config stops synth in the ReleaseManager constructor, with the offending field named. */
import { App, Stack } from 'aws-cdk-lib';
import { InvalidConfigurationError, type ReleaseManagerConfigInput, type TargetConfigInput } from '../../lambdas/domain/config';
import { ReleaseManager } from '../../lib/release-manager';
import { committedConfig, ENV, SKIP_BUNDLING } from './fixtures';

/** The committed config with the first target changed by `change`; extra targets appended. */
function configWith(change: (target: TargetConfigInput) => unknown, ...extra: TargetConfigInput[]): unknown {
  const [first, ...rest] = committedConfig().targets;
  return { targets: [change(first), ...rest, ...extra] };
}

function constructionError(config: unknown): InvalidConfigurationError {
  const stack = new Stack(new App({ context: SKIP_BUNDLING }), 'Invalid', { env: ENV });
  try {
    new ReleaseManager(stack, 'ReleaseManager', { config: config as ReleaseManagerConfigInput });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    return error as InvalidConfigurationError;
  }
  throw new Error('expected ReleaseManager to reject the config');
}

describe('ReleaseManager configuration', () => {
  it.each<[string, unknown, string]>([
    [
      'canary weights that do not increase',
      configWith((t) => ({
        ...t,
        strategy: {
          type: 'canary',
          steps: [
            { weightPercent: 50, bakeSeconds: 600 },
            { weightPercent: 10, bakeSeconds: 600 },
          ],
        },
      })),
      'targets[0].strategy.steps[1].weightPercent',
    ],
    ['a missing endpointName', configWith(({ endpointName: _endpointName, ...t }) => t), 'targets[0].endpointName'],
    [
      'a duplicate endpointName',
      configWith((t) => t, {
        ...committedConfig().targets[0],
        name: 'fraud-scoring-copy',
        modelPackageGroupName: 'fraud-scoring-copy-models',
      }),
      'targets[2].endpointName',
    ],
    [
      'a role that is not an IAM role ARN',
      configWith((t) => ({ ...t, modelExecutionRoleArn: 'fraud-scoring-sagemaker-execution' })),
      'targets[0].modelExecutionRoleArn',
    ],
  ])('It should refuse %s and name the field', (_what, config, field) => {
    const error = constructionError(config);
    expect(error.message).toContain(`${field}: `);
    expect(error.issues.some((issue) => issue.startsWith(`${field}: `))).toBe(true);
  });

  it('It should say which construct the invalid config was given to', () => {
    const error = constructionError({ targets: [] });
    expect(error.message).toContain('Invalid/ReleaseManager');
    expect(error.message).toContain('targets: ');
  });
});
