// Wire level of the simulator servers: raw HTTP requests check the JSON protocol
// details (targets, content types, error bodies and headers, epoch-second timestamps,
// gzip-encoded bodies) that the SDK-level suites rely on.
import { gzipSync } from 'node:zlib';
import { GetMetricStatisticsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { rejectionOf, startHarness, type Harness } from './harness';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

function post(url: string, target: string | undefined, body: string | Buffer, extraHeaders: Record<string, string> = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', ...extraHeaders };
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

describe('gzip-encoded bodies', () => {
  it('It should accept a large PutMetricData that the real SDK gzips, and store every value', async () => {
    // 1,000 data of 20 values each: about 200 KB of JSON, far above the SDK's 10 KiB compression threshold.
    const values = Array.from({ length: 20 }, (_, index) => index + 1);
    const data = Array.from({ length: 1000 }, () => ({
      MetricName: 'Latency',
      Dimensions: [{ Name: 'EndpointName', Value: 'ep' }],
      Timestamp: new Date(h.clock.now()),
      Values: values,
      Unit: 'Milliseconds' as const,
    }));
    const encodings: Array<string | undefined> = [];
    h.cloudwatch.middlewareStack.add(
      (next) => async (args) => {
        encodings.push((args.request as { headers: Record<string, string> }).headers['content-encoding']);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordContentEncoding' },
    );

    await h.cloudwatch.send(new PutMetricDataCommand({ Namespace: 'Rehearsal/Test', MetricData: data }));
    const statistics = await h.cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Rehearsal/Test',
        MetricName: 'Latency',
        Dimensions: [{ Name: 'EndpointName', Value: 'ep' }],
        StartTime: new Date(h.clock.now()),
        EndTime: new Date(h.clock.now() + 60_000),
        Period: 60,
        Statistics: ['SampleCount', 'Sum'],
      }),
    );

    expect(encodings[0]).toBe('gzip');
    expect(statistics.Datapoints).toEqual([expect.objectContaining({ SampleCount: 20_000, Sum: 1000 * 210 })]);
  });

  it('It should decode a gzip body sent with Content-Encoding: gzip', async () => {
    h.simulators.sagemaker.putEndpoint({
      name: 'ep',
      variants: [{ variantName: 'blue', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });

    const response = await post(h.simulators.urls.sagemaker, 'SageMaker.DescribeEndpoint', gzipSync('{"EndpointName":"ep"}'), { 'content-encoding': 'gzip' });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ EndpointName: 'ep', EndpointStatus: 'InService' });
  });

  it('It should answer a body that is not valid gzip with 400 SerializationException', async () => {
    const response = await post(h.simulators.urls.sagemaker, 'SageMaker.DescribeEndpoint', '{"EndpointName":"ep"}', { 'content-encoding': 'gzip' });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'SerializationException', message: expect.stringContaining('gzip') });
  });

  it('It should apply the 10 MiB limit to the decoded body, so that a small gzip body cannot inflate past it', async () => {
    const bomb = gzipSync(Buffer.alloc(11 * 1024 * 1024, ' '));
    expect(bomb.length).toBeLessThan(100 * 1024);

    const response = await post(h.simulators.urls.cloudwatch, 'GraniteServiceVersion20100801.PutMetricData', bomb, { 'content-encoding': 'gzip' });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('It should answer an encoding other than gzip with 415', async () => {
    const response = await post(h.simulators.urls.sagemaker, 'SageMaker.DescribeEndpoint', '{"EndpointName":"ep"}', { 'content-encoding': 'br' });

    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ __type: 'SerializationException', message: expect.stringContaining('br') });
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
