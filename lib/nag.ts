/**
 * cdk-nag acknowledgements. Each one names the exact finding (rule id with its
 * resource) and says why it is acceptable; a new wildcard added by a change shows up as
 * an unacknowledged finding and fails synth.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Renders a resolved CloudFormation value the way cdk-nag prints it in finding ids. */
export function nagString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(nagString).join(sep);
    }
  }
  return JSON.stringify(value);
}

/** Acknowledges `AwsSolutions-IAM5` for these wildcard resources on this scope (a role's policy). */
export function acknowledgeWildcards(scope: IConstruct, resources: readonly string[], reason: string): void {
  const stack = Stack.of(scope);
  for (const resource of new Set(resources)) {
    if (!resource.includes('*')) continue;
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagString(stack.resolve(resource))}]`, reason });
  }
}

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
