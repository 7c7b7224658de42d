import { NameRule, createRule } from './nameRule';

const RESERVED_DATABASES = ['postgres', 'template0', 'template1', 'rdsadmin'];
const RESERVED_ROLES = [
  'postgres',
  'rdsadmin',
  'public',
  'none',
  'current_user',
  'session_user',
  'current_role',
];

function postgresIdentifier(what: string, reserved: string[]): NameRule {
  return createRule({
    what,
    accepted: `1 to 63 lowercase letters, digits and underscores, starting with a letter, not starting with pg_ or rds_, and not one of ${reserved.join(
      ', ',
    )}`,
    pattern: `^(?!pg_|rds_)(?!(?:${reserved.join('|')})$)[a-z][a-z0-9_]{0,62}$`,
    minLength: 1,
    maxLength: 63,
    problems: v => [
      !/^[a-z]/.test(v) && 'it must start with a lowercase letter',
      /[^a-z0-9_]/.test(v) &&
        'it may only contain lowercase letters, digits and underscores',
      /^(pg_|rds_)/.test(v) &&
        'the prefixes pg_ and rds_ are reserved by PostgreSQL and RDS',
      reserved.includes(v) && `"${v}" is reserved`,
    ],
    mismatch: `it is not a valid ${what}`,
  });
}

/** A database of the PostgreSQL server; quoting tricks and reserved names are refused. */
export const postgresDatabaseName = postgresIdentifier(
  'PostgreSQL database name',
  RESERVED_DATABASES,
);

/** A login role of the PostgreSQL server. */
export const postgresRoleName = postgresIdentifier(
  'PostgreSQL role name',
  RESERVED_ROLES,
);

/** The engine version RDS is asked for: a major (17) lets RDS pick the newest minor. */
export const postgresEngineVersion = createRule({
  what: 'PostgreSQL version',
  accepted: 'a major version such as 17, or a major and minor such as 17.4',
  pattern: '^\\d+(?:\\.\\d+)?$',
  minLength: 1,
  maxLength: 10,
  mismatch: 'it is not a PostgreSQL version number',
});
