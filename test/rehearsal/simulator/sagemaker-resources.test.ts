// SageMaker simulator, reached through the real SDK v3 client: model packages, models
// and endpoint configurations (the resources an endpoint deployment is built from).
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { ROLE_ARN, arnOf, rejectionOf, startHarness, type Harness } from './harness';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

function createModel(name: string, packageArn?: string) {
  return h.sagemaker.send(
    new CreateModelCommand({
      ModelName: name,
      ExecutionRoleArn: ROLE_ARN,
      PrimaryContainer: packageArn ? { ModelPackageName: packageArn } : { Image: 'example.com/model:1' },
    }),
  );
}

function variant(overrides: Partial<ProductionVariant> = {}): ProductionVariant {
  return {
    VariantName: 'blue',
    ModelName: 'model-a',
    InstanceType: 'ml.m5.large',
    InitialInstanceCount: 1,
    ...overrides,
  };
}

describe('DescribeModelPackage', () => {
  it('It should describe a seeded model package version', async () => {
    const arn = h.simulators.sagemaker.putModelPackage({
      groupName: 'Fraud-Detector',
      version: 7,
      status: 'PendingManualApproval',
      image: 'example.com/fraud:7',
    });

    const output = await h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));

    expect(arn).toBe('arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud-detector/7');
    expect(output).toMatchObject({
      ModelPackageName: 'Fraud-Detector',
      ModelPackageGroupName: 'Fraud-Detector',
      ModelPackageVersion: 7,
      ModelPackageArn: arn,
      ModelApprovalStatus: 'PendingManualApproval',
      ModelPackageStatus: 'Completed',
      InferenceSpecification: { Containers: [{ Image: 'example.com/fraud:7' }] },
    });
    expect(output.CreationTime).toEqual(h.clock.nowDate());
  });

  it('It should default a seeded package to Approved', async () => {
    const arn = h.simulators.sagemaker.putModelPackage({ groupName: 'fraud', version: 1 });

    const output = await h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));

    expect(output.ModelApprovalStatus).toBe('Approved');
  });

  it('It should reject an unknown model package with ValidationException', async () => {
    const arn = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/99';

    const error = await rejectionOf(h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Model package ${arn} does not exist.`);
  });
});

describe('CreateModel and DescribeModel', () => {
  it('It should create a model and describe it', async () => {
    const packageArn = h.simulators.sagemaker.putModelPackage({ groupName: 'fraud', version: 1 });

    const created = await createModel('Model-A', packageArn);
    const described = await h.sagemaker.send(new DescribeModelCommand({ ModelName: 'Model-A' }));

    expect(created.ModelArn).toBe(arnOf.model('Model-A'));
    expect(described).toMatchObject({
      ModelName: 'Model-A',
      ModelArn: arnOf.model('Model-A'),
      ExecutionRoleArn: ROLE_ARN,
      PrimaryContainer: { ModelPackageName: packageArn },
    });
    expect(described.CreationTime).toEqual(h.clock.nowDate());
  });

  it('It should reject a model name that breaks the naming pattern, naming the field', async () => {
    const error = await rejectionOf(createModel('bad_name'));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("Value 'bad_name' at 'modelName' failed to satisfy constraint");
  });

  it('It should reject creating a model that already exists', async () => {
    await createModel('model-a');

    const error = await rejectionOf(createModel('model-a'));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Cannot create already existing model "${arnOf.model('model-a')}".`);
  });

  it('It should require an ExecutionRoleArn', async () => {
    const error = await rejectionOf(h.sagemaker.send(new CreateModelCommand({ ModelName: 'model-a', PrimaryContainer: { Image: 'example.com/m:1' } })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("at 'executionRoleArn' failed to satisfy constraint: Member must not be null");
  });

  it('It should reject a container whose model package does not exist', async () => {
    const missing = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/4';

    const error = await rejectionOf(createModel('model-a', missing));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Model package ${missing} does not exist.`);
    expect(h.simulators.sagemaker.models()).toEqual([]);
  });

  it('It should store the tags given at creation', async () => {
    await h.sagemaker.send(
      new CreateModelCommand({
        ModelName: 'model-a',
        ExecutionRoleArn: ROLE_ARN,
        PrimaryContainer: { Image: 'example.com/m:1' },
        Tags: [{ Key: 'release', Value: 'r-42' }],
      }),
    );

    expect(h.simulators.sagemaker.tagsOf(arnOf.model('model-a'))).toEqual([{ Key: 'release', Value: 'r-42' }]);
  });

  it('It should report a missing model as "Could not find model"', async () => {
    const error = await rejectionOf(h.sagemaker.send(new DescribeModelCommand({ ModelName: 'ghost' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find model "${arnOf.model('ghost')}".`);
  });
});

