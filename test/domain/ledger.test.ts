import fc from 'fast-check';
import { CorruptLedgerItemError } from '../../lambdas/domain/errors';
import {
  LEDGER_KEY_SCHEMA,
  LockSchema,
  RELEASE_SK_PREFIX,
  endpointPk,
  lastKnownGoodKey,
  leaseExpired,
  lockAvailableTo,
  lockKey,
  newLock,
  parseLedgerItem,
  releaseKey,
  releaseSk,
} from '../../lambdas/domain/ledger';

const NOW = new Date('2025-06-01T10:00:00.000Z');
const nowSeconds = Math.floor(NOW.getTime() / 1000);

describe('ledger model', () => {
  it('It should key every item of an endpoint in one partition', () => {
    expect(LEDGER_KEY_SCHEMA).toEqual({ partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } });
    expect(endpointPk('fraud-scorer')).toBe('endpoint#fraud-scorer');
    expect(lockKey('fraud-scorer')).toEqual({ pk: 'endpoint#fraud-scorer', sk: 'lock' });
    expect(lastKnownGoodKey('fraud-scorer')).toEqual({ pk: 'endpoint#fraud-scorer', sk: 'last-known-good' });
    expect(releaseKey({ endpointName: 'fraud-scorer', startedAt: NOW.toISOString(), executionName: 'exec-1' })).toEqual({
      pk: 'endpoint#fraud-scorer',
      sk: 'release#2025-06-01T10:00:00.000Z#exec-1',
    });
    expect(() => endpointPk('')).toThrow(/endpoint name/);
  });

  it('It should refuse a release key from a timestamp that would not sort', () => {
    expect(() => releaseSk('2025-06-01 10:00', 'exec-1')).toThrow(/ISO timestamp/);
    expect(() => releaseSk('2025-06-01T12:00:00.000+02:00', 'exec-1')).toThrow(/ISO timestamp/);
    expect(() => releaseSk(NOW.toISOString(), '')).toThrow(/execution name/);
  });

  it('It should sort release keys as text in the order the releases started (property)', () => {
    const date = fc.date({ min: new Date('2000-01-01T00:00:00.000Z'), max: new Date('2999-12-31T23:59:59.999Z'), noInvalidDate: true });
    fc.assert(
      fc.property(date, date, fc.stringMatching(/^[a-zA-Z0-9_-]{1,80}$/), fc.stringMatching(/^[a-zA-Z0-9_-]{1,80}$/), (a, b, nameA, nameB) => {
        fc.pre(a.getTime() !== b.getTime());
        const keyA = releaseSk(a.toISOString(), nameA);
        const keyB = releaseSk(b.toISOString(), nameB);
        expect(keyA.startsWith(RELEASE_SK_PREFIX)).toBe(true);
        expect(keyA < keyB).toBe(a < b);
      }),
    );
  });

  it('It should count a lease as expired only once its expiry lies before now', () => {
    expect(leaseExpired({ leaseExpiresAt: nowSeconds - 1 }, nowSeconds)).toBe(true);
    expect(leaseExpired({ leaseExpiresAt: nowSeconds }, nowSeconds)).toBe(false);
    expect(leaseExpired({ leaseExpiresAt: nowSeconds + 1 }, nowSeconds)).toBe(false);
  });

  it('It should make a lock available to anybody when free or expired, and to its owner always', () => {
    const held = { owner: 'a', leaseExpiresAt: nowSeconds + 60 };
    expect(lockAvailableTo(undefined, 'b', nowSeconds)).toBe(true);
    expect(lockAvailableTo(held, 'a', nowSeconds)).toBe(true);
    expect(lockAvailableTo(held, 'b', nowSeconds)).toBe(false);
    expect(lockAvailableTo(held, 'b', nowSeconds + 61)).toBe(true);
  });

  it('It should build a lock whose lease ends leaseSeconds after now', () => {
    const lock = newLock({ endpointName: 'ep', owner: 'arn:exec', releaseId: 'r', modelPackageArn: 'arn:pkg', leaseSeconds: 900, now: NOW });
    expect(lock).toEqual({
      endpointName: 'ep',
      owner: 'arn:exec',
      action: 'release',
      releaseId: 'r',
      modelPackageArn: 'arn:pkg',
      acquiredAt: NOW.toISOString(),
      leaseExpiresAt: nowSeconds + 900,
    });
    expect(() => newLock({ endpointName: 'ep', owner: 'o', releaseId: 'r', modelPackageArn: 'p', leaseSeconds: 0, now: NOW })).toThrow(
      /at least 1 whole second/,
    );
  });

  it('It should name the item and every bad field of a corrupt item, and drop the key attributes of a good one', () => {
    const good = {
      pk: 'endpoint#ep',
      sk: 'lock',
      endpointName: 'ep',
      owner: 'o',
      releaseId: 'r',
      modelPackageArn: 'p',
      acquiredAt: NOW.toISOString(),
      leaseExpiresAt: 1,
    };
    expect(parseLedgerItem(LockSchema, good)).not.toHaveProperty('pk');
    let error: unknown;
    try {
      parseLedgerItem(LockSchema, { ...good, owner: undefined, acquiredAt: 'yesterday' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CorruptLedgerItemError);
    expect((error as CorruptLedgerItemError).name).toBe('CorruptLedgerItem');
    expect((error as CorruptLedgerItemError).message).toContain('endpoint#ep / lock is corrupt');
    expect((error as CorruptLedgerItemError).issues).toEqual([expect.stringMatching(/^owner: /), expect.stringMatching(/^acquiredAt: /)]);
  });
});
