import fc from 'fast-check';
import { SAGEMAKER_NAME_PATTERN } from '../../lambdas/domain/config';
import { isReleaseResourceName, releaseNames, resourcePrefix } from '../../lambdas/domain/names';

const endpointName = fc.stringMatching(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
const packageArn = (group: string, version: number) => `arn:aws:sagemaker:eu-west-1:123456789012:model-package/${group}/${version}`;

describe('release names', () => {
  it('It should build valid, deterministic SageMaker names for any endpoint and version (property)', () => {
    fc.assert(
      fc.property(endpointName, fc.integer({ min: 1, max: 9_999_999_999 }), (endpoint, version) => {
        const names = releaseNames(endpoint, packageArn('g', version), version);
        for (const name of [names.modelName, names.candidateVariantName, names.deployConfigName, names.promotedConfigName]) {
          expect(name).toMatch(SAGEMAKER_NAME_PATTERN);
        }
        expect(releaseNames(endpoint, packageArn('g', version), version)).toEqual(names);
        expect(isReleaseResourceName(endpoint, names.modelName)).toBe(true);
        expect(isReleaseResourceName(endpoint, names.deployConfigName)).toBe(true);
        expect(names.modelName.toLowerCase().startsWith(`${resourcePrefix(endpoint).toLowerCase()}-v`)).toBe(true);
      }),
    );
  });

  it('It should give different releases different names', () => {
    const a = releaseNames('ep', packageArn('g', 3), 3);
    const b = releaseNames('ep', packageArn('g', 4), 4);
    const c = releaseNames('ep', packageArn('other', 3), 3);
    expect(new Set([a.modelName, b.modelName, c.modelName]).size).toBe(3);
  });

  it('It should not claim a hand-made config as a release resource', () => {
    expect(isReleaseResourceName('ep', 'ep-config-initial')).toBe(false);
    expect(isReleaseResourceName('ep', 'ep-v3-0123abcd-d')).toBe(true);
  });

  it('It should reject a version outside 1..9999999999', () => {
    expect(() => releaseNames('ep', packageArn('g', 0), 0)).toThrow(/expected a model package version/);
  });
});
