import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidConfigurationError, parseConfig, type ReleaseManagerConfigInput, type TargetConfigInput } from '../../lambdas/domain/config';

const target = (overrides: Partial<TargetConfigInput> = {}): TargetConfigInput => ({
  modelPackageGroupName: 'group-a',
  endpointName: 'endpoint-a',
  modelExecutionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  candidate: { instanceType: 'ml.m5.large', instanceCount: 1 },
  strategy: { type: 'all-at-once', bakeSeconds: 600 },
  ...overrides,
});

function issuesOf(config: unknown): string[] {
  try {
    parseConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    return [...(error as InvalidConfigurationError).issues];
  }
  throw new Error('expected the config to be rejected');
}

describe('configuration', () => {
  it('It should accept the committed sample config with at least one canary and one all-at-once target', () => {
    const config = parseConfig(JSON.parse(readFileSync(join(__dirname, '../../config/targets.json'), 'utf8')));
    expect(config.targets.length).toBeGreaterThanOrEqual(2);
    expect(config.targets.map((t) => t.strategy.type)).toEqual(expect.arrayContaining(['canary', 'all-at-once']));
  });

  it('It should fill in the documented defaults', () => {
    const [parsed] = parseConfig({ targets: [target()] }).targets;
    expect(parsed).toMatchObject({ alarms: [], onInsufficientData: 'proceed', alarmCheckSeconds: 60, endpointWait: { timeoutSeconds: 3600, pollSeconds: 30 } });
  });

  it.each<[string, ReleaseManagerConfigInput | unknown, RegExp]>([
    ['no targets', { targets: [] }, /^targets: expected at least one target/],
    ['a bad endpoint name', { targets: [target({ endpointName: 'bad_name!' })] }, /^targets\[0\]\.endpointName: expected an endpoint name/],
    [
      'a role that is not an ARN',
      { targets: [target({ modelExecutionRoleArn: 'my-role' })] },
      /^targets\[0\]\.modelExecutionRoleArn: expected an IAM role ARN/,
    ],
    [
      'an unknown strategy',
      { targets: [target({ strategy: { type: 'rolling' } as never })] },
      /^targets\[0\]\.strategy(\.type)?: expected strategy\.type to be one of/,
    ],
    [
      'canary weights that do not increase',
      {
        targets: [
          target({
            strategy: {
              type: 'canary',
              steps: [
                { weightPercent: 50, bakeSeconds: 60 },
                { weightPercent: 20, bakeSeconds: 60 },
              ],
            },
          }),
        ],
      },
      /^targets\[0\]\.strategy\.steps\[1\]\.weightPercent: expected canary weights to increase strictly/,
    ],
    [
      'a linear step of 100',
      { targets: [target({ strategy: { type: 'linear', stepPercent: 100, intervalSeconds: 60 } })] },
      /stepPercent: expected stepPercent below 100/,
    ],
    [
      'a poll faster than 30 s',
      { targets: [target({ endpointWait: { pollSeconds: 5, timeoutSeconds: 600 } })] },
      /^targets\[0\]\.endpointWait\.pollSeconds: expected endpointWait\.pollSeconds >= 30/,
    ],
    ['an unknown field', { targets: [target({ bake: 5 } as never)] }, /^targets\[0\]: .*bake/i],
    [
      'too many alarms',
      { targets: [target({ alarms: Array.from({ length: 101 }, (_, i) => `a${i}`) })] },
      /^targets\[0\]\.alarms: expected at most 100 alarms/,
    ],
    [
      'two targets on one endpoint',
      { targets: [target(), target({ modelPackageGroupName: 'group-b' })] },
      /^targets\[1\]\.endpointName: expected each endpointName once, but 'endpoint-a' is also used by targets\[0\]/,
    ],
  ])('It should reject %s and name the field', (_what, config, message) => {
    expect(issuesOf(config)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });
});
