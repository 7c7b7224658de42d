import { InputError } from '@backstage/errors';

/**
 * One validation rule (a provider's naming rule, an ARN shape, a Kubernetes quantity …). The same
 * rule validates action inputs and, through `pattern`/`minLength`/`maxLength`, the template's form
 * fields.
 *
 * @public
 */
export type NameRule = {
  /** What the value is, for messages: "RDS instance identifier". */
  what: string;
  /** The accepted values in words, shown after every error and as form help text. */
  accepted: string;
  /** A JSON-schema `pattern` mirroring the rule as far as a regular expression can. */
  pattern: string;
  minLength: number;
  maxLength: number;
  /** The first problem with the value, or undefined when it is accepted. */
  check(value: string): string | undefined;
};

/** The first string among the problems, or undefined. */
export function firstProblem(
  ...problems: Array<string | false | undefined>
): string | undefined {
  return problems.find((p): p is string => typeof p === 'string');
}

function lengthProblem(value: string, min: number, max: number) {
  if (value.length < min) {
    return `it is ${value.length} characters long, the minimum is ${min}`;
  }
  if (value.length > max) {
    return `it is ${value.length} characters long, the maximum is ${max}`;
  }
  return undefined;
}

/**
 * Builds a rule whose check is the length, the specific `problems` (for precise messages), then the
 * pattern itself: whatever the form's pattern refuses, the check refuses too.
 */
export function createRule(spec: {
  what: string;
  accepted: string;
  pattern: string;
  minLength: number;
  maxLength: number;
  /** Specific problems, most telling first; `false`/undefined when absent. */
  problems?: (value: string) => Array<string | false | undefined>;
  /** The message when only the pattern refuses the value. */
  mismatch: string;
}): NameRule {
  // JSON-schema patterns are matched in unicode mode by the form's validator.
  const regex = new RegExp(spec.pattern, 'u');
  return {
    what: spec.what,
    accepted: spec.accepted,
    pattern: spec.pattern,
    minLength: spec.minLength,
    maxLength: spec.maxLength,
    check: value =>
      firstProblem(
        lengthProblem(value, spec.minLength, spec.maxLength),
        ...(spec.problems?.(value) ?? []),
        !regex.test(value) && spec.mismatch,
      ),
  };
}

/**
 * Quotes a received value for an error message: JSON-escaped and cut, so it cannot forge log lines.
 *
 * @public
 */
export function describeReceived(value: unknown): string {
  if (typeof value !== 'string') {
    return value === undefined ? 'nothing' : `a ${typeof value}`;
  }
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown);
}

/**
 * Checks `value` against `rule` and returns it; throws an InputError naming the field, the value
 * received and what is accepted.
 *
 * @public
 */
export function validateName(
  rule: NameRule,
  field: string,
  value: unknown,
): string {
  const problem =
    typeof value !== 'string' ? 'it must be a string' : rule.check(value);
  if (problem) {
    throw new InputError(
      `Invalid ${field} (${rule.what}): received ${describeReceived(
        value,
      )}, but ${problem}. Accepted: ${rule.accepted}.`,
    );
  }
  return value as string;
}
