/**
 * The ledger's DynamoDB table: one partition per endpoint with its lock, one record per
 * release and the last known good version (see lambdas/domain/ledger.ts). On-demand,
 * point-in-time recovery, encrypted with KMS, protected from deletion and retained when
 * the stack goes: it is the audit trail of every release.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct, type IConstruct } from 'constructs';
import { LEDGER_KEY_SCHEMA } from '../lambdas/domain/ledger';
import { acknowledge } from './nag';

/**
 * The DynamoDB actions lambdas/aws/ledger.ts sends, and no others: GetCommand,
 * PutCommand, UpdateCommand, DeleteCommand and QueryCommand of @aws-sdk/lib-dynamodb.
 * A new call in the adapter needs its action here (test/constructs/release-ledger.test.ts
 * checks the list against the adapter's imports).
 */
export const LEDGER_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'] as const;

/**
 * What a principal needs on a customer managed key to read and write a table encrypted
 * with it (the same set CDK grants with Table.grantReadWriteData), only through DynamoDB.
 */
export const LEDGER_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'] as const;

export interface ReleaseLedgerProps {
  /**
   * A customer managed key for the table.
   * @default the AWS managed key for DynamoDB (aws/dynamodb)
   */
  readonly encryptionKey?: IKey;
  /**
   * What happens to the table when it leaves the stack. Override only for tests and sandboxes.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection. Turn it off only for tests and sandboxes.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

const ATTRIBUTE_TYPES: Record<(typeof LEDGER_KEY_SCHEMA)['partitionKey']['type'], AttributeType> = { S: AttributeType.STRING };

export class ReleaseLedger extends Construct {
  public readonly table: Table;
  public readonly encryptionKey?: IKey;

  constructor(scope: Construct, id: string, props: ReleaseLedgerProps = {}) {
    super(scope, id);
    const { partitionKey, sortKey } = LEDGER_KEY_SCHEMA;
    this.encryptionKey = props.encryptionKey;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: partitionKey.name, type: ATTRIBUTE_TYPES[partitionKey.type] },
      sortKey: { name: sortKey.name, type: ATTRIBUTE_TYPES[sortKey.type] },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.AWS_MANAGED }),
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets `grantee` use the ledger: exactly LEDGER_ACTIONS on the table (no index, no
   * stream, no scan), and with a customer managed key LEDGER_KEY_ACTIONS on that key
   * through DynamoDB only.
   */
  public grantLedger(grantee: IGrantable): Grant {
    const grant = Grant.addToPrincipal({ grantee, actions: [...LEDGER_ACTIONS], resourceArns: [this.table.tableArn] });
    const key = this.encryptionKey;
    if (key) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: [...LEDGER_KEY_ACTIONS],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
      if (isConstruct(grantee)) {
        for (const action of LEDGER_KEY_ACTIONS.filter((a) => a.includes('*'))) {
          acknowledge(
            grantee,
            `AwsSolutions-IAM5[Action::${action}]`,
            'DynamoDB encryption with a customer managed key needs the data key actions on that key; limited to the ledger key and to calls through DynamoDB (kms:ViaService).',
          );
        }
      }
    }
    return grant;
  }
}

function isConstruct(value: unknown): value is IConstruct {
  return typeof value === 'object' && value !== null && 'node' in value;
}
