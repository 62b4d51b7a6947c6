/**
 * A realistic `Release` payload for the handler tests. Names come from the real naming
 * rules, so they are exactly what plan-release freezes into a release of version 7 of
 * the `churn-models` group to `churn-endpoint` (see helpers/targets.json).
 */
import { ReleaseSchema, type Release } from '../../lambdas/contracts';
import { releaseNames } from '../../lambdas/domain/names';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const TARGET_NAME = 'churn';
export const ENDPOINT_NAME = 'churn-endpoint';
export const GROUP_NAME = 'churn-models';
export const EXECUTION_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/churn-model-execution`;

export function modelPackageArn(group: string, version: number): string {
  return `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group}/${version}`;
}

export const CANDIDATE_VERSION = 7;
export const CANDIDATE_PACKAGE_ARN = modelPackageArn(GROUP_NAME, CANDIDATE_VERSION);
export const BASELINE_PACKAGE_ARN = modelPackageArn(GROUP_NAME, 6);
/** What a release of version 7 to churn-endpoint names its resources. */
export const NAMES = releaseNames(ENDPOINT_NAME, CANDIDATE_PACKAGE_ARN, CANDIDATE_VERSION);

type Baseline = NonNullable<Release['baseline']>;

/** A baseline set up by hand, before the release manager: its names are not release names. */
export const HAND_MADE_BASELINE: Baseline = {
  configName: 'churn-endpoint-config-2024-05',
  variantName: 'AllTraffic',
  modelName: 'churn-model-6',
  weight: 1,
};

/** A baseline that an earlier release (of version 6) promoted. */
export function releaseMadeBaseline(): Baseline {
  const names = releaseNames(ENDPOINT_NAME, BASELINE_PACKAGE_ARN, 6);
  return { configName: names.promotedConfigName, variantName: names.candidateVariantName, modelName: names.modelName, weight: 1 };
}

/**
 * The steps plan-release derives from the churn target's canary strategy
 * (10 % and 50 % for 600 s each, then 100 % for 300 s, alarms checked every 60 s).
 */
export const CANARY_STEPS: Release['steps'] = [
  { weightPercent: 10, bakeSeconds: 600, checks: 10, checkIntervalSeconds: 60 },
  { weightPercent: 50, bakeSeconds: 600, checks: 10, checkIntervalSeconds: 60 },
  { weightPercent: 100, bakeSeconds: 300, checks: 5, checkIntervalSeconds: 60 },
];

export type ReleaseOverrides = Partial<Omit<Release, 'candidate'>> & { candidate?: Partial<Release['candidate']> };

/** A release that updates an existing endpoint (hand-made baseline); overrides replace fields, `candidate` is merged. */
export function makeRelease(overrides: ReleaseOverrides = {}): Release {
  const { candidate, ...rest } = overrides;
  return ReleaseSchema.parse({
    releaseId: NAMES.releaseId,
    targetName: TARGET_NAME,
    endpointName: ENDPOINT_NAME,
    modelPackageGroupName: GROUP_NAME,
    modelPackageArn: CANDIDATE_PACKAGE_ARN,
    modelVersion: CANDIDATE_VERSION,
    mode: 'update-endpoint',
    candidate: {
      modelName: NAMES.modelName,
      variantName: NAMES.candidateVariantName,
      deployConfigName: NAMES.deployConfigName,
      promotedConfigName: NAMES.promotedConfigName,
      instanceType: 'ml.m5.large',
      instanceCount: 2,
      executionRoleArn: EXECUTION_ROLE_ARN,
      ...candidate,
    },
    baseline: { ...HAND_MADE_BASELINE },
    steps: CANARY_STEPS,
    alarms: ['churn-5xx', 'churn-latency-p99'],
    onInsufficientData: 'proceed',
    endpointWait: { pollSeconds: 30, maxPolls: 4 },
    ...rest,
  });
}

/** A release whose endpoint did not exist: it creates the endpoint with the candidate alone. */
export function makeNewEndpointRelease(overrides: ReleaseOverrides = {}): Release {
  return makeRelease({ mode: 'create-endpoint', baseline: null, ...overrides });
}

/** The tags every resource a release creates carries. */
export const RELEASE_TAGS = [
  { Key: 'sagemaker-release-manager:release', Value: NAMES.releaseId },
  { Key: 'sagemaker-release-manager:target', Value: TARGET_NAME },
];

/** The EventBridge event SageMaker sends when a model package version is approved. */
export function approvalEvent(arn = CANDIDATE_PACKAGE_ARN, group = GROUP_NAME, detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    account: ACCOUNT,
    time: '2025-06-01T10:00:00Z',
    region: REGION,
    resources: [arn],
    detail: {
      ModelPackageGroupName: group,
      ModelPackageVersion: Number(arn.split('/').pop()),
      ModelPackageArn: arn,
      ModelApprovalStatus: 'Approved',
      ModelPackageStatus: 'Completed',
      LastModifiedTime: '2025-06-01T09:59:58.000Z',
      ...detail,
    },
  };
}
