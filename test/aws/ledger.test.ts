import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Ledger } from '../../lambdas/aws/ledger';
import { CorruptLedgerItemError, LockHeldError, LockNotHeldError, ReleaseAlreadyFinishedError, ReleaseRecordConflictError } from '../../lambdas/domain/errors';
import { type LastKnownGood, type ReleaseRecord, lockKey, releaseKey } from '../../lambdas/domain/ledger';
import { type LocalDynamo, createLedgerTable, startDynalite } from './dynalite';

const ENDPOINT = 'fraud-scorer';
const owner = (n: number | string) => `arn:aws:states:eu-west-1:123456789012:execution:release-manager:exec-${n}`;
const T0 = new Date('2025-06-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const epoch = (date: Date) => Math.floor(date.getTime() / 1000);
const packageArn = (version: number) => `arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/${version}`;

function lockInput(n: number | string, now = T0, leaseSeconds = 600) {
  return { endpointName: ENDPOINT, owner: owner(n), releaseId: `release-${n}`, modelPackageArn: packageArn(7), leaseSeconds, now };
}

function releaseRecord(n: number, overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    endpointName: ENDPOINT,
    executionArn: owner(n),
    executionName: `exec-${n}`,
    releaseId: `release-${n}`,
    modelPackageArn: packageArn(n),
    version: n,
    requestedBy: 'event',
    policy: { strategy: { type: 'canary', steps: [{ weightPercent: 10, bakeSeconds: 600 }] } },
    status: 'running',
    steps: [],
    startedAt: at(n * 60).toISOString(),
    ...overrides,
  };
}

