import { InputError } from '@backstage/errors';
import { describeReceived } from './nameRule';

/**
 * A rule for a whole-number setting. The same bounds are the template form's `minimum` and
 * `maximum`, so the form and the actions accept the same values.
 *
 * @public
 */
export type RangeRule = {
  /** What the value is, for messages: "allocated storage (GiB)". */
  what: string;
  /** The accepted values in words, shown after every error. */
  accepted: string;
  minimum: number;
  maximum: number;
  /** The first problem with the value, or undefined when it is accepted. */
  check(value: number): string | undefined;
};

function createRangeRule(spec: {
  what: string;
  minimum: number;
  maximum: number;
  accepted?: string;
}): RangeRule {
  const accepted =
    spec.accepted ?? `a whole number from ${spec.minimum} to ${spec.maximum}`;
  return {
    ...spec,
    accepted,
    check: value => {
      if (!Number.isInteger(value)) {
        return 'it must be a whole number';
      }
      if (value < spec.minimum) {
        return `it is below the minimum of ${spec.minimum}`;
      }
      if (value > spec.maximum) {
        return `it is above the maximum of ${spec.maximum}`;
      }
      return undefined;
    },
  };
}

/**
 * Every whole-number rule, by the setting it checks.
 *
 * @public
 */
export const rangeRules = {
  /** gp3 storage of an RDS PostgreSQL instance. */
  rdsAllocatedStorageGiB: createRangeRule({
    what: 'allocated storage (GiB)',
    minimum: 20,
    maximum: 65536,
  }),
  /** Days of automated backups; 0 (backups off) is not offered. */
  rdsBackupRetentionDays: createRangeRule({
    what: 'backup retention (days)',
    minimum: 1,
    maximum: 35,
  }),
} satisfies Record<string, RangeRule>;

/**
 * Least backup retention of a production instance, in days (the create form's prod minimum).
 *
 * @public
 */
export const PRODUCTION_MIN_BACKUP_RETENTION_DAYS = 7;

/**
 * Why RDS would refuse to change allocated storage from `current` to `next` GiB, or undefined:
 * storage never shrinks, and a change grows it by at least 10 %.
 *
 * @public
 */
export function rdsStorageChangeProblem(
  current: number,
  next: number,
): string | undefined {
  if (next < current) {
    return `RDS cannot shrink storage (today ${current} GiB)`;
  }
  // Integer arithmetic: 100 * 1.1 is 110.00000000000001 in floating point.
  const least = Math.ceil((current * 11) / 10);
  if (next > current && next < least) {
    return `RDS grows storage by at least 10 % (today ${current} GiB, so at least ${least} GiB)`;
  }
  return undefined;
}

/**
 * Checks `value` against `rule` and returns it; throws an InputError naming the field, the value
 * received and what is accepted.
 *
 * @public
 */
export function validateRange(
  rule: RangeRule,
  field: string,
  value: unknown,
): number {
  const problem =
    typeof value !== 'number' ? 'it must be a number' : rule.check(value);
  if (problem) {
    throw new InputError(
      `Invalid ${field} (${rule.what}): received ${
        typeof value === 'number' ? value : describeReceived(value)
      }, but ${problem}. Accepted: ${rule.accepted}.`,
    );
  }
  return value as number;
}
