/**
 * Least privilege: each task function may touch only the configured endpoints, the
 * names its releases generate, the configured execution roles and the configured
 * alarms. IAM authorizes an action only against its own resource types, so the
 * scoping checks look at the ARNs of the type each action acts on.
 */
import type { ReleaseManagerConfigInput } from '../../lambdas/domain/config';
import {
  alarmArn,
  allowing,
  committedConfig,
  functionsByHandler,
  policyStatements,
  sagemakerArn,
  synthesize,
  type Statement,
  type TaskFunction,
} from './fixtures';

/** The ARNs of one resource type (`endpoint/`, `model/`, `alarm:`) among a statement's resources. */
const ofType = (resources: readonly string[], type: string): string[] => resources.filter((r) => r.includes(`:${type}`));
const unique = (values: readonly string[]) => [...new Set(values)].sort();

/** The committed targets with mixed-case endpoint names, as a team may write them. */
function mixedCaseConfig(): ReleaseManagerConfigInput {
  const config = committedConfig();
  return {
    targets: config.targets.map((t) => ({ ...t, endpointName: t.endpointName.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()) })),
  };
}

describe('ReleaseManager permissions', () => {
  const config = committedConfig();
  const endpoints = config.targets.map((t) => sagemakerArn('endpoint', t.endpointName.toLowerCase()));
  let statements: Statement[];
  let functions: Record<string, TaskFunction>;
  let mixedCase: { statements: Statement[]; endpointNames: string[] };

  const handlersAllowed = (action: string, from: readonly Statement[] = statements) => {
    const roles = new Set(allowing(from, action).flatMap((s) => s.roleIds));
    return Object.entries(functions)
      .filter(([, fn]) => roles.has(fn.roleId))
      .map(([handler]) => handler)
      .sort();
  };

  beforeAll(() => {
    const committed = synthesize(config);
    statements = policyStatements(committed.template);
    functions = functionsByHandler(committed.template);
    const mixed = mixedCaseConfig();
    mixedCase = { statements: policyStatements(synthesize(mixed).template), endpointNames: mixed.targets.map((t) => t.endpointName) };
  });

  it('It should never grant a SageMaker action with a wildcard action or on every resource', () => {
    const sagemaker = statements.filter((s) => s.actions.some((a) => a.startsWith('sagemaker:')));
    expect(sagemaker.length).toBeGreaterThan(0);
    for (const s of sagemaker) {
      expect(s.actions.filter((a) => a.includes('*'))).toEqual([]);
      expect(s.resources.filter((r) => r === '*' || /:sagemaker:[^:]*:[^:]*:\*$/.test(r))).toEqual([]);
    }
    expect(statements.filter((s) => s.actions.includes('*') || s.actions.includes('sagemaker:*'))).toEqual([]);
  });

  it('It should pass only the configured execution roles, and only to SageMaker, from the create-candidate function', () => {
    const passRole = allowing(statements, 'iam:PassRole');
    expect(passRole.length).toBeGreaterThan(0);
    for (const s of passRole) {
      expect(unique(s.resources)).toEqual(unique(config.targets.map((t) => t.modelExecutionRoleArn)));
      expect(s.condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    }
    expect(handlersAllowed('iam:PassRole')).toEqual(['create-candidate']);
  });

  it("It should shift weights only on the configured endpoints' ARNs, from the shift and rollback functions", () => {
    const update = allowing(statements, 'sagemaker:UpdateEndpointWeightsAndCapacities');
    expect(update.length).toBeGreaterThan(0);
    for (const s of update) {
      expect(s.resources).not.toContain('*');
      expect(unique(ofType(s.resources, 'endpoint/'))).toEqual(unique(endpoints));
    }
    expect(handlersAllowed('sagemaker:UpdateEndpointWeightsAndCapacities')).toEqual(['roll-back', 'shift-traffic']);
  });

  it('It should lower-case endpoint names in the ARNs it grants, as SageMaker does', () => {
    expect(mixedCase.endpointNames.some((name) => name !== name.toLowerCase())).toBe(true);
    const update = allowing(mixedCase.statements, 'sagemaker:UpdateEndpointWeightsAndCapacities');
    const granted = unique(update.flatMap((s) => ofType(s.resources, 'endpoint/')));
    expect(granted).toEqual(unique(mixedCase.endpointNames.map((name) => sagemakerArn('endpoint', name.toLowerCase()))));
    // Model package ARNs keep the group's case, as SageMaker reports them.
    const everyArn = mixedCase.statements.flatMap((s) => s.resources).filter((r) => r.includes(':sagemaker:') && !r.includes(':model-package/'));
    expect(everyArn.filter((r) => r !== r.toLowerCase().replace('<aws::partition>', '<AWS::Partition>'))).toEqual([]);
  });

  it("It should keep the group's case in model package ARNs, as SageMaker does", () => {
    const cased = synthesize({ targets: [{ ...committedConfig().targets[0]!, modelPackageGroupName: 'FraudScoringModels' }] });
    const describe = allowing(policyStatements(cased.template), 'sagemaker:DescribeModelPackage');
    expect(unique(describe.flatMap((s) => ofType(s.resources, 'model-package/')))).toEqual([sagemakerArn('model-package', 'FraudScoringModels/*')]);
  });

  it('It should create models only under the release prefix of the configured endpoints', () => {
    const create = allowing(statements, 'sagemaker:CreateModel');
    expect(create.length).toBeGreaterThan(0);
    for (const s of create) {
      expect(s.resources).not.toContain('*');
      expect(unique(ofType(s.resources, 'model/'))).toEqual(unique(config.targets.map((t) => sagemakerArn('model', `${t.endpointName.toLowerCase()}-v*`))));
    }
    expect(handlersAllowed('sagemaker:CreateModel')).toEqual(['create-candidate']);
  });

  it('It should read only the configured alarms, from the alarm function', () => {
    const describe = allowing(statements, 'cloudwatch:DescribeAlarms');
    expect(describe.length).toBeGreaterThan(0);
    const alarms = unique(config.targets.flatMap((t) => t.alarms ?? []).map(alarmArn));
    for (const s of describe) expect(unique(s.resources)).toEqual(alarms);
    expect(handlersAllowed('cloudwatch:DescribeAlarms')).toEqual(['evaluate-alarms']);
  });

  it('It should delete only the models and endpoint configs that releases create', () => {
    const releaseModels = unique(config.targets.map((t) => sagemakerArn('model', `${t.endpointName.toLowerCase()}-v*`)));
    const releaseConfigs = unique(config.targets.map((t) => sagemakerArn('endpoint-config', `${t.endpointName.toLowerCase()}-v*`)));
    expect(handlersAllowed('sagemaker:DeleteModel')).toEqual(['roll-back']);
    for (const s of allowing(statements, 'sagemaker:DeleteModel')) expect(unique(ofType(s.resources, 'model/'))).toEqual(releaseModels);
    expect(handlersAllowed('sagemaker:DeleteEndpointConfig')).toEqual(['create-candidate', 'finish-promotion', 'roll-back']);
    for (const s of allowing(statements, 'sagemaker:DeleteEndpointConfig')) expect(unique(ofType(s.resources, 'endpoint-config/'))).toEqual(releaseConfigs);
  });
});
