// SageMaker simulator, reached through the real SDK v3 client: the endpoint lifecycle
// (create, describe, update, weight shifts, delete) and its statuses in virtual time.
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DesiredWeightAndCapacity,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { DEFAULT_TIMINGS } from '../../../rehearsal/simulator';
import { ROLE_ARN, arnOf, rejectionOf, startHarness, type Harness } from './harness';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  for (const name of ['model-a', 'model-b']) {
    await h.sagemaker.send(
      new CreateModelCommand({
        ModelName: name,
        ExecutionRoleArn: ROLE_ARN,
        PrimaryContainer: { Image: `example.com/${name}:1` },
      }),
    );
  }
});
afterEach(async () => {
  await h.close();
});

function createConfig(name: string, variants: Array<Partial<ProductionVariant>>) {
  return h.sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: name,
      ProductionVariants: variants.map((variant) => ({
        VariantName: 'blue',
        ModelName: 'model-a',
        InstanceType: 'ml.m5.large',
        InitialInstanceCount: 1,
        ...variant,
      })),
    }),
  );
}

function describeEndpoint(name = 'ep') {
  return h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
}

/** An InService endpoint `ep` on `config-blue` (one variant, blue, weight 1, 2 instances). */
async function inServiceEndpoint(): Promise<void> {
  await createConfig('config-blue', [{ InitialInstanceCount: 2 }]);
  await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-blue' }));
  h.clock.advanceSeconds(DEFAULT_TIMINGS.createEndpointSeconds);
}

function shiftWeights(desired: DesiredWeightAndCapacity[]) {
  return h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: 'ep', DesiredWeightsAndCapacities: desired }));
}

