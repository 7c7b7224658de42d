import {
  rangeRules,
  rdsStorageChangeProblem,
  validateRange,
} from './rangeRules';

describe('rangeRules', () => {
  it('accept whole numbers within their bounds only', () => {
    const storage = rangeRules.rdsAllocatedStorageGiB;
    expect([20, 100, 65536].map(v => storage.check(v))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(storage.check(19)).toMatch(/below the minimum of 20/);
    expect(storage.check(65537)).toMatch(/above the maximum of 65536/);
    expect(storage.check(20.5)).toMatch(/whole number/);
    const retention = rangeRules.rdsBackupRetentionDays;
    expect(retention.check(0)).toMatch(/below the minimum of 1/);
    expect(retention.check(36)).toMatch(/above the maximum of 35/);
    expect(retention.check(7)).toBeUndefined();
  });

  it('name the field, the value received and what is accepted', () => {
    expect(() =>
      validateRange(
        rangeRules.rdsBackupRetentionDays,
        'backupRetentionDays',
        0,
      ),
    ).toThrow(
      'Invalid backupRetentionDays (backup retention (days)): received 0, but it is below the minimum of 1. Accepted: a whole number from 1 to 35.',
    );
    expect(() =>
      validateRange(rangeRules.rdsAllocatedStorageGiB, 'storage', '50'),
    ).toThrow(/received "50", but it must be a number/);
    expect(
      validateRange(rangeRules.rdsAllocatedStorageGiB, 'storage', 50),
    ).toBe(50);
  });

  it('refuse storage changes RDS refuses: shrinking, or growing by less than 10 %', () => {
    expect(rdsStorageChangeProblem(100, 90)).toMatch(/cannot shrink/);
    expect(rdsStorageChangeProblem(100, 105)).toMatch(/at least 110 GiB/);
    expect(rdsStorageChangeProblem(100, 110)).toBeUndefined();
    expect(rdsStorageChangeProblem(100, 100)).toBeUndefined();
  });
});
