// SageMaker simulator scenario API: seeding, held statuses, injected faults (silent
// revert, failed creation, throttling) and the call log, observed through the real SDK.
import {
  CreateEndpointCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeModelCommand,
  DescribeEndpointConfigCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { VirtualClock } from '../../../rehearsal/clock';
import { DEFAULT_TIMINGS, SageMakerSimulator, SimulatedServiceError } from '../../../rehearsal/simulator';
import { ROLE_ARN, arnOf, endpointWithCanaryConfig, rejectionOf, startHarness, type Harness } from './harness';

it('It should default to the documented durations: create 480 s, update 600 s, weight change 60 s, delete 60 s', () => {
  expect(DEFAULT_TIMINGS).toEqual({ createEndpointSeconds: 480, updateEndpointSeconds: 600, updateWeightsSeconds: 60, deleteEndpointSeconds: 60 });
});

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('putEndpoint', () => {
  it('It should seed models, an endpoint config and an InService endpoint with no delay', async () => {
    const packageArn = h.simulators.sagemaker.putModelPackage({ groupName: 'fraud', version: 3 });

    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      variants: [
        { variantName: 'blue', modelPackageArn: packageArn, instanceType: 'ml.m5.large', instanceCount: 2, weight: 1 },
        { variantName: 'green', modelName: 'custom-green', instanceType: 'ml.m5.large', instanceCount: 1, weight: 0 },
      ],
    });
    const endpoint = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));
    const model = await h.sagemaker.send(new DescribeModelCommand({ ModelName: 'ep-blue' }));
    const config = await h.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'ep-config-initial' }));

    expect(endpoint.EndpointStatus).toBe('InService');
    expect(endpoint.ProductionVariants).toMatchObject([
      { VariantName: 'blue', CurrentWeight: 1, CurrentInstanceCount: 2 },
      { VariantName: 'green', CurrentWeight: 0, CurrentInstanceCount: 1 },
    ]);
    expect(model.PrimaryContainer).toEqual({ ModelPackageName: packageArn });
    expect(config.ProductionVariants?.map((variant) => variant.ModelName)).toEqual(['ep-blue', 'custom-green']);
    expect(h.simulators.sagemaker.models()).toEqual(['ep-blue', 'custom-green']);
    expect(h.simulators.sagemaker.endpointConfigs()).toEqual(['ep-config-initial']);
    expect(h.simulators.sagemaker.calls).toHaveLength(3);
  });

  it('It should use the given config name', () => {
    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      configName: 'ep-config-7',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });

    expect(h.simulators.sagemaker.endpoint('ep')?.configName).toBe('ep-config-7');
  });
});

describe('endpoint snapshot', () => {
  it('It should return a plain snapshot after lazy transitions', async () => {
    await endpointWithCanaryConfig(h);
    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));

    const during = h.simulators.sagemaker.endpoint('ep');
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    const after = h.simulators.sagemaker.endpoint('ep');

    expect(during).toMatchObject({
      status: 'Updating',
      configName: 'ep-config-initial',
      pendingConfigName: 'ep-config-canary',
    });
    expect(after).toEqual({
      status: 'InService',
      configName: 'ep-config-canary',
      variants: [
        {
          variantName: 'blue',
          modelName: 'ep-blue',
          currentWeight: 0.9,
          desiredWeight: 0.9,
          instanceCount: 1,
          desiredInstanceCount: 1,
        },
        {
          variantName: 'green',
          modelName: 'ep-green',
          currentWeight: 0.1,
          desiredWeight: 0.1,
          instanceCount: 1,
          desiredInstanceCount: 1,
        },
      ],
    });
  });

  it('It should return undefined for an unknown endpoint', () => {
    expect(h.simulators.sagemaker.endpoint('ghost')).toBeUndefined();
  });
});

