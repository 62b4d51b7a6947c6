// Wire level of the simulator servers: raw HTTP requests check the JSON protocol
// details (targets, content types, error bodies and headers, epoch-second timestamps)
// that the SDK-level suites rely on.
import { DescribeEndpointCommand, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { rejectionOf, startHarness, type Harness } from './harness';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

function post(url: string, target: string | undefined, body: string) {
  const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
  if (target !== undefined) headers['x-amz-target'] = target;
  return fetch(`${url}/`, { method: 'POST', headers, body });
}

describe('SageMaker server', () => {
  it('It should answer a JSON 1.1 request with the operation output and epoch-second timestamps', async () => {
    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });

    const response = await post(h.simulators.urls.sagemaker, 'SageMaker.DescribeEndpoint', '{"EndpointName":"ep"}');
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(body.EndpointStatus).toBe('InService');
    expect(body.CreationTime).toBe(h.clock.now() / 1000);
  });

  it('It should answer an unknown operation with 400 UnknownOperationException', async () => {
    const response = await post(h.simulators.urls.sagemaker, 'SageMaker.CreateTrainingJob', '{}');

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('It should answer a target for another service with 400 UnknownOperationException', async () => {
    const response = await post(h.simulators.urls.sagemaker, 'GraniteServiceVersion20100801.DescribeAlarms', '{}');

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('It should answer a body that is not JSON with 400 SerializationException', async () => {
    const response = await post(h.simulators.urls.sagemaker, 'SageMaker.DescribeEndpoint', '{"EndpointName":');

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('It should answer errors as __type and message, which the SDK raises as a service exception', async () => {
    const raw = await post(h.simulators.urls.sagemaker, 'SageMaker.DescribeEndpoint', '{"EndpointName":"ghost"}');
    const error = await rejectionOf(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ghost' })));

    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({
      __type: 'ValidationException',
      message: 'Could not find endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/ghost".',
    });
    expect(error).toBeInstanceOf(SageMakerServiceException);
    expect(error.name).toBe('ValidationException');
  });
});

describe('CloudWatch server', () => {
  it('It should answer a JSON 1.0 request with the operation output', async () => {
    h.simulators.cloudwatch.putAlarm('a', 'ALARM');

    const response = await post(h.simulators.urls.cloudwatch, 'GraniteServiceVersion20100801.DescribeAlarms', '{}');
    const body = (await response.json()) as { MetricAlarms: Array<Record<string, unknown>> };

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(body.MetricAlarms[0]).toMatchObject({
      AlarmName: 'a',
      StateValue: 'ALARM',
      StateUpdatedTimestamp: h.clock.now() / 1000,
    });
  });

  it('It should send the Query error code in x-amzn-query-error, as awsQuery-compatible services do', async () => {
    const response = await post(
      h.simulators.urls.cloudwatch,
      'GraniteServiceVersion20100801.SetAlarmState',
      '{"AlarmName":"ghost","StateValue":"OK","StateReason":"r"}',
    );

    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-query-error')).toBe('ResourceNotFound;Sender');
    expect(await response.json()).toMatchObject({ __type: 'ResourceNotFound' });
  });

  it('It should answer a body that is not a JSON object with 400 SerializationException', async () => {
    const response = await post(h.simulators.urls.cloudwatch, 'GraniteServiceVersion20100801.DescribeAlarms', '[]');

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });
});

describe('startSimulators', () => {
  it('It should listen on 127.0.0.1 with a separate port per service', () => {
    const sagemaker = new URL(h.simulators.urls.sagemaker);
    const cloudwatch = new URL(h.simulators.urls.cloudwatch);

    expect(sagemaker.hostname).toBe('127.0.0.1');
    expect(cloudwatch.hostname).toBe('127.0.0.1');
    expect(sagemaker.port).not.toBe(cloudwatch.port);
  });

  it('It should stop listening once closed, even with kept-alive SDK connections', async () => {
    await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ghost' })).catch(() => undefined);

    await h.simulators.close();

    await expect(post(h.simulators.urls.sagemaker, 'SageMaker.DescribeEndpoint', '{}')).rejects.toThrow();
  });

  it('It should accept close() more than once', async () => {
    await h.simulators.close();

    await expect(h.simulators.close()).resolves.toBeUndefined();
  });
});