describe('DeleteModel', () => {
  it('It should delete a model', async () => {
    await createModel('model-a');

    await h.sagemaker.send(new DeleteModelCommand({ ModelName: 'model-a' }));

    expect(h.simulators.sagemaker.models()).toEqual([]);
  });

  it('It should reject deleting a missing model with "Could not find model"', async () => {
    const error = await rejectionOf(h.sagemaker.send(new DeleteModelCommand({ ModelName: 'ghost' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find model "${arnOf.model('ghost')}".`);
  });
});

describe('CreateEndpointConfig and DescribeEndpointConfig', () => {
  beforeEach(async () => {
    await createModel('model-a');
  });

  it('It should create a config and describe it with the default weight filled in', async () => {
    const created = await h.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'config-a',
        ProductionVariants: [variant()],
        KmsKeyId: 'alias/sagemaker',
        DataCaptureConfig: {
          InitialSamplingPercentage: 10,
          DestinationS3Uri: 's3://bucket/capture',
          CaptureOptions: [{ CaptureMode: 'Input' }],
        },
      }),
    );
    const described = await h.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'config-a' }));

    expect(created.EndpointConfigArn).toBe(arnOf.endpointConfig('config-a'));
    expect(described).toMatchObject({
      EndpointConfigName: 'config-a',
      EndpointConfigArn: arnOf.endpointConfig('config-a'),
      ProductionVariants: [{ ...variant(), InitialVariantWeight: 1 }],
      KmsKeyId: 'alias/sagemaker',
      DataCaptureConfig: { InitialSamplingPercentage: 10, DestinationS3Uri: 's3://bucket/capture' },
    });
    expect(described.CreationTime).toEqual(h.clock.nowDate());
  });

  it('It should reject creating a config that already exists', async () => {
    const command = new CreateEndpointConfigCommand({
      EndpointConfigName: 'config-a',
      ProductionVariants: [variant()],
    });
    await h.sagemaker.send(command);

    const error = await rejectionOf(h.sagemaker.send(command));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Cannot create already existing endpoint configuration "${arnOf.endpointConfig('config-a')}".`);
  });

  it('It should reject a variant whose model does not exist', async () => {
    const error = await rejectionOf(
      h.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'config-a',
          ProductionVariants: [variant({ ModelName: 'ghost' })],
        }),
      ),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find model "${arnOf.model('ghost')}".`);
  });

  it('It should reject duplicate variant names', async () => {
    const error = await rejectionOf(
      h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'config-a', ProductionVariants: [variant(), variant()] })),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain('"blue" is repeated');
  });

  it('It should reject a config with no variants', async () => {
    const error = await rejectionOf(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'config-a', ProductionVariants: [] })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("at 'productionVariants' failed to satisfy constraint: Member must have length greater than or equal to 1");
  });

  it('It should reject a config with more than 10 variants', async () => {
    const variants = Array.from({ length: 11 }, (_, index) => variant({ VariantName: `v${index}` }));

    const error = await rejectionOf(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'config-a', ProductionVariants: variants })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain('Member must have length less than or equal to 10');
  });

  it('It should reject a negative initial weight', async () => {
    const error = await rejectionOf(
      h.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'config-a',
          ProductionVariants: [variant({ InitialVariantWeight: -0.5 })],
        }),
      ),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain(
      "Value '-0.5' at 'productionVariants.1.member.initialVariantWeight' failed to satisfy constraint: Member must have value greater than or equal to 0",
    );
  });

  it('It should reject an instance count below 1', async () => {
    const error = await rejectionOf(
      h.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'config-a',
          ProductionVariants: [variant({ InitialInstanceCount: 0 })],
        }),
      ),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("at 'productionVariants.1.member.initialInstanceCount'");
  });

  it('It should require an instance count when an instance type is given', async () => {
    const error = await rejectionOf(
      h.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'config-a',
          ProductionVariants: [variant({ InitialInstanceCount: undefined })],
        }),
      ),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: Member must not be null");
  });

  it('It should reject a variant name that breaks the naming pattern, naming the field', async () => {
    const error = await rejectionOf(
      h.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'config-a',
          ProductionVariants: [variant({ VariantName: 'blue green' })],
        }),
      ),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("Value 'blue green' at 'productionVariants.1.member.variantName'");
  });

  it('It should reject a config name that breaks the naming pattern, naming the field', async () => {
    const error = await rejectionOf(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: '-config', ProductionVariants: [variant()] })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("Value '-config' at 'endpointConfigName'");
  });

  it('It should report a missing config as "Could not find endpoint configuration"', async () => {
    const error = await rejectionOf(h.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'ghost' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find endpoint configuration "${arnOf.endpointConfig('ghost')}".`);
  });
});

describe('DeleteEndpointConfig', () => {
  it('It should delete a config', async () => {
    await createModel('model-a');
    await h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'config-a', ProductionVariants: [variant()] }));

    await h.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'config-a' }));

    expect(h.simulators.sagemaker.endpointConfigs()).toEqual([]);
  });

  it('It should not block deleting a config that an endpoint runs (SageMaker allows it; the endpoint keeps running)', async () => {
    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
      configName: 'live-config',
    });

    await h.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'live-config' }));

    expect(h.simulators.sagemaker.endpointConfigs()).toEqual([]);
    expect(h.simulators.sagemaker.endpoint('ep')).toMatchObject({ status: 'InService', configName: 'live-config' });
  });

  it('It should report every constraint violation of a request at once, counted, as SageMaker does', async () => {
    const error = await rejectionOf(
      h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'bad_name', ProductionVariants: [variant({ InitialVariantWeight: -1 })] })),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(
      /^2 validation errors detected: Value 'bad_name' at 'endpointConfigName' failed to satisfy constraint: .*; Value '-1' at 'productionVariants\.1\.member\.initialVariantWeight' failed to satisfy constraint/,
    );
  });

  it('It should reject deleting a missing config with "Could not find endpoint configuration"', async () => {
    const error = await rejectionOf(h.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'ghost' })));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`Could not find endpoint configuration "${arnOf.endpointConfig('ghost')}".`);
  });
});
