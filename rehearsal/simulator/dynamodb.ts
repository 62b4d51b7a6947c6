/**
 * DynamoDB for rehearsals and tests: dynalite (an in-memory DynamoDB implementation)
 * on a free port on 127.0.0.1, reached by the real SDK v3 client, and the ledger table
 * created from LEDGER_KEY_SCHEMA, so the ledger code runs unchanged.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LEDGER_KEY_SCHEMA } from '../../lambdas/domain/ledger';

type DynaliteFactory = (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;
// dynalite ships no types and no ES module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as DynaliteFactory;

export interface LocalDynamo {
  readonly endpoint: string;
  readonly raw: DynamoDBClient;
  readonly client: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export async function startDynalite(region = 'eu-west-1'): Promise<LocalDynamo> {
  // Tables are ACTIVE at once: a rehearsal resets its table between runs.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const raw = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
  const client = DynamoDBDocumentClient.from(raw);
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    raw,
    client,
    close() {
      closing ??= (async () => {
        client.destroy();
        raw.destroy();
        server.closeAllConnections?.();
        await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      })();
      return closing;
    },
  };
}

let tables = 0;

/** Creates an on-demand table with the ledger's key schema; a fresh name per call keeps tests apart. */
export async function createLedgerTable(dynamo: LocalDynamo, tableName = `ledger-${process.pid}-${++tables}`): Promise<string> {
  const { partitionKey, sortKey } = LEDGER_KEY_SCHEMA;
  await dynamo.raw.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
        { AttributeName: sortKey.name, AttributeType: sortKey.type },
      ],
      KeySchema: [
        { AttributeName: partitionKey.name, KeyType: 'HASH' },
        { AttributeName: sortKey.name, KeyType: 'RANGE' },
      ],
    }),
  );
  return tableName;
}

/** Deletes the table (if it exists) and creates it empty again. */
export async function recreateLedgerTable(dynamo: LocalDynamo, tableName: string): Promise<string> {
  try {
    await dynamo.raw.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException) && (error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  return createLedgerTable(dynamo, tableName);
}