describe('CreateEndpoint', () => {
  it('It should report Creating until createEndpointSeconds have passed, then InService', async () => {
    await createConfig('config-blue', [{}]);

    const created = await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-blue' }));
    const atStart = await describeEndpoint();
    h.clock.advanceSeconds(DEFAULT_TIMINGS.createEndpointSeconds - 1);
    const justBefore = await describeEndpoint();
    h.clock.advanceSeconds(1);
    const after = await describeEndpoint();

    expect(created.EndpointArn).toBe(arnOf.endpoint('ep'));
    expect(atStart.EndpointStatus).toBe('Creating');
    expect(justBefore.EndpointStatus).toBe('Creating');
    expect(after.EndpointStatus).toBe('InService');
    expect(after.ProductionVariants?.[0]).toMatchObject({ CurrentInstanceCount: 1, DesiredInstanceCount: 1 });
  });

  it('It should reject creating an endpoint that already exists', async () => {
    await inServiceEndpoint();

    const error = await rejectionOf(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-blue' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Cannot create already existing endpoint "${arnOf.endpoint('ep')}".`);
  });

  it('It should reject an endpoint whose variants all have weight 0', async () => {
    await createConfig('config-zero', [{ InitialVariantWeight: 0 }]);

    const error = await rejectionOf(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-zero' })));

    expect(error.name).toBe('ValidationException');
    expect(h.simulators.sagemaker.endpoint('ep')).toBeUndefined();
  });

  it('It should reject an endpoint whose config does not exist', async () => {
    const error = await rejectionOf(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ghost' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find endpoint configuration "${arnOf.endpointConfig('ghost')}".`);
  });

  it('It should store the tags given at creation', async () => {
    await createConfig('config-blue', [{}]);

    await h.sagemaker.send(
      new CreateEndpointCommand({
        EndpointName: 'ep',
        EndpointConfigName: 'config-blue',
        Tags: [{ Key: 'team', Value: 'ml' }],
      }),
    );

    expect(h.simulators.sagemaker.tagsOf(arnOf.endpoint('ep'))).toEqual([{ Key: 'team', Value: 'ml' }]);
  });
});

describe('DescribeEndpoint', () => {
  it('It should describe variants, config, status and times', async () => {
    await createConfig('config-blue', [{ InitialInstanceCount: 2, InitialVariantWeight: 3 }]);
    const createdAt = h.clock.nowDate();
    await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'Fraud-EP', EndpointConfigName: 'config-blue' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.createEndpointSeconds);

    const output = await describeEndpoint('Fraud-EP');

    expect(output).toMatchObject({
      EndpointName: 'Fraud-EP',
      EndpointArn: 'arn:aws:sagemaker:eu-west-1:123456789012:endpoint/fraud-ep',
      EndpointConfigName: 'config-blue',
      EndpointStatus: 'InService',
      ProductionVariants: [
        {
          VariantName: 'blue',
          DeployedImages: [],
          CurrentWeight: 3,
          DesiredWeight: 3,
          CurrentInstanceCount: 2,
          DesiredInstanceCount: 2,
        },
      ],
    });
    expect(output.FailureReason).toBeUndefined();
    expect(output.PendingDeploymentSummary).toBeUndefined();
    expect(output.CreationTime).toEqual(createdAt);
    expect(output.LastModifiedTime).toEqual(h.clock.nowDate());
  });

  it('It should report a missing endpoint as "Could not find endpoint"', async () => {
    const error = await rejectionOf(describeEndpoint('ghost'));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find endpoint "${arnOf.endpoint('ghost')}".`);
  });
});

describe('UpdateEndpoint', () => {
  beforeEach(async () => {
    await inServiceEndpoint();
    await createConfig('config-canary', [
      { VariantName: 'blue', InitialVariantWeight: 0.9, InitialInstanceCount: 2 },
      { VariantName: 'green', ModelName: 'model-b', InitialVariantWeight: 0.1, InitialInstanceCount: 1 },
    ]);
  });

  it('It should report Updating with the pending deployment while the old config still serves', async () => {
    const startedAt = h.clock.nowDate();
    const updated = await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-canary' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds - 1);

    const output = await describeEndpoint();

    expect(updated.EndpointArn).toBe(arnOf.endpoint('ep'));
    expect(output.EndpointStatus).toBe('Updating');
    expect(output.EndpointConfigName).toBe('config-blue');
    expect(output.ProductionVariants?.map((variant) => variant.VariantName)).toEqual(['blue']);
    expect(output.PendingDeploymentSummary).toMatchObject({
      EndpointConfigName: 'config-canary',
      ProductionVariants: [
        { VariantName: 'blue', DesiredWeight: 0.9, DesiredInstanceCount: 2, InstanceType: 'ml.m5.large' },
        { VariantName: 'green', DesiredWeight: 0.1, DesiredInstanceCount: 1 },
      ],
    });
    expect(output.PendingDeploymentSummary?.StartTime).toEqual(startedAt);
  });

  it('It should be InService on the new config with its weights and counts after updateEndpointSeconds', async () => {
    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-canary' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);

    const output = await describeEndpoint();

    expect(output.EndpointStatus).toBe('InService');
    expect(output.EndpointConfigName).toBe('config-canary');
    expect(output.PendingDeploymentSummary).toBeUndefined();
    expect(output.ProductionVariants).toMatchObject([
      { VariantName: 'blue', CurrentWeight: 0.9, DesiredWeight: 0.9, CurrentInstanceCount: 2 },
      { VariantName: 'green', CurrentWeight: 0.1, DesiredWeight: 0.1, CurrentInstanceCount: 1 },
    ]);
  });

  it('It should reject an update while another update is in progress', async () => {
    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-canary' }));

    const error = await rejectionOf(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-blue' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Cannot update in-progress endpoint "${arnOf.endpoint('ep')}".`);
  });

  it('It should reject an update of a Failed endpoint with a clear message', async () => {
    const packageArn = h.simulators.sagemaker.putModelPackage({ groupName: 'fraud', version: 1 });
    h.simulators.sagemaker.failDeploymentsOf(packageArn, 'report-failure');
    await h.sagemaker.send(
      new CreateModelCommand({
        ModelName: 'model-bad',
        ExecutionRoleArn: ROLE_ARN,
        PrimaryContainer: { ModelPackageName: packageArn },
      }),
    );
    await createConfig('config-bad', [{ ModelName: 'model-bad' }]);
    await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'broken', EndpointConfigName: 'config-bad' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.createEndpointSeconds);

    const error = await rejectionOf(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'broken', EndpointConfigName: 'config-blue' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain('because its status is Failed');
  });

  it('It should accept an update to the config the endpoint already runs', async () => {
    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-blue' }));

    expect(h.simulators.sagemaker.endpoint('ep')?.status).toBe('Updating');
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    expect(h.simulators.sagemaker.endpoint('ep')).toMatchObject({ status: 'InService', configName: 'config-blue' });
  });

  it('It should keep current weights and counts of same-named variants with RetainAllVariantProperties', async () => {
    await shiftWeights([{ VariantName: 'blue', DesiredWeight: 5, DesiredInstanceCount: 4 }]);
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateWeightsSeconds);

    await h.sagemaker.send(
      new UpdateEndpointCommand({
        EndpointName: 'ep',
        EndpointConfigName: 'config-canary',
        RetainAllVariantProperties: true,
      }),
    );
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);

    expect(h.simulators.sagemaker.endpoint('ep')?.variants).toMatchObject([
      { variantName: 'blue', currentWeight: 5, instanceCount: 4 },
      { variantName: 'green', currentWeight: 0.1, instanceCount: 1 },
    ]);
  });

  it('It should reject an update to a config that does not exist', async () => {
    const error = await rejectionOf(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ghost' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find endpoint configuration "${arnOf.endpointConfig('ghost')}".`);
  });
});

