// SageMaker simulator faults added for the data plane and the rehearsal scenarios:
// insufficient capacity, slow deployments, an endpoint that fails, a silently reverted
// weight change, and the serving view the data plane routes by. Observed through the
// real SDK v3 client where the workflow would observe them.
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  DeleteEndpointCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { DEFAULT_TIMINGS } from '../../../rehearsal/simulator';
import { arnOf, endpointWithCanaryConfig, rejectionOf, startHarness, type Harness } from './harness';

let h: Harness;
/** Blue on two ml.m5.large instances; green on ml.g5.xlarge. */
const seedCanary = () => endpointWithCanaryConfig(h, { blueInstanceCount: 2, greenInstanceType: 'ml.g5.xlarge' });
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const describe_ = (name = 'ep') => h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
const setWeights = (weights: Record<string, number>, name = 'ep') =>
  h.sagemaker.send(
    new UpdateEndpointWeightsAndCapacitiesCommand({
      EndpointName: name,
      DesiredWeightsAndCapacities: Object.entries(weights).map(([VariantName, DesiredWeight]) => ({ VariantName, DesiredWeight })),
    }),
  );

describe("failDeploymentsOf(..., 'insufficient-capacity')", () => {
  it('It should roll an UpdateEndpoint back to the previous config, InService, with an InsufficientInstanceCapacity FailureReason naming the instance type', async () => {
    const { v2 } = await seedCanary();
    h.simulators.sagemaker.failDeploymentsOf(v2, 'insufficient-capacity');

    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    const during = await describe_();
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    const after = await describe_();

    expect(during.EndpointStatus).toBe('Updating');
    expect(after.EndpointStatus).toBe('InService');
    expect(after.EndpointConfigName).toBe('ep-config-initial');
    expect(after.ProductionVariants).toMatchObject([{ VariantName: 'blue', CurrentWeight: 1, CurrentInstanceCount: 2 }]);
    expect(after.ProductionVariants).toHaveLength(1);
    expect(after.FailureReason).toMatch(/^Unable to provision requested ML compute capacity due to InsufficientInstanceCapacity error\./);
    expect(after.FailureReason).toContain('ml.g5.xlarge');
    expect(after.FailureReason).toContain('production variant green');
  });

  it('It should end a CreateEndpoint Failed with the insufficient capacity FailureReason', async () => {
    const { v2 } = await seedCanary();
    h.simulators.sagemaker.failDeploymentsOf(v2, 'insufficient-capacity');

    await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep-2', EndpointConfigName: 'ep-config-canary' }));
    const during = await describe_('ep-2');
    h.clock.advanceSeconds(DEFAULT_TIMINGS.createEndpointSeconds);
    const after = await describe_('ep-2');

    expect(during.EndpointStatus).toBe('Creating');
    expect(after.EndpointStatus).toBe('Failed');
    expect(after.FailureReason).toContain('InsufficientInstanceCapacity');
    expect(after.FailureReason).toContain('ml.g5.xlarge');
  });

  it('It should let a later deployment that does not contain the package succeed and clear FailureReason', async () => {
    const { v2 } = await seedCanary();
    h.simulators.sagemaker.failDeploymentsOf(v2, 'insufficient-capacity');
    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    await h.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'ep-config-bigger',
        ProductionVariants: [{ VariantName: 'blue', ModelName: 'ep-blue', InstanceType: 'ml.m5.large', InitialInstanceCount: 3 }],
      }),
    );

    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-bigger' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    const after = await describe_();

    expect(after.EndpointStatus).toBe('InService');
    expect(after.EndpointConfigName).toBe('ep-config-bigger');
    expect(after.FailureReason).toBeUndefined();
  });
});

