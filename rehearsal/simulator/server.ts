/**
 * HTTP front of the simulators: speaks the AWS JSON protocols the real SDK v3 clients
 * use, so product code runs unchanged against `AWS_ENDPOINT_URL_SAGEMAKER`,
 * `AWS_ENDPOINT_URL_CLOUDWATCH`, `AWS_ENDPOINT_URL_SFN` and
 * `AWS_ENDPOINT_URL_EVENTBRIDGE` pointed here.
 *
 * Wire facts (checked against the installed @aws-sdk/client-sagemaker, client-cloudwatch,
 * client-sfn and client-eventbridge): every request is `POST /` with
 * `X-Amz-Target: <prefix>.<Operation>` and a JSON body; SageMaker is AWS JSON 1.1 (prefix
 * `SageMaker`), CloudWatch is AWS JSON 1.0 (prefix `GraniteServiceVersion20100801`) in
 * awsQuery-compatible mode, Step Functions is AWS JSON 1.0 (prefix `AWSStepFunctions`),
 * EventBridge is AWS JSON 1.1 (prefix `AWSEvents`).
 * Errors are `{"__type": "<ErrorName>", "message": "..."}`; for CloudWatch the legacy
 * Query code also goes in `x-amzn-query-error`, as the service sends it. Requests are
 * not signature-checked. The SDK gzips bodies of 10 KiB or more for operations with the
 * requestCompression trait (PutMetricData: `Content-Encoding: gzip`); they are decoded
 * here, and the size limit applies to the decoded body.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { VirtualClock } from '../clock';
import { CloudWatchSimulator } from './cloudwatch';
import { SimulatedServiceError } from './errors';
import { EventBridgeSimulator } from './eventbridge';
import { SageMakerSimulator, type Timings } from './sagemaker';
import { StepFunctionsSimulator } from './stepfunctions';

export interface StartSimulatorsOptions {
  clock: VirtualClock;
  region?: string;
  accountId?: string;
  timings?: Partial<Timings>;
}

export interface SimulatorUrls {
  sagemaker: string;
  cloudwatch: string;
  stepfunctions: string;
  eventbridge: string;
}

export interface RunningSimulators {
  sagemaker: SageMakerSimulator;
  cloudwatch: CloudWatchSimulator;
  stepfunctions: StepFunctionsSimulator;
  eventbridge: EventBridgeSimulator;
  urls: SimulatorUrls;
  /** Stops every server, dropping kept-alive client connections. Safe to call twice. */
  close(): Promise<void>;
}

interface JsonRpcService {
  targetPrefix: string;
  contentType: string;
  /** Send the awsQuery error code header (CloudWatch). */
  queryCompatible: boolean;
  handle(operation: string, input: unknown): unknown;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Starts one HTTP server per service on 127.0.0.1, each on a free port. */
export async function startSimulators(options: StartSimulatorsOptions): Promise<RunningSimulators> {
  const identity = { clock: options.clock, region: options.region, accountId: options.accountId };
  const sagemaker = new SageMakerSimulator({ ...identity, timings: options.timings });
  const cloudwatch = new CloudWatchSimulator(identity);
  const stepfunctions = new StepFunctionsSimulator(identity);
  const eventbridge = new EventBridgeSimulator(identity);
  const servers = await Promise.all([
    listen({
      targetPrefix: 'SageMaker',
      contentType: 'application/x-amz-json-1.1',
      queryCompatible: false,
      handle: (operation, input) => sagemaker.handle(operation, input),
    }),
    listen({
      targetPrefix: 'GraniteServiceVersion20100801',
      contentType: 'application/x-amz-json-1.0',
      queryCompatible: true,
      handle: (operation, input) => cloudwatch.handle(operation, input),
    }),
    listen({
      targetPrefix: 'AWSStepFunctions',
      contentType: 'application/x-amz-json-1.0',
      queryCompatible: false,
      handle: (operation, input) => stepfunctions.handle(operation, input),
    }),
    listen({
      targetPrefix: 'AWSEvents',
      contentType: 'application/x-amz-json-1.1',
      queryCompatible: false,
      handle: (operation, input) => eventbridge.handle(operation, input),
    }),
  ]);
  const [sagemakerServer, cloudwatchServer, stepfunctionsServer, eventbridgeServer] = servers;
  let closing: Promise<void> | undefined;
  return {
    sagemaker,
    cloudwatch,
    stepfunctions,
    eventbridge,
    urls: { sagemaker: sagemakerServer.url, cloudwatch: cloudwatchServer.url, stepfunctions: stepfunctionsServer.url, eventbridge: eventbridgeServer.url },
    // Idempotent, so a rehearsal's cleanup and an error path can both call it.
    close: () => {
      closing ??= Promise.all(servers.map((server) => server.close())).then(() => undefined);
      return closing;
    },
  };
}

async function listen(service: JsonRpcService): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    void respond(service, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; without this, close() waits for them to idle out.
        server.closeAllConnections();
      }),
  };
}