describe('holdEndpoint', () => {
  beforeEach(() => {
    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });
  });

  it('It should report the held status for the given time, then the previous one', async () => {
    h.simulators.sagemaker.holdEndpoint('ep', 'SystemUpdating', 300);

    const held = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));
    h.clock.advanceSeconds(300);
    const released = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));

    expect(held.EndpointStatus).toBe('SystemUpdating');
    expect(released.EndpointStatus).toBe('InService');
  });

  it('It should reject updates with the in-progress error while held', async () => {
    h.simulators.sagemaker.holdEndpoint('ep', 'Updating', 120);

    const error = await rejectionOf(
      h.sagemaker.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'ep',
          DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 2 }],
        }),
      ),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Cannot update in-progress endpoint "${arnOf.endpoint('ep')}".`);
  });
});

describe('failDeploymentsOf', () => {
  it('It should silently revert an update to the previous config and variants, with no FailureReason', async () => {
    const { v2 } = await endpointWithCanaryConfig(h);
    h.simulators.sagemaker.failDeploymentsOf(v2, 'silent-revert');

    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    const during = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    const after = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));

    expect(during.EndpointStatus).toBe('Updating');
    expect(after.EndpointStatus).toBe('InService');
    expect(after.EndpointConfigName).toBe('ep-config-initial');
    expect(after.ProductionVariants).toMatchObject([{ VariantName: 'blue', CurrentWeight: 1 }]);
    expect(after.ProductionVariants).toHaveLength(1);
    expect(after.FailureReason).toBeUndefined();
  });

  it('It should revert an update and set FailureReason in report-failure mode', async () => {
    const { v2 } = await endpointWithCanaryConfig(h);
    h.simulators.sagemaker.failDeploymentsOf(v2, 'report-failure');

    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.updateEndpointSeconds);
    const after = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));

    expect(after.EndpointStatus).toBe('InService');
    expect(after.EndpointConfigName).toBe('ep-config-initial');
    expect(after.FailureReason).toContain('production variant green');
  });

  it('It should end a CreateEndpoint on that package Failed with a FailureReason', async () => {
    await endpointWithCanaryConfig(h);
    const v2 = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/2';
    h.simulators.sagemaker.failDeploymentsOf(v2, 'silent-revert');

    await h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ep-2', EndpointConfigName: 'ep-config-canary' }));
    h.clock.advanceSeconds(DEFAULT_TIMINGS.createEndpointSeconds);
    const output = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep-2' }));

    expect(output.EndpointStatus).toBe('Failed');
    expect(output.FailureReason).toContain('did not pass the ping health check');
  });
});

describe('throttle', () => {
  it('It should answer the next N calls of the operation with ThrottlingException "Rate exceeded"', async () => {
    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });
    h.simulators.sagemaker.throttle('DescribeEndpoint', 2);

    const first = await rejectionOf(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' })));
    const second = await rejectionOf(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' })));
    const third = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));

    expect([first.name, first.message]).toEqual(['ThrottlingException', 'Rate exceeded']);
    expect(second.name).toBe('ThrottlingException');
    expect(first.$metadata?.httpStatusCode).toBe(400);
    expect(third.EndpointStatus).toBe('InService');
  });
});

describe('throttling bursts', () => {
  it('It should add a second burst to what is left of the first', async () => {
    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });
    h.simulators.sagemaker.throttle('DescribeEndpoint', 2);
    await rejectionOf(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' })));
    h.simulators.sagemaker.throttle('DescribeEndpoint', 2);

    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' })).then(
          () => 'ok',
          (error: Error) => error.name,
        ),
      );
    }

    expect(outcomes).toEqual(['ThrottlingException', 'ThrottlingException', 'ThrottlingException', 'ok']);
  });
});

describe('call log', () => {
  it('It should record every call with its virtual time, including rejected ones', async () => {
    h.clock.advanceSeconds(30);
    const at = h.clock.now();

    await rejectionOf(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ghost' })));
    h.simulators.sagemaker.throttle('CreateModel', 1);
    await rejectionOf(h.sagemaker.send(new CreateModelCommand({ ModelName: 'm', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: 'i' } })));

    expect(h.simulators.sagemaker.calls).toEqual([
      expect.objectContaining({
        at,
        service: 'sagemaker',
        operation: 'DescribeEndpoint',
        input: { EndpointName: 'ghost' },
        error: 'ValidationException',
      }),
      expect.objectContaining({ operation: 'CreateModel', error: 'ThrottlingException' }),
    ]);
  });

  it('It should list only mutating calls in mutatingCalls()', async () => {
    await endpointWithCanaryConfig(h);
    await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));
    await h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'ep-config-canary' }));

    const operations = h.simulators.sagemaker.mutatingCalls().map((call) => call.operation);

    expect(operations).toEqual(['CreateModel', 'CreateEndpointConfig', 'UpdateEndpoint']);
  });
});

describe('timings', () => {
  it('It should use the timings given to the constructor', async () => {
    await h.close();
    h = await startHarness({ updateWeightsSeconds: 5 });
    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });

    await h.sagemaker.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: 'ep',
        DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 2 }],
      }),
    );
    h.clock.advanceSeconds(5);

    expect(h.simulators.sagemaker.endpoint('ep')?.status).toBe('InService');
  });
});

describe('handle', () => {
  function thrownBy(action: () => unknown): unknown {
    try {
      action();
    } catch (error) {
      return error;
    }
    throw new Error('Expected the call to throw');
  }

  it('It should throw SimulatedServiceError named after the AWS error code when used without HTTP', () => {
    const sim = new SageMakerSimulator({ clock: new VirtualClock() });

    const error = thrownBy(() => sim.handle('DescribeEndpoint', { EndpointName: 'ghost' }));

    expect(error).toBeInstanceOf(SimulatedServiceError);
    expect(error).toMatchObject({ name: 'ValidationException' });
  });

  it('It should reject an unknown operation with UnknownOperationException', () => {
    const sim = new SageMakerSimulator({ clock: new VirtualClock() });

    const error = thrownBy(() => sim.handle('CreateTrainingJob', {}));

    expect(error).toMatchObject({ name: 'UnknownOperationException' });
    expect(sim.calls).toEqual([expect.objectContaining({ operation: 'CreateTrainingJob', error: 'UnknownOperationException' })]);
  });
});
