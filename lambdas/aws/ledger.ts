/**
 * The ledger in DynamoDB: the endpoint lock (a conditional write with a lease), one
 * record per release and the last known good version. Every write is conditional so
 * that a retried task is a no-op and a finished record is never overwritten; every
 * item read back is validated against its schema.
 */
import { DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import { LockHeldError, LockNotHeldError, ReleaseAlreadyFinishedError, ReleaseRecordConflictError, ReleaseRecordNotFoundError } from '../domain/errors';
import {
  type FinalReleaseStatus,
  type LastKnownGood,
  LastKnownGoodSchema,
  type LedgerKey,
  type Lock,
  LockSchema,
  type ReleaseRecord,
  ReleaseRecordSchema,
  type ReleaseRef,
  type ReleaseStepRecord,
  ReleaseStepRecordSchema,
  RELEASE_SK_PREFIX,
  assertLeaseSeconds,
  endpointPk,
  lastKnownGoodKey,
  lockKey,
  newLock,
  parseLedgerItem,
  releaseKey,
  toEpochSeconds,
} from '../domain/ledger';

export interface LedgerOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Items per Query page (DynamoDB's Limit); small values exercise pagination in tests. */
  readonly pageSize?: number;
}

export interface AcquireLockInput {
  readonly endpointName: string;
  /** The execution ARN. */
  readonly owner: string;
  readonly releaseId?: string;
  readonly modelPackageArn?: string;
  readonly action?: Lock['action'];
  readonly leaseSeconds: number;
  readonly now: Date;
}

/** A conditional write that failed; `Item` is the item as it was when DynamoDB returns it (ReturnValuesOnConditionCheckFailure). */
interface ConditionalCheckFailed {
  name: 'ConditionalCheckFailedException';
  Item?: Record<string, AttributeValue>;
}

function isConditionalCheckFailed(error: unknown): error is ConditionalCheckFailed {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Drops undefined values (optional fields left out), which DynamoDB cannot store. */
const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class Ledger {
  private readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  private readonly pageSize: number | undefined;

  constructor(options: LedgerOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.pageSize = options.pageSize;
  }

  // ---- lock ---------------------------------------------------------------------------

  /**
   * Takes the endpoint's lock when nobody holds it, its lease has expired, or `owner`
   * holds it already (re-entrant: the lease is renewed). Throws LockHeld otherwise.
   */
  async acquireLock(input: AcquireLockInput): Promise<Lock> {
    const lock = newLock(input);
    // A lock seen held can be released between the failed write and the read; try again then.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...lockKey(input.endpointName), ...stored(lock) },
            ConditionExpression: 'attribute_not_exists(pk) OR #leaseExpiresAt < :now',
            ExpressionAttributeNames: { '#leaseExpiresAt': 'leaseExpiresAt' },
            ExpressionAttributeValues: { ':now': toEpochSeconds(input.now) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return lock;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        const holder = await this.holderAfterFailure(error, lockKey(input.endpointName));
        // Re-entrant: renew the lease in place, keeping what others wrote on the lock (an operator's abort request, the approval gate).
        if (holder?.owner === input.owner) {
          try {
            return await this.updateLock({ endpointName: input.endpointName, owner: input.owner, now: input.now, leaseSeconds: input.leaseSeconds });
          } catch (renewError) {
            if (!(renewError instanceof LockNotHeldError)) throw renewError;
            continue;
          }
        }
        if (holder) throw new LockHeldError(input.endpointName, holder.owner, holder.leaseExpiresAt);
      }
    }
    throw new Error(`The lock on endpoint ${input.endpointName} kept changing hands while ${input.owner} tried to acquire it`);
  }

  /**
   * Takes over a lock from `previousOwner` (an interrupted execution), whatever its lease:
   * conditional on the holder still being `previousOwner`, so two successors cannot both win.
   */
  async takeOverLock(input: AcquireLockInput & { previousOwner: string }): Promise<Lock> {
    const lock = newLock(input);
    const key = lockKey(input.endpointName);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, ...stored(lock) },
          ConditionExpression: '#owner = :previous',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':previous': input.previousOwner },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return lock;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const holder = await this.holderAfterFailure(error, key);
      if (holder) throw new LockHeldError(input.endpointName, holder.owner, holder.leaseExpiresAt);
      throw new LockNotHeldError(input.endpointName, input.previousOwner, undefined);
    }
  }

  /**
   * Changes fields of a lock `owner` holds: the planned release, the approval gate's token
   * (null removes it), the lease. LockNotHeld when another execution holds it.
   */
  async updateLock(input: {
    endpointName: string;
    owner: string;
    now: Date;
    leaseSeconds?: number;
    releaseId?: string;
    modelPackageArn?: string;
    approval?: Lock['approval'] | null;
  }): Promise<Lock> {
    const names: Record<string, string> = { '#owner': 'owner' };
    const values: Record<string, unknown> = { ':owner': input.owner };
    const sets: string[] = [];
    const removes: string[] = [];
    const set = (field: string, value: unknown) => {
      names[`#${field}`] = field;
      values[`:${field}`] = stored(value);
      sets.push(`#${field} = :${field}`);
    };
    if (input.leaseSeconds !== undefined) {
      assertLeaseSeconds(input.leaseSeconds);
      set('leaseExpiresAt', toEpochSeconds(input.now) + input.leaseSeconds);
    }
    if (input.releaseId !== undefined) set('releaseId', input.releaseId);
    if (input.modelPackageArn !== undefined) set('modelPackageArn', input.modelPackageArn);
    if (input.approval === null) {
      names['#approval'] = 'approval';
      removes.push('#approval');
    } else if (input.approval !== undefined) set('approval', input.approval);
    if (sets.length === 0 && removes.length === 0) throw new Error('updateLock: nothing to change');
    return this.conditionalLockUpdate(input.endpointName, input.owner, names, values, sets, removes);
  }

  /** Asks the release holding the lock to roll back at its next check. LockNotHeld when `owner` no longer holds it. */
  async requestAbort(input: { endpointName: string; owner: string; reason: string; requestedBy: string; now: Date }): Promise<Lock> {
    return this.conditionalLockUpdate(
      input.endpointName,
      input.owner,
      { '#owner': 'owner', '#abortRequested': 'abortRequested' },
      { ':owner': input.owner, ':abortRequested': { reason: input.reason, requestedBy: input.requestedBy, at: input.now.toISOString() } },
      ['#abortRequested = :abortRequested'],
      [],
    );
  }

  private async conditionalLockUpdate(
    endpointName: string,
    owner: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    sets: string[],
    removes: string[],
  ): Promise<Lock> {
    const key = lockKey(endpointName);
    const expression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: expression,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return parseLedgerItem(LockSchema, result.Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const holder = await this.holderAfterFailure(error, key);
      throw new LockNotHeldError(endpointName, owner, holder?.owner);
    }
  }

  /** Extends the lease of a lock that `owner` holds (also after its lease expired, as long as nobody took it over). */
  async renewLock(input: { endpointName: string; owner: string; leaseSeconds: number; now: Date }): Promise<Lock> {
    return this.updateLock(input);
  }

  /** Releases the lock `owner` holds. Releasing a lock that is gone is fine; one held by another owner is LockNotHeld. */
  async releaseLock(input: { endpointName: string; owner: string }): Promise<'released' | 'absent'> {
    const key = lockKey(input.endpointName);
    try {
      const result = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': input.owner },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return result.Attributes ? 'released' : 'absent';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const holder = await this.holderAfterFailure(error, key);
      if (!holder) return 'absent';
      throw new LockNotHeldError(input.endpointName, input.owner, holder.owner);
    }
  }

  async readLock(endpointName: string): Promise<Lock | undefined> {
    const item = await this.get(lockKey(endpointName));
    return item && parseLedgerItem(LockSchema, item);
  }

  /**
   * The lock as it was when a conditional write failed. DynamoDB returns it with the
   * error (ReturnValuesOnConditionCheckFailure); dynalite does not, so read it then.
   */
  private async holderAfterFailure(error: ConditionalCheckFailed, key: LedgerKey): Promise<Lock | undefined> {
    const item = error.Item ? unmarshall(error.Item) : await this.get(key);
    return item && parseLedgerItem(LockSchema, item);
  }

  // ---- releases -------------------------------------------------------------------------

  /**
   * Records a release. A retried call with the same record is a no-op that returns the
   * stored record; the key holds startedAt and the execution name, so pass the
   * execution's start time, not the time of the call.
   */
  async startRelease(record: ReleaseRecord): Promise<{ record: ReleaseRecord; created: boolean }> {
    const valid = ReleaseRecordSchema.parse(record);
    const key = releaseKey(valid);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, ...stored(valid) },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return { record: valid, created: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.release(valid);
      if (!existing) throw error; // cannot happen: the item existed a moment ago and records are never deleted
      if (existing.executionArn !== valid.executionArn || existing.releaseId !== valid.releaseId) {
        throw new ReleaseRecordConflictError(
          `Release record ${key.sk} on endpoint ${valid.endpointName} belongs to ${existing.executionArn} (release ${existing.releaseId}), not ${valid.executionArn}`,
        );
      }
      return { record: existing, created: false };
    }
  }

  /**
   * Records step `step.index` of a running release, replacing an earlier write of the same
   * step (its start, then its verdict). Steps are recorded in order: step n needs step n-1.
   */
  async recordStep(ref: ReleaseRef & { step: ReleaseStepRecord }): Promise<ReleaseRecord> {
    const step = ReleaseStepRecordSchema.parse(ref.step);
    const key = releaseKey(ref);
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          // The index is a validated integer; an index equal to the list's size appends.
          UpdateExpression: `SET #steps[${step.index}] = :step`,
          ConditionExpression: '#status = :running AND size(#steps) >= :index',
          ExpressionAttributeNames: { '#steps': 'steps', '#status': 'status' },
          ExpressionAttributeValues: { ':step': stored(step), ':running': 'running', ':index': step.index },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return parseLedgerItem(ReleaseRecordSchema, result.Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.mustRelease(ref);
      if (existing.status !== 'running') {
        if (isDeepStrictEqual(existing.steps[step.index], step)) return existing;
        throw new ReleaseAlreadyFinishedError(
          `Release ${key.sk} on endpoint ${ref.endpointName} already finished (${existing.status}); step ${step.index} cannot be recorded`,
          existing.status,
        );
      }
      throw new ReleaseRecordConflictError(
        `Release ${key.sk} on endpoint ${ref.endpointName} has ${existing.steps.length} step(s); step ${step.index} cannot be recorded before step ${existing.steps.length}`,
      );
    }
  }

  /**
   * Finishes a running release. Writing the same final status again is a no-op; a
   * different one after the end is ReleaseAlreadyFinished, so a finished record is never overwritten.
   */
  async finishRelease(ref: ReleaseRef & { status: FinalReleaseStatus; reason?: string; endedAt: string }): Promise<ReleaseRecord> {
    const key = releaseKey(ref);
    const values: Record<string, unknown> = { ':status': ref.status, ':endedAt': ref.endedAt, ':running': 'running' };
    if (ref.reason !== undefined) values[':reason'] = ref.reason;
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET #status = :status, #endedAt = :endedAt${ref.reason !== undefined ? ', #reason = :reason' : ''}`,
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: { '#status': 'status', '#endedAt': 'endedAt', ...(ref.reason !== undefined ? { '#reason': 'reason' } : {}) },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return parseLedgerItem(ReleaseRecordSchema, result.Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.mustRelease(ref);
      if (existing.status === ref.status) return existing;
      throw new ReleaseAlreadyFinishedError(
        `Release ${key.sk} on endpoint ${ref.endpointName} already finished as ${existing.status}${existing.reason ? ` (${existing.reason})` : ''}; it cannot become ${ref.status}`,
        existing.status,
      );
    }
  }

  /** Notes on a release record (finished or not) what another execution did about it: a recovery, or the answer at the gate. */
  async annotateRelease(ref: ReleaseRef & { recovery?: ReleaseRecord['recovery']; approval?: ReleaseRecord['approval'] }): Promise<ReleaseRecord> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const field of ['recovery', 'approval'] as const) {
      if (ref[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = stored(ref[field]);
      sets.push(`#${field} = :${field}`);
    }
    if (sets.length === 0) throw new Error('annotateRelease: nothing to note');
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: releaseKey(ref),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(sk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return parseLedgerItem(ReleaseRecordSchema, result.Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      throw new ReleaseRecordNotFoundError(`The ledger has no release ${releaseKey(ref).sk} on endpoint ${ref.endpointName}`);
    }
  }

  async release(ref: ReleaseRef): Promise<ReleaseRecord | undefined> {
    const item = await this.get(releaseKey(ref));
    return item && parseLedgerItem(ReleaseRecordSchema, item);
  }

  private async mustRelease(ref: ReleaseRef): Promise<ReleaseRecord> {
    const existing = await this.release(ref);
    if (!existing) {
      throw new ReleaseRecordNotFoundError(`The ledger has no release ${releaseKey(ref).sk} on endpoint ${ref.endpointName}`);
    }
    return existing;
  }

  /** The endpoint's releases, newest first, at most `limit`. */
  async history(endpointName: string, options: { limit: number }): Promise<ReleaseRecord[]> {
    const records: ReleaseRecord[] = [];
    for await (const item of this.releaseItems(endpointName, options.limit)) {
      records.push(parseLedgerItem(ReleaseRecordSchema, item));
      if (records.length >= options.limit) break;
    }
    return records;
  }

  /** The release an execution started, found by a Query over the endpoint's releases (filtered on the execution name). */
  async releaseByExecution(endpointName: string, executionName: string): Promise<ReleaseRecord | undefined> {
    for await (const item of this.releaseItems(endpointName, undefined, executionName)) {
      return parseLedgerItem(ReleaseRecordSchema, item);
    }
    return undefined;
  }

  private async *releaseItems(endpointName: string, limit: number | undefined, executionName?: string): AsyncGenerator<Record<string, unknown>> {
    let exclusiveStartKey: Record<string, unknown> | undefined;
    let seen = 0;
    do {
      const pageLimit = executionName === undefined && limit !== undefined ? Math.min(this.pageSize ?? limit, limit - seen) : this.pageSize;
      if (pageLimit !== undefined && pageLimit <= 0) return;
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': endpointPk(endpointName),
            ':prefix': RELEASE_SK_PREFIX,
            ...(executionName !== undefined ? { ':executionName': executionName } : {}),
          },
          ...(executionName !== undefined
            ? { FilterExpression: '#executionName = :executionName', ExpressionAttributeNames: { '#executionName': 'executionName' } }
            : {}),
          ScanIndexForward: false,
          ConsistentRead: true,
          ...(pageLimit !== undefined ? { Limit: pageLimit } : {}),
          ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        seen++;
        yield item;
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }

  // ---- last known good ------------------------------------------------------------------

  /** Records the last known good version, unless a newer one (later releasedAt) is recorded already. */
  async setLastKnownGood(record: LastKnownGood): Promise<'updated' | 'kept-newer'> {
    const valid = LastKnownGoodSchema.parse(record);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...lastKnownGoodKey(valid.endpointName), ...valid },
          ConditionExpression: 'attribute_not_exists(pk) OR #releasedAt <= :releasedAt',
          ExpressionAttributeNames: { '#releasedAt': 'releasedAt' },
          ExpressionAttributeValues: { ':releasedAt': valid.releasedAt },
        }),
      );
      return 'updated';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return 'kept-newer';
    }
  }

  async lastKnownGood(endpointName: string): Promise<LastKnownGood | undefined> {
    const item = await this.get(lastKnownGoodKey(endpointName));
    return item && parseLedgerItem(LastKnownGoodSchema, item);
  }

  private async get(key: LedgerKey): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return result.Item;
  }
}

let defaultLedger: Ledger | undefined;

let documentClient: DynamoDBDocumentClient | undefined;

/** The ledger of the table named by LEDGER_TABLE_NAME, on the container's shared client. */
export function ledger(): Ledger {
  const tableName = process.env.LEDGER_TABLE_NAME;
  if (!tableName) throw new Error('LEDGER_TABLE_NAME is not set');
  // The client is made here, not in clients.ts, so that only the functions that use the ledger bundle DynamoDB.
  if (defaultLedger?.tableName !== tableName)
    defaultLedger = new Ledger({ client: (documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}))), tableName });
  return defaultLedger;
}