describe('Ledger on dynalite', () => {
  let dynamo: LocalDynamo;
  let ledger: Ledger;
  let tableName: string;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });

  afterAll(async () => {
    await dynamo.close();
  });

  beforeEach(async () => {
    tableName = await createLedgerTable(dynamo);
    ledger = new Ledger({ client: dynamo.client, tableName });
  });

  describe('lock', () => {
    it('It should acquire the lock when nobody holds it', async () => {
      const lock = await ledger.acquireLock(lockInput(1));
      expect(lock).toEqual({
        endpointName: ENDPOINT,
        owner: owner(1),
        action: 'release',
        releaseId: 'release-1',
        modelPackageArn: packageArn(7),
        acquiredAt: T0.toISOString(),
        leaseExpiresAt: epoch(T0) + 600,
      });
      expect(await ledger.readLock(ENDPOINT)).toEqual(lock);
      expect(await ledger.readLock('another-endpoint')).toBeUndefined();
    });

    it('It should refuse a second owner with LockHeld naming the holder and the lease expiry', async () => {
      await ledger.acquireLock(lockInput(1));
      const error = await ledger.acquireLock(lockInput(2, at(60))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockHeldError);
      const held = error as LockHeldError;
      expect(held.name).toBe('LockHeld');
      expect(held.endpointName).toBe(ENDPOINT);
      expect(held.owner).toBe(owner(1));
      expect(held.leaseExpiresAt).toBe(epoch(T0) + 600);
      expect(held.message).toContain(owner(1));
      expect(held.message).toContain(ENDPOINT);
      expect(held.message).toContain(at(600).toISOString());
      expect((await ledger.readLock(ENDPOINT))?.owner).toBe(owner(1));
    });

    it('It should keep an abort request and an approval gate when the owner acquires again (a retried task)', async () => {
      await ledger.acquireLock(lockInput(1));
      await ledger.requestAbort({ endpointName: ENDPOINT, owner: owner(1), reason: 'stop', requestedBy: 'alice', now: at(10) });
      await ledger.updateLock({
        endpointName: ENDPOINT,
        owner: owner(1),
        now: at(20),
        approval: { taskToken: 't', releaseId: 'release-1', requestedAt: at(20).toISOString(), expiresAt: at(80).toISOString() },
      });
      const again = await ledger.acquireLock(lockInput(1, at(30)));
      expect(again.abortRequested).toMatchObject({ reason: 'stop', requestedBy: 'alice' });
      expect(again.approval?.taskToken).toBe('t');
      expect(again.leaseExpiresAt).toBe(epoch(T0) + 30 + 600);
    });

    it('It should let the same owner acquire again and renew the lease', async () => {
      await ledger.acquireLock(lockInput(1));
      const again = await ledger.acquireLock(lockInput(1, at(300)));
      expect(again.leaseExpiresAt).toBe(epoch(T0) + 900);
      expect(await ledger.readLock(ENDPOINT)).toEqual(again);
    });

    it('It should let another owner take over a lock whose lease expired', async () => {
      await ledger.acquireLock(lockInput(1, T0, 60));
      await expect(ledger.acquireLock(lockInput(2, at(60)))).rejects.toBeInstanceOf(LockHeldError); // lease ends at T0+60: not yet past
      const taken = await ledger.acquireLock(lockInput(2, at(61)));
      expect(taken.owner).toBe(owner(2));
      expect((await ledger.readLock(ENDPOINT))?.owner).toBe(owner(2));
      await expect(ledger.renewLock({ endpointName: ENDPOINT, owner: owner(1), leaseSeconds: 60, now: at(62) })).rejects.toBeInstanceOf(LockNotHeldError);
    });

    it('It should give the lock to exactly one of 20 concurrent owners', async () => {
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => ledger.acquireLock(lockInput(i))));
      const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<Ledger['acquireLock']>>> => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(19);
      const winner = won[0]!.value.owner;
      for (const loss of lost) {
        expect(loss.reason).toBeInstanceOf(LockHeldError);
        expect((loss.reason as LockHeldError).owner).toBe(winner);
      }
      expect((await ledger.readLock(ENDPOINT))?.owner).toBe(winner);
    });

    it('It should refuse a release by another owner with LockNotHeld and keep the lock', async () => {
      await ledger.acquireLock(lockInput(1));
      const error = await ledger.releaseLock({ endpointName: ENDPOINT, owner: owner(2) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotHeldError);
      expect((error as LockNotHeldError).holder).toBe(owner(1));
      expect((error as LockNotHeldError).message).toContain(`${owner(1)} holds it`);
      expect((await ledger.readLock(ENDPOINT))?.owner).toBe(owner(1));
    });

    it('It should release the lock, and accept a second release as a no-op', async () => {
      await ledger.acquireLock(lockInput(1));
      expect(await ledger.releaseLock({ endpointName: ENDPOINT, owner: owner(1) })).toBe('released');
      expect(await ledger.readLock(ENDPOINT)).toBeUndefined();
      expect(await ledger.releaseLock({ endpointName: ENDPOINT, owner: owner(1) })).toBe('absent');
      await expect(ledger.acquireLock(lockInput(2))).resolves.toMatchObject({ owner: owner(2) });
    });

    it('It should renew the lease for the owner and refuse a renewal by anybody else', async () => {
      await ledger.acquireLock(lockInput(1));
      const renewed = await ledger.renewLock({ endpointName: ENDPOINT, owner: owner(1), leaseSeconds: 600, now: at(500) });
      expect(renewed.leaseExpiresAt).toBe(epoch(T0) + 1100);
      expect(renewed.acquiredAt).toBe(T0.toISOString());

      const error = await ledger.renewLock({ endpointName: ENDPOINT, owner: owner(2), leaseSeconds: 600, now: at(500) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotHeldError);
      expect((error as LockNotHeldError).holder).toBe(owner(1));
      expect((await ledger.readLock(ENDPOINT))?.leaseExpiresAt).toBe(epoch(T0) + 1100);

      await ledger.releaseLock({ endpointName: ENDPOINT, owner: owner(1) });
      const nobody = await ledger.renewLock({ endpointName: ENDPOINT, owner: owner(1), leaseSeconds: 600, now: at(600) }).catch((e: unknown) => e);
      expect(nobody).toBeInstanceOf(LockNotHeldError);
      expect((nobody as LockNotHeldError).message).toContain('nobody holds it');
      expect(await ledger.readLock(ENDPOINT)).toBeUndefined();
    });
  });

  describe('taking over, updating and aborting the lock', () => {
    const approval = { taskToken: 'token-1', releaseId: 'release-1', requestedAt: at(100).toISOString(), expiresAt: at(3700).toISOString() };

    it('It should take over the lock of a named previous owner whatever its lease, as a fresh lock', async () => {
      await ledger.acquireLock(lockInput(1, T0, 3600));
      await ledger.updateLock({ endpointName: ENDPOINT, owner: owner(1), now: at(100), approval });
      await ledger.requestAbort({ endpointName: ENDPOINT, owner: owner(1), reason: 'bad canary', requestedBy: 'alice', now: at(110) });

      const taken = await ledger.takeOverLock({ ...lockInput(2, at(120), 600), action: 'recover', previousOwner: owner(1) });

      expect(taken).toEqual({
        endpointName: ENDPOINT,
        owner: owner(2),
        action: 'recover',
        releaseId: 'release-2',
        modelPackageArn: packageArn(7),
        acquiredAt: at(120).toISOString(),
        leaseExpiresAt: epoch(at(120)) + 600,
      });
      // The interrupted holder's gate and abort request do not carry over.
      expect(await ledger.readLock(ENDPOINT)).toEqual(taken);
    });

    it('It should refuse a take-over when someone else holds the lock, naming the holder', async () => {
      await ledger.acquireLock(lockInput(3));
      const error = await ledger.takeOverLock({ ...lockInput(2, at(60)), previousOwner: owner(1) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockHeldError);
      expect((error as LockHeldError).owner).toBe(owner(3));
      expect((await ledger.readLock(ENDPOINT))?.owner).toBe(owner(3));
    });

    it('It should refuse a take-over of a lock that is gone with LockNotHeld', async () => {
      const error = await ledger.takeOverLock({ ...lockInput(2), previousOwner: owner(1) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotHeldError);
      expect((error as LockNotHeldError).message).toContain('nobody holds it');
      expect(await ledger.readLock(ENDPOINT)).toBeUndefined();
    });

    it('It should let exactly one of 10 concurrent successors take over', async () => {
      await ledger.acquireLock(lockInput(1));
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => ledger.takeOverLock({ ...lockInput(i + 10, at(5)), previousOwner: owner(1) })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<Ledger['takeOverLock']>>>).value.owner;
      for (const loss of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
        expect(loss.reason).toBeInstanceOf(LockHeldError);
        expect((loss.reason as LockHeldError).owner).toBe(winner);
      }
      expect((await ledger.readLock(ENDPOINT))?.owner).toBe(winner);
    });

    it('It should update the planned release and the lease of the holder, keeping the rest', async () => {
      const lock = await ledger.acquireLock({ endpointName: ENDPOINT, owner: owner(1), action: 'rollback', leaseSeconds: 60, now: T0 });
      expect(lock.releaseId).toBeUndefined();

      const updated = await ledger.updateLock({
        endpointName: ENDPOINT,
        owner: owner(1),
        now: at(120), // after the lease: still ours, nobody took it
        leaseSeconds: 3600,
        releaseId: 'release-9',
        modelPackageArn: packageArn(9),
      });

      expect(updated).toEqual({ ...lock, releaseId: 'release-9', modelPackageArn: packageArn(9), leaseExpiresAt: epoch(at(120)) + 3600 });
      expect(await ledger.readLock(ENDPOINT)).toEqual(updated);
    });

    it('It should store the approval gate on the lock and remove it with null', async () => {
      await ledger.acquireLock(lockInput(1));
      const waiting = await ledger.updateLock({ endpointName: ENDPOINT, owner: owner(1), now: at(100), approval, leaseSeconds: 7200 });
      expect(waiting.approval).toEqual(approval);
      expect(waiting.leaseExpiresAt).toBe(epoch(at(100)) + 7200);

      const answered = await ledger.updateLock({ endpointName: ENDPOINT, owner: owner(1), now: at(200), approval: null });

      expect(answered).not.toHaveProperty('approval');
      expect(answered.leaseExpiresAt).toBe(epoch(at(100)) + 7200);
      const stored = await ledger.readLock(ENDPOINT);
      expect(stored).toEqual(answered);
      expect(stored).not.toHaveProperty('approval');
      // Removing an absent gate again is harmless.
      await expect(ledger.updateLock({ endpointName: ENDPOINT, owner: owner(1), now: at(300), approval: null })).resolves.toEqual(answered);
    });

    it('It should refuse an update by anybody but the holder, and an update of a lock that is gone', async () => {
      await ledger.acquireLock(lockInput(1));
      const error = await ledger.updateLock({ endpointName: ENDPOINT, owner: owner(2), now: at(10), releaseId: 'mine' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotHeldError);
      expect((error as LockNotHeldError).holder).toBe(owner(1));
      expect((await ledger.readLock(ENDPOINT))?.releaseId).toBe('release-1');

      await ledger.releaseLock({ endpointName: ENDPOINT, owner: owner(1) });
      const gone = await ledger.updateLock({ endpointName: ENDPOINT, owner: owner(1), now: at(20), leaseSeconds: 60 }).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(LockNotHeldError);
      expect((gone as LockNotHeldError).holder).toBeUndefined();
      // A failed conditional update must not create a half lock.
      expect(await ledger.readLock(ENDPOINT)).toBeUndefined();
    });

    it('It should refuse an update that changes nothing', async () => {
      await ledger.acquireLock(lockInput(1));
      await expect(ledger.updateLock({ endpointName: ENDPOINT, owner: owner(1), now: at(10) })).rejects.toThrow('updateLock: nothing to change');
    });

    it("It should note an operator's abort request on the holder's lock", async () => {
      const lock = await ledger.acquireLock(lockInput(1));
      const aborted = await ledger.requestAbort({ endpointName: ENDPOINT, owner: owner(1), reason: 'p99 latency doubled', requestedBy: 'alice', now: at(30) });
      expect(aborted).toEqual({ ...lock, abortRequested: { reason: 'p99 latency doubled', requestedBy: 'alice', at: at(30).toISOString() } });
      expect(await ledger.readLock(ENDPOINT)).toEqual(aborted);
      // The holder's own lease renewal keeps the request.
      expect((await ledger.renewLock({ endpointName: ENDPOINT, owner: owner(1), leaseSeconds: 600, now: at(60) })).abortRequested).toEqual(
        aborted.abortRequested,
      );
    });

    it('It should refuse an abort request once the lock belongs to someone else', async () => {
      await ledger.acquireLock(lockInput(2));
      const error = await ledger
        .requestAbort({ endpointName: ENDPOINT, owner: owner(1), reason: 'r', requestedBy: 'alice', now: at(30) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotHeldError);
      expect((error as LockNotHeldError).holder).toBe(owner(2));
      expect(await ledger.readLock(ENDPOINT)).not.toHaveProperty('abortRequested');
    });
  });

  describe('annotating releases', () => {
    it('It should note a recovery on a finished release and the gate answer on a running one, leaving the rest', async () => {
      const interrupted = releaseRecord(1);
      await ledger.startRelease(interrupted);
      await ledger.finishRelease({ ...interrupted, status: 'failed', reason: 'interrupted', endedAt: at(900).toISOString() });
      const recovery = { by: owner(2), at: at(1000).toISOString(), ownerStatus: 'ABORTED', action: 'rolled-back' as const };

      const noted = await ledger.annotateRelease({ ...interrupted, recovery });

      expect(noted).toEqual({ ...interrupted, status: 'failed', reason: 'interrupted', endedAt: at(900).toISOString(), recovery });
      expect(await ledger.release(interrupted)).toEqual(noted);

      const waiting = releaseRecord(3);
      await ledger.startRelease(waiting);
      const approval = { decision: 'approved' as const, by: 'carol', at: at(2000).toISOString(), note: 'go' };
      const approved = await ledger.annotateRelease({ ...waiting, approval });
      expect(approved).toEqual({ ...waiting, approval });
      // Both notes can be written together, and a second note replaces the first.
      const both = await ledger.annotateRelease({ ...waiting, approval: { ...approval, decision: 'rejected' }, recovery });
      expect(both).toMatchObject({ status: 'running', approval: { decision: 'rejected' }, recovery });
    });

    it('It should refuse to note on a release that is not in the ledger, without creating it', async () => {
      const missing = releaseRecord(5);
      const error = await ledger
        .annotateRelease({ ...missing, approval: { decision: 'rejected', by: 'carol', at: at(10).toISOString() } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ReleaseRecordNotFound', message: expect.stringContaining(`release#${missing.startedAt}#exec-5`) });
      expect(await ledger.release(missing)).toBeUndefined();
    });

    it('It should refuse a note that says nothing', async () => {
      await ledger.startRelease(releaseRecord(1));
      await expect(ledger.annotateRelease({ ...releaseRecord(1) })).rejects.toThrow('annotateRelease: nothing to note');
    });
  });

  describe('releases', () => {
    const countReleases = async () =>
      (
        await dynamo.client.send(
          new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `endpoint#${ENDPOINT}` } }),
        )
      ).Items?.length;

    it('It should record a release once when startRelease is retried', async () => {
      const record = releaseRecord(1);
      const first = await ledger.startRelease(record);
      const second = await ledger.startRelease(record);
      expect(first).toEqual({ record, created: true });
      expect(second).toEqual({ record, created: false });
      expect(await countReleases()).toBe(1);
      expect(await ledger.release(record)).toEqual(record);
    });

    it('It should return the stored record on a retry after the release moved on', async () => {
      const record = releaseRecord(1);
      await ledger.startRelease(record);
      const step = { index: 0, weightPercent: 10, startedAt: at(70).toISOString() };
      await ledger.recordStep({ ...record, step });
      const retried = await ledger.startRelease(record);
      expect(retried.created).toBe(false);
      expect(retried.record.steps).toEqual([step]);
    });

    it('It should refuse a record whose key belongs to another execution', async () => {
      await ledger.startRelease(releaseRecord(1));
      await expect(ledger.startRelease(releaseRecord(1, { executionArn: owner('other') }))).rejects.toBeInstanceOf(ReleaseRecordConflictError);
    });

    it('It should record steps in order, replace a step written again, and refuse a step out of order', async () => {
      const record = releaseRecord(1);
      await ledger.startRelease(record);
      const started = { index: 0, weightPercent: 10, startedAt: at(70).toISOString() };
      await ledger.recordStep({ ...record, step: started });
      const judged = { ...started, endedAt: at(670).toISOString(), verdict: { status: 'healthy' as const, reason: 'all 2 alarms OK' } };
      const afterVerdict = await ledger.recordStep({ ...record, step: judged });
      expect(afterVerdict.steps).toEqual([judged]);
      const second = { index: 1, weightPercent: 100, startedAt: at(680).toISOString() };
      expect((await ledger.recordStep({ ...record, step: second })).steps).toEqual([judged, second]);

      await expect(ledger.recordStep({ ...record, step: { index: 3, weightPercent: 100, startedAt: at(700).toISOString() } })).rejects.toThrow(
        /has 2 step\(s\); step 3 cannot be recorded before step 2/,
      );
      expect((await ledger.release(record))?.steps).toEqual([judged, second]);
    });

    it('It should accept the same final status twice and refuse a different one after the end', async () => {
      const record = releaseRecord(1);
      await ledger.startRelease(record);
      const finish = { ...record, status: 'rolled-back' as const, reason: 'alarm fraud-5xx is in ALARM', endedAt: at(900).toISOString() };
      const first = await ledger.finishRelease(finish);
      expect(first).toMatchObject({ status: 'rolled-back', reason: 'alarm fraud-5xx is in ALARM', endedAt: at(900).toISOString() });
      await expect(ledger.finishRelease({ ...finish, endedAt: at(960).toISOString() })).resolves.toEqual(first);

      const error = await ledger.finishRelease({ ...record, status: 'succeeded', endedAt: at(1000).toISOString() }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReleaseAlreadyFinishedError);
      expect((error as ReleaseAlreadyFinishedError).name).toBe('ReleaseAlreadyFinished');
      expect((error as ReleaseAlreadyFinishedError).message).toMatch(
        /already finished as rolled-back \(alarm fraud-5xx is in ALARM\); it cannot become succeeded/,
      );
      expect(await ledger.release(record)).toEqual(first);

      await expect(ledger.recordStep({ ...record, step: { index: 0, weightPercent: 10, startedAt: at(70).toISOString() } })).rejects.toBeInstanceOf(
        ReleaseAlreadyFinishedError,
      );
    });

    it('It should report a release missing from the ledger by name', async () => {
      await expect(ledger.finishRelease({ ...releaseRecord(9), status: 'succeeded', endedAt: at(1000).toISOString() })).rejects.toMatchObject({
        name: 'ReleaseRecordNotFound',
      });
    });

    it('It should list the history newest first, limited, across several pages', async () => {
      const paged = new Ledger({ client: dynamo.client, tableName, pageSize: 2 });
      for (let n = 1; n <= 7; n++) await ledger.startRelease(releaseRecord(n));
      await ledger.acquireLock(lockInput(1));
      await ledger.setLastKnownGood(lastKnownGood(3));

      const send = jest.spyOn(dynamo.client, 'send');
      try {
        const five = await paged.history(ENDPOINT, { limit: 5 });
        expect(five.map((r) => r.version)).toEqual([7, 6, 5, 4, 3]);
        expect(send).toHaveBeenCalledTimes(3); // pages of 2, 2 and 1
        send.mockClear();
        expect((await paged.history(ENDPOINT, { limit: 50 })).map((r) => r.version)).toEqual([7, 6, 5, 4, 3, 2, 1]);
        expect(send.mock.calls.length).toBeGreaterThanOrEqual(4);
      } finally {
        send.mockRestore();
      }
      expect((await ledger.history(ENDPOINT, { limit: 2 })).map((r) => r.version)).toEqual([7, 6]);
      expect(await ledger.history('quiet-endpoint', { limit: 5 })).toEqual([]);
    });

    it('It should find a release by its execution name', async () => {
      const paged = new Ledger({ client: dynamo.client, tableName, pageSize: 2 });
      for (let n = 1; n <= 5; n++) await ledger.startRelease(releaseRecord(n));
      expect(await paged.releaseByExecution(ENDPOINT, 'exec-2')).toEqual(releaseRecord(2));
      expect(await paged.releaseByExecution(ENDPOINT, 'exec-404')).toBeUndefined();
    });
  });

  describe('last known good', () => {
    it('It should store and read back the last known good version, and keep a newer one', async () => {
      expect(await ledger.lastKnownGood(ENDPOINT)).toBeUndefined();
      expect(await ledger.setLastKnownGood(lastKnownGood(3))).toBe('updated');
      expect(await ledger.lastKnownGood(ENDPOINT)).toEqual(lastKnownGood(3));
      expect(await ledger.setLastKnownGood(lastKnownGood(4))).toBe('updated');
      expect(await ledger.setLastKnownGood(lastKnownGood(2))).toBe('kept-newer');
      expect(await ledger.lastKnownGood(ENDPOINT)).toEqual(lastKnownGood(4));
      expect(await ledger.setLastKnownGood(lastKnownGood(4))).toBe('updated'); // a retry
    });
  });

  describe('corrupt items', () => {
    it('It should report a corrupt lock naming the field', async () => {
      await dynamo.client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...lockKey(ENDPOINT),
            endpointName: ENDPOINT,
            owner: owner(1),
            releaseId: 'r',
            modelPackageArn: packageArn(1),
            acquiredAt: T0.toISOString(),
            leaseExpiresAt: 'soon',
          },
        }),
      );
      const error = await ledger.readLock(ENDPOINT).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptLedgerItemError);
      expect((error as CorruptLedgerItemError).message).toContain(`endpoint#${ENDPOINT} / lock is corrupt`);
      expect((error as CorruptLedgerItemError).issues).toEqual([expect.stringMatching(/^leaseExpiresAt: /)]);
      // acquireLock reports it too rather than guessing who holds the lock
      await expect(ledger.acquireLock(lockInput(2))).rejects.toBeInstanceOf(CorruptLedgerItemError);
    });

    it('It should report a corrupt release record naming the nested field', async () => {
      const record = releaseRecord(1);
      await dynamo.client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...releaseKey(record), ...record, steps: [{ index: 0, weightPercent: 'ten', startedAt: at(70).toISOString() }] },
        }),
      );
      await expect(ledger.history(ENDPOINT, { limit: 5 })).rejects.toThrow(/steps\[0\]\.weightPercent: /);
    });
  });
});

