/**
 * IAM size limits: a managed policy may hold 6,144 characters (white space excluded) and
 * a role's inline policies 10,240 together. The release manager must stay within them as
 * a team adds targets, or `cdk deploy` fails.
 */
import { generatedConfig, synthesize, type Json, type JsonObject } from './fixtures';

const MANAGED_POLICY_LIMIT = 6144;
const INLINE_POLICIES_PER_ROLE_LIMIT = 10240;

/** Size of a policy document as IAM counts it, with pseudo-parameters at their longest realistic length. */
function policySize(document: Json | undefined): number {
  const rendered = JSON.stringify(document)
    .replace(/\{"Ref":"AWS::Partition"\}/g, '"aws-us-gov"')
    .replace(/\{"Ref":"AWS::AccountId"\}/g, '"123456789012"')
    .replace(/\{"Ref":"AWS::Region"\}/g, '"ap-southeast-3"');
  return rendered.replace(/\s/g, '').length;
}

describe.each([10, 60])('with %i targets', (count) => {
  const { template } = synthesize(generatedConfig(count));
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: JsonObject }>;

  it('It should keep every managed policy within 6,144 characters', () => {
    const managed = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
    for (const policy of managed) expect(policySize(policy.Properties.PolicyDocument)).toBeLessThanOrEqual(MANAGED_POLICY_LIMIT);
  });

  it("It should keep each role's inline policies within 10,240 characters", () => {
    const perRole = new Map<string, number>();
    for (const policy of Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy')) {
      for (const role of policy.Properties.Roles as Json[]) {
        const key = JSON.stringify(role);
        perRole.set(key, (perRole.get(key) ?? 0) + policySize(policy.Properties.PolicyDocument));
      }
    }
    expect(perRole.size).toBeGreaterThan(0);
    for (const size of perRole.values()) expect(size).toBeLessThanOrEqual(INLINE_POLICIES_PER_ROLE_LIMIT);
  });
});