describe('UpdateEndpointWeightsAndCapacities', () => {
  beforeEach(async () => {
    await createConfig('config-two', [
      { VariantName: 'blue', InitialVariantWeight: 1 },
      { VariantName: 'green', ModelName: 'model-b', InitialVariantWeight: 0 },
    ]);
    await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'config-two' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.createEndpointSeconds);
  });

  it('It should show the desired weight beside the current one while Updating', async () => {
    await shiftWeights([
      { VariantName: 'blue', DesiredWeight: 0.8 },
      { VariantName: 'green', DesiredWeight: 0.2 },
    ]);
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateWeightsSeconds - 1);

    const output = await describeEndpoint();

    expect(output.EndpointStatus).toBe('Updating');
    expect(output.ProductionVariants).toMatchObject([
      { VariantName: 'blue', CurrentWeight: 1, DesiredWeight: 0.8 },
      { VariantName: 'green', CurrentWeight: 0, DesiredWeight: 0.2 },
    ]);
  });

  it('It should apply the weights and be InService after updateWeightsSeconds', async () => {
    await shiftWeights([
      { VariantName: 'blue', DesiredWeight: 0.8 },
      { VariantName: 'green', DesiredWeight: 0.2 },
    ]);
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateWeightsSeconds);

    const output = await describeEndpoint();

    expect(output.EndpointStatus).toBe('InService');
    expect(output.ProductionVariants).toMatchObject([
      { VariantName: 'blue', CurrentWeight: 0.8, DesiredWeight: 0.8 },
      { VariantName: 'green', CurrentWeight: 0.2, DesiredWeight: 0.2 },
    ]);
  });

  it('It should apply a desired instance count', async () => {
    await shiftWeights([{ VariantName: 'green', DesiredInstanceCount: 3 }]);

    expect((await describeEndpoint()).ProductionVariants?.[1]).toMatchObject({
      CurrentInstanceCount: 1,
      DesiredInstanceCount: 3,
    });
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateWeightsSeconds);
    expect((await describeEndpoint()).ProductionVariants?.[1]).toMatchObject({
      CurrentInstanceCount: 3,
      DesiredInstanceCount: 3,
    });
  });

  it('It should reject a weight change while the endpoint is not InService', async () => {
    await shiftWeights([{ VariantName: 'green', DesiredWeight: 0.5 }]);

    const error = await rejectionOf(shiftWeights([{ VariantName: 'green', DesiredWeight: 1 }]));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Cannot update in-progress endpoint "${arnOf.endpoint('ep')}".`);
  });

  it('It should reject an unknown variant, naming it', async () => {
    const error = await rejectionOf(shiftWeights([{ VariantName: 'purple', DesiredWeight: 1 }]));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain('"purple"');
    expect(h.simulators.sagemaker.endpoint('ep')?.status).toBe('InService');
  });

  it('It should reject a negative weight', async () => {
    const error = await rejectionOf(shiftWeights([{ VariantName: 'green', DesiredWeight: -1 }]));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain(
      "at 'desiredWeightsAndCapacities.1.member.desiredWeight' failed to satisfy constraint: Member must have value greater than or equal to 0",
    );
  });

  it('It should reject weights that would all be 0', async () => {
    const error = await rejectionOf(shiftWeights([{ VariantName: 'blue', DesiredWeight: 0 }]));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain('cannot all be 0');
    expect(h.simulators.sagemaker.endpoint('ep')?.variants[0]?.desiredWeight).toBe(1);
  });
});

describe('DeleteEndpoint', () => {
  it('It should report Deleting for deleteEndpointSeconds, then the endpoint is gone', async () => {
    await inServiceEndpoint();

    await h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'ep' }));
    const during = await describeEndpoint();
    h.clock.advanceSeconds(DEFAULT_TIMINGS.deleteEndpointSeconds);
    const error = await rejectionOf(describeEndpoint());

    expect(during.EndpointStatus).toBe('Deleting');
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find endpoint "${arnOf.endpoint('ep')}".`);
  });

  it('It should reject deleting an endpoint that is Updating', async () => {
    await inServiceEndpoint();
    await shiftWeights([{ VariantName: 'blue', DesiredWeight: 2 }]);

    const error = await rejectionOf(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'ep' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Cannot delete in-progress endpoint "${arnOf.endpoint('ep')}".`);
  });

  it('It should delete a Failed endpoint', async () => {
    const packageArn = h.simulators.sagemaker.putModelPackage({ groupName: 'fraud', version: 1 });
    h.simulators.sagemaker.failDeploymentsOf(packageArn, 'report-failure');
    h.simulators.sagemaker.putEndpoint({
      name: 'seed',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1, modelPackageArn: packageArn }],
    });
    await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'seed-config-initial' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.createEndpointSeconds);
    expect(h.simulators.sagemaker.endpoint('ep')?.status).toBe('Failed');

    await h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'ep' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.deleteEndpointSeconds);

    expect(h.simulators.sagemaker.endpoint('ep')).toBeUndefined();
  });
});

describe('Names', () => {
  it('It should treat endpoint names case-insensitively, as the lowercased ARN implies', async () => {
    await inServiceEndpoint();

    const output = await describeEndpoint('EP');

    expect(output.EndpointName).toBe('ep');
  });
});