function lastKnownGood(version: number): LastKnownGood {
  return {
    endpointName: ENDPOINT,
    version,
    modelPackageArn: packageArn(version),
    variantName: `fraud-scorer-v${version}`,
    endpointConfigName: `fraud-scorer-v${version}-promoted`,
    releasedAt: at(version * 3600).toISOString(),
    executionArn: owner(version),
  };
}

describe('Ledger against a DynamoDB that returns the item with the failed condition', () => {
  it('It should name the holder from ReturnValuesOnConditionCheckFailure without a second read', async () => {
    const holder = {
      ...lockKey(ENDPOINT),
      ...lockInput(1),
      now: undefined,
      leaseSeconds: undefined,
      acquiredAt: T0.toISOString(),
      leaseExpiresAt: epoch(T0) + 600,
    };
    const send = jest.fn().mockRejectedValue(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall(holder, { removeUndefinedValues: true }),
      }),
    );
    const ledger = new Ledger({ client: { send } as unknown as DynamoDBDocumentClient, tableName: 'ledger' });
    await expect(ledger.acquireLock(lockInput(2))).rejects.toMatchObject({ name: 'LockHeld', owner: owner(1), leaseExpiresAt: epoch(T0) + 600 });
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0][0].input).toMatchObject({ ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
  });
});