describe('slowDeploymentsOf', () => {
  it('It should keep an UpdateEndpoint of a config with the package Updating for the given time, rejecting other updates meanwhile', async () => {
    const { v2 } = await seedCanary();
    h.simulators.sagemaker.slowDeploymentsOf(v2, 3600);

    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    const afterDefault = await describe_();
    const rejected = await rejectionOf(setWeights({ blue: 2 }));
    h.clock.advanceSeconds(3600 - DEFAULT_TIMINGS.updateEndpointSeconds);
    const afterSlow = await describe_();

    expect(afterDefault.EndpointStatus).toBe('Updating');
    expect(afterDefault.PendingDeploymentSummary?.EndpointConfigName).toBe('ep-config-canary');
    expect(rejected.message).toBe(`Cannot update in-progress endpoint "${arnOf.endpoint('ep')}".`);
    expect(afterSlow.EndpointStatus).toBe('InService');
    expect(afterSlow.EndpointConfigName).toBe('ep-config-canary');
  });

  it('It should keep a CreateEndpoint of a config with the package Creating for the given time', async () => {
    const { v2 } = await seedCanary();
    h.simulators.sagemaker.slowDeploymentsOf(v2, 1200);

    await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep-2', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(1199);
    const before = await describe_('ep-2');
    h.clock.advanceSeconds(1);
    const after = await describe_('ep-2');

    expect(before.EndpointStatus).toBe('Creating');
    expect(after.EndpointStatus).toBe('InService');
  });

  it('It should leave deployments of configs without the package at the default duration', async () => {
    await seedCanary();
    h.simulators.sagemaker.slowDeploymentsOf(h.simulators.sagemaker.putModelPackage({ groupName: 'fraud', version: 9 }), 3600);

    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);

    expect((await describe_()).EndpointStatus).toBe('InService');
  });

  it('It should reject a negative or non-finite duration', () => {
    expect(() => h.simulators.sagemaker.slowDeploymentsOf('arn', -1)).toThrow(RangeError);
    expect(() => h.simulators.sagemaker.slowDeploymentsOf('arn', Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('failEndpoint', () => {
  it('It should make the endpoint Failed with the FailureReason at once, and reject updates as for any Failed endpoint', async () => {
    await seedCanary();
    h.clock.advanceSeconds(30);

    h.simulators.sagemaker.failEndpoint('ep', 'Simulated: the instances of production variant blue were lost.');
    const output = await describe_();
    const rejected = await rejectionOf(setWeights({ blue: 2 }));
    const rejectedUpdate = await rejectionOf(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' })));

    expect(output.EndpointStatus).toBe('Failed');
    expect(output.FailureReason).toBe('Simulated: the instances of production variant blue were lost.');
    expect(output.LastModifiedTime?.getTime()).toBe(h.clock.now());
    expect(rejected.name).toBe('ValidationException');
    expect(rejected.message).toContain('because its status is Failed');
    expect(rejectedUpdate.message).toContain('because its status is Failed');
  });

  it('It should fail the endpoint at the given time, abandoning an update still in progress then', async () => {
    await seedCanary();
    const at = h.clock.now() + 300_000;
    h.simulators.sagemaker.failEndpoint('ep', 'Simulated failure', at);

    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(299);
    const before = await describe_();
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    const after = await describe_();

    expect(before.EndpointStatus).toBe('Updating');
    expect(after.EndpointStatus).toBe('Failed');
    expect(after.EndpointConfigName).toBe('ep-config-initial');
    expect(after.PendingDeploymentSummary).toBeUndefined();
    expect(after.LastModifiedTime?.getTime()).toBe(at);
  });

  it('It should let an update that ends before the failure time complete first', async () => {
    await seedCanary();
    h.simulators.sagemaker.failEndpoint('ep', 'Simulated failure', h.clock.now() + 3_600_000);

    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(3600);
    const after = await describe_();

    expect(after.EndpointStatus).toBe('Failed');
    expect(after.EndpointConfigName).toBe('ep-config-canary');
  });

  it('It should allow DeleteEndpoint on the Failed endpoint', async () => {
    await seedCanary();
    h.simulators.sagemaker.failEndpoint('ep', 'Simulated failure');

    await h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'ep' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.deleteEndpointSeconds);

    expect(h.simulators.sagemaker.endpoint('ep')).toBeUndefined();
  });

  it('It should reject an unknown endpoint and a time in the past', async () => {
    await seedCanary();

    expect(() => h.simulators.sagemaker.failEndpoint('ghost', 'x')).toThrow('does not exist');
    expect(() => h.simulators.sagemaker.failEndpoint('ep', 'x', h.clock.now() - 1)).toThrow(RangeError);
  });
});

describe('revertNextWeightChange', () => {
  it('It should accept the next weight change, report Updating with the new DesiredWeight, then end InService with the previous weights', async () => {
    await seedCanary();
    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    h.simulators.sagemaker.revertNextWeightChange('ep');

    await setWeights({ blue: 0.5, green: 0.5 });
    const during = await describe_();
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateWeightsSeconds);
    const after = await describe_();

    expect(during.EndpointStatus).toBe('Updating');
    expect(during.ProductionVariants).toMatchObject([
      { VariantName: 'blue', CurrentWeight: 0.9, DesiredWeight: 0.5 },
      { VariantName: 'green', CurrentWeight: 0.1, DesiredWeight: 0.5 },
    ]);
    expect(after.EndpointStatus).toBe('InService');
    expect(after.FailureReason).toBeUndefined();
    expect(after.ProductionVariants).toMatchObject([
      { VariantName: 'blue', CurrentWeight: 0.9, DesiredWeight: 0.9 },
      { VariantName: 'green', CurrentWeight: 0.1, DesiredWeight: 0.1 },
    ]);
  });

  it('It should revert only the next accepted change: a rejected call does not use it up, the one after applies', async () => {
    await seedCanary();
    h.simulators.sagemaker.revertNextWeightChange('ep');

    await rejectionOf(setWeights({ ghost: 1 }));
    await setWeights({ blue: 3 });
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateWeightsSeconds);
    const reverted = await describe_();
    await setWeights({ blue: 3 });
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateWeightsSeconds);
    const applied = await describe_();

    expect(reverted.ProductionVariants?.[0]).toMatchObject({ CurrentWeight: 1, DesiredWeight: 1 });
    expect(applied.ProductionVariants?.[0]).toMatchObject({ CurrentWeight: 3, DesiredWeight: 3 });
  });

  it('It should reject an unknown endpoint', () => {
    expect(() => h.simulators.sagemaker.revertNextWeightChange('ghost')).toThrow('does not exist');
  });
});

describe('servingVariants', () => {
  it('It should report status, current weights, instance counts, package ARNs and versions of the running variants', async () => {
    const { v1, v2 } = await seedCanary();
    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));

    const during = h.simulators.sagemaker.servingVariants('ep');
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    const after = h.simulators.sagemaker.servingVariants('ep');

    expect(during).toEqual({
      status: 'Updating',
      variants: [{ variantName: 'blue', currentWeight: 1, instanceCount: 2, modelPackageArns: [v1], versions: [1] }],
    });
    expect(after).toEqual({
      status: 'InService',
      variants: [
        { variantName: 'blue', currentWeight: 0.9, instanceCount: 2, modelPackageArns: [v1], versions: [1] },
        { variantName: 'green', currentWeight: 0.1, instanceCount: 1, modelPackageArns: [v2], versions: [2] },
      ],
    });
  });

  it('It should keep the versions of a deployed variant after its model is deleted, and list no package for an image model', async () => {
    await seedCanary();
    h.simulators.sagemaker.putEndpoint({ name: 'ep-image', variants: [{ variantName: 'only', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }] });

    await h.sagemaker.send(new DeleteModelCommand({ ModelName: 'ep-blue' }));

    expect(h.simulators.sagemaker.servingVariants('ep')?.variants[0].versions).toEqual([1]);
    expect(h.simulators.sagemaker.servingVariants('ep-image')?.variants[0]).toMatchObject({ modelPackageArns: [], versions: [] });
    expect(h.simulators.sagemaker.servingVariants('ghost')).toBeUndefined();
    expect(h.simulators.sagemaker.endpointNames()).toEqual(['ep', 'ep-image']);
  });
});
