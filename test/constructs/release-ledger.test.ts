/**
 * The ledger table: its key is the one the adapter writes, it survives the stack and
 * mistakes (retained, deletion protection, point-in-time recovery), it is encrypted,
 * and `grantLedger` allows exactly the DynamoDB calls lambdas/aws/ledger.ts makes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LEDGER_KEY_SCHEMA } from '../../lambdas/domain/ledger';
import { LEDGER_ACTIONS, LEDGER_KEY_ACTIONS, ReleaseLedger } from '../../lib/release-ledger';
import { ENV, type Json, policyStatements, resourcesOfType, synthesize } from './fixtures';

/** The IAM action each DynamoDB command of the SDK v3 (client and document client) needs. */
const ACTION_OF_COMMAND: Record<string, string> = {
  GetCommand: 'dynamodb:GetItem',
  GetItemCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  PutItemCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  UpdateItemCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  DeleteItemCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  BatchGetCommand: 'dynamodb:BatchGetItem',
  BatchGetItemCommand: 'dynamodb:BatchGetItem',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
  BatchWriteItemCommand: 'dynamodb:BatchWriteItem',
  TransactGetCommand: 'dynamodb:TransactGetItems',
  TransactGetItemsCommand: 'dynamodb:TransactGetItems',
  TransactWriteCommand: 'dynamodb:TransactWriteItems',
  TransactWriteItemsCommand: 'dynamodb:TransactWriteItems',
};

/** The *Command names lambdas/aws/ledger.ts imports from the DynamoDB SDK packages. */
function adapterCommands(): string[] {
  const source = readFileSync(join(__dirname, '..', '..', 'lambdas', 'aws', 'ledger.ts'), 'utf8');
  const imports = [...source.matchAll(/import\s*{([^}]*)}\s*from\s*'@aws-sdk\/(?:lib-dynamodb|client-dynamodb)'/g)].flatMap((m) => m[1]!.split(','));
  return imports.map((name) => name.replace(/^\s*type\s+/, '').trim()).filter((name) => name.endsWith('Command'));
}

interface TableJson {
  readonly Properties: Record<string, Json>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

describe('ReleaseLedger', () => {
  describe('in the production stack', () => {
    let table: TableJson;
    let tableId: string;

    beforeAll(() => {
      const { template, stack } = synthesize();
      const tables = template.findResources('AWS::DynamoDB::Table') as Record<string, TableJson>;
      expect(Object.keys(tables)).toHaveLength(1);
      tableId = stack.getLogicalId(stack.releaseManager.ledger.table.node.defaultChild as CfnResource);
      table = tables[tableId]!;
    });

    it('It should key the table as LEDGER_KEY_SCHEMA says: pk (hash) and sk (range), both strings', () => {
      expect(table.Properties.KeySchema).toEqual([
        { AttributeName: LEDGER_KEY_SCHEMA.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: LEDGER_KEY_SCHEMA.sortKey.name, KeyType: 'RANGE' },
      ]);
      expect(table.Properties.AttributeDefinitions).toEqual([
        { AttributeName: 'pk', AttributeType: LEDGER_KEY_SCHEMA.partitionKey.type },
        { AttributeName: 'sk', AttributeType: LEDGER_KEY_SCHEMA.sortKey.type },
      ]);
      expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
      expect(table.Properties.LocalSecondaryIndexes).toBeUndefined();
    });

    it('It should bill on demand', () => {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    });

    it('It should keep point-in-time recovery on', () => {
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    });

    it('It should encrypt with KMS, by default the AWS managed key', () => {
      // SSEEnabled without a key id is DynamoDB's "AWS managed key" (aws/dynamodb) setting.
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    });

    it('It should protect the table from deletion and keep it when the stack goes', () => {
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    });
  });

  describe('grantLedger', () => {
    it('It should grant the actions of every DynamoDB command lambdas/aws/ledger.ts imports, and no others', () => {
      const commands = adapterCommands();
      expect(commands.length).toBeGreaterThan(0);
      const unknown = commands.filter((c) => !ACTION_OF_COMMAND[c]);
      expect(unknown).toEqual([]);
      const needed = [...new Set(commands.map((c) => ACTION_OF_COMMAND[c]!))].sort();
      expect([...LEDGER_ACTIONS].sort()).toEqual(needed);
    });

    it('It should grant exactly the ledger actions on the table, and with a customer key its use through DynamoDB only', () => {
      const stack = new Stack(new App(), 'LedgerWithKey', { env: ENV });
      const key = new Key(stack, 'Key', { enableKeyRotation: true });
      const ledger = new ReleaseLedger(stack, 'Ledger', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false });
      const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
      ledger.grantLedger(role);
      const template = Template.fromStack(stack);
      const id = (c: CfnResource) => stack.getLogicalId(c);
      const tableId = id(ledger.table.node.defaultChild as CfnResource);
      const keyId = id(key.node.defaultChild as CfnResource);

      const statements = policyStatements(template).map(({ actions, resources, condition }) => ({ actions, resources, condition }));
      expect(statements).toEqual([
        { actions: [...LEDGER_ACTIONS], resources: [`<${tableId}.Arn>`], condition: undefined },
        {
          actions: [...LEDGER_KEY_ACTIONS],
          resources: [`<${keyId}.Arn>`],
          condition: { StringEquals: { 'kms:ViaService': `dynamodb.${ENV.region}.amazonaws.com` } },
        },
      ]);

      const [table] = Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table'));
      expect(table!.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      // The overrides for sandboxes take effect.
      expect(table!.Properties.DeletionProtectionEnabled).toBe(false);
      expect(table!.DeletionPolicy).toBe('Delete');
    });
  });

  it('It should give every ledger user the key statement when the stack is given a ledger key', () => {
    const keyArn = `arn:aws:kms:${ENV.region}:${ENV.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const { template } = synthesize(undefined, { ledgerKeyArn: keyArn });
    const [table] = Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table'));
    expect(table!.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn });
    const keyStatements = policyStatements(template).filter((s) => s.actions.some((a) => a.startsWith('kms:')));
    const ledgerStatements = policyStatements(template).filter((s) => s.actions.includes('dynamodb:GetItem'));
    expect(keyStatements.length).toBe(ledgerStatements.length);
    for (const s of keyStatements) expect(s.resources).toEqual([keyArn]);
  });
});
