// The model registry side of the SageMaker simulator: ListModelPackages (filters, sort,
// pages) and UpdateModelPackage, with CreationTime and LastModifiedTime from the virtual
// clock, through the real SDK client.
import {
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand,
  type ListModelPackagesCommandInput,
} from '@aws-sdk/client-sagemaker';
import { rejectionOf, startHarness, type Harness } from './harness';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
let h: Harness;

beforeEach(async () => {
  h = await startHarness();
  const sim = h.simulators.sagemaker;
  // fraud/1 at 0 s, fraud/3 at 60 s (pending), other/1 at 120 s, fraud/2 at 180 s (rejected).
  sim.putModelPackage({ groupName: 'fraud', version: 1 });
  h.clock.advanceSeconds(60);
  sim.putModelPackage({ groupName: 'fraud', version: 3, status: 'PendingManualApproval' });
  h.clock.advanceSeconds(60);
  sim.putModelPackage({ groupName: 'other', version: 1 });
  h.clock.advanceSeconds(60);
  sim.putModelPackage({ groupName: 'fraud', version: 2, status: 'Rejected' });
});

afterEach(async () => {
  await h.close();
});

async function versions(input: ListModelPackagesCommandInput): Promise<{ versions: string[]; next?: string }> {
  const page = await h.sagemaker.send(new ListModelPackagesCommand(input));
  return {
    versions: (page.ModelPackageSummaryList ?? []).map((p) => `${p.ModelPackageGroupName}/${p.ModelPackageVersion}:${p.ModelApprovalStatus}`),
    ...(page.NextToken ? { next: page.NextToken } : {}),
  };
}

describe('ListModelPackages', () => {
  it('It should list a group’s versions by creation time, with their summary', async () => {
    const page = await h.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'fraud' }));

    expect(page.ModelPackageSummaryList).toEqual([
      {
        ModelPackageName: 'fraud',
        ModelPackageGroupName: 'fraud',
        ModelPackageVersion: 1,
        ModelPackageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/1',
        CreationTime: new Date(T0),
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: 'Approved',
      },
      expect.objectContaining({ ModelPackageVersion: 3, CreationTime: new Date(T0 + 60_000), ModelApprovalStatus: 'PendingManualApproval' }),
      expect.objectContaining({ ModelPackageVersion: 2, CreationTime: new Date(T0 + 180_000), ModelApprovalStatus: 'Rejected' }),
    ]);
  });

  it('It should filter by approval status, sort by name or time either way, and page with NextToken', async () => {
    expect(await versions({ ModelPackageGroupName: 'fraud', ModelApprovalStatus: 'Approved' })).toEqual({ versions: ['fraud/1:Approved'] });
    expect(await versions({ ModelPackageGroupName: 'fraud', SortBy: 'CreationTime', SortOrder: 'Descending' })).toEqual({
      versions: ['fraud/2:Rejected', 'fraud/3:PendingManualApproval', 'fraud/1:Approved'],
    });
    expect(await versions({ ModelPackageType: 'Versioned', SortBy: 'Name' })).toEqual({
      versions: ['fraud/1:Approved', 'fraud/2:Rejected', 'fraud/3:PendingManualApproval', 'other/1:Approved'],
    });
    const first = await versions({ ModelPackageGroupName: 'fraud', MaxResults: 2 });
    expect(first.versions).toEqual(['fraud/1:Approved', 'fraud/3:PendingManualApproval']);
    expect(await versions({ ModelPackageGroupName: 'fraud', MaxResults: 2, NextToken: first.next! })).toEqual({ versions: ['fraud/2:Rejected'] });
    // Without a group, the default type is Unversioned: registry versions are not listed.
    expect(await versions({})).toEqual({ versions: [] });
  });

  it('It should refuse a page size over 100 and a token it did not issue', async () => {
    expect((await rejectionOf(versions({ ModelPackageGroupName: 'fraud', MaxResults: 101 }))).name).toBe('ValidationException');
    expect((await rejectionOf(versions({ ModelPackageGroupName: 'fraud', NextToken: 'bogus' }))).name).toBe('ValidationException');
  });
});

describe('UpdateModelPackage', () => {
  it('It should approve a version and move its LastModifiedTime to now', async () => {
    const arn = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/3';
    h.clock.advanceSeconds(120);

    const updated = await h.sagemaker.send(
      new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Approved', ApprovalDescription: 'looks good' }),
    );

    expect(updated.ModelPackageArn).toBe(arn);
    const described = await h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    expect(described).toMatchObject({
      ModelApprovalStatus: 'Approved',
      ApprovalDescription: 'looks good',
      CreationTime: new Date(T0 + 60_000),
      LastModifiedTime: new Date(T0 + 300_000),
    });
    expect(h.simulators.sagemaker.mutatingCalls().map((c) => c.operation)).toEqual(['UpdateModelPackage']);
  });

  it('It should refuse a package that does not exist and an unknown approval status', async () => {
    const missing = await rejectionOf(
      h.sagemaker.send(
        new UpdateModelPackageCommand({ ModelPackageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/9', ModelApprovalStatus: 'Approved' }),
      ),
    );
    expect(`${missing.name}: ${missing.message}`).toBe(
      'ValidationException: Model package arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/9 does not exist.',
    );
    const invalid = await rejectionOf(
      h.sagemaker.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/1',
          ModelApprovalStatus: 'Maybe' as never,
        }),
      ),
    );
    expect(invalid.name).toBe('ValidationException');
  });
});