async function respond(service: JsonRpcService, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readBody(request);
    const operation = operationOf(service, request);
    const output = service.handle(operation, parseBody(body));
    send(response, service, requestId, 200, output ?? {});
  } catch (error) {
    if (error instanceof SimulatedServiceError) {
      const headers: Record<string, string> = {};
      if (service.queryCompatible && error.queryErrorCode) {
        headers['x-amzn-query-error'] = `${error.queryErrorCode};Sender`;
      }
      send(response, service, requestId, error.statusCode, { __type: error.name, message: error.message }, headers);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      send(response, service, requestId, 500, { __type: 'InternalFailure', message: `Simulator failure: ${message}` });
    }
  }
}

function operationOf(service: JsonRpcService, request: IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  const [prefix, operation] = typeof target === 'string' ? splitOnce(target, '.') : [undefined, undefined];
  if (request.method !== 'POST' || prefix !== service.targetPrefix || !operation) {
    throw new SimulatedServiceError(
      'UnknownOperationException',
      `Expected POST / with X-Amz-Target: ${service.targetPrefix}.<Operation>, got ${request.method ?? '?'} with target ${String(target)}.`,
    );
  }
  return operation;
}

function parseBody(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SimulatedServiceError('SerializationException', 'Request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SimulatedServiceError('SerializationException', 'Request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/**
 * The request body as text, gunzipped when `Content-Encoding: gzip` says so. Both the
 * bytes received and the decoded body are limited to MAX_BODY_BYTES (a small gzip body
 * can decode to a huge one).
 */
function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, body?: string) => {
      if (settled) return;
      settled = true;
      if (error === undefined) resolve(body ?? '');
      else reject(error);
    };
    const encoding = contentEncodingOf(request);
    if (encoding !== 'identity' && encoding !== 'gzip') {
      request.resume(); // drained, so that the answer reaches the client
      finish(new SimulatedServiceError('SerializationException', `Unsupported Content-Encoding: ${encoding}.`, { statusCode: 415 }));
      return;
    }
    const gunzip = encoding === 'gzip' ? createGunzip() : undefined;
    const decoded: Readable = gunzip ? request.pipe(gunzip) : request;
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_BODY_BYTES) {
        finish(new SimulatedServiceError('SerializationException', 'Request body is too large.', { statusCode: 413 }));
        request.destroy();
      }
    });
    request.on('error', (error) => finish(error));
    gunzip?.on('error', () => {
      finish(new SimulatedServiceError('SerializationException', 'Request body is not valid gzip data.'));
      request.unpipe(gunzip);
      request.resume(); // drained, so that the answer reaches the client
    });
    const chunks: Buffer[] = [];
    let size = 0;
    decoded.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        finish(new SimulatedServiceError('SerializationException', 'Request body is too large once decoded.', { statusCode: 413 }));
        if (gunzip) {
          // Stop inflating; the rest of the (small) compressed body is drained so that the answer reaches the client.
          request.unpipe(gunzip);
          gunzip.destroy();
          request.resume();
        }
        return;
      }
      chunks.push(chunk);
    });
    decoded.on('end', () => finish(undefined, Buffer.concat(chunks).toString('utf8')));
  });
}

/** The request's Content-Encoding, lower case; `identity` when absent. */
function contentEncodingOf(request: IncomingMessage): string {
  const header = request.headers['content-encoding']?.trim().toLowerCase();
  return header ? header : 'identity';
}

function send(
  response: ServerResponse,
  service: JsonRpcService,
  requestId: string,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  response.writeHead(statusCode, {
    'content-type': service.contentType,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': requestId,
    ...headers,
  });
  response.end(payload);
}

function splitOnce(value: string, separator: string): [string, string] {
  const index = value.indexOf(separator);
  return index === -1 ? [value, ''] : [value.slice(0, index), value.slice(index + 1)];
}
