import { nameRules } from '@stateful-mlflow/plugin-mlflow-common';
import { z as zod } from 'zod/v3';

/** Input fields of the decommission actions, one definition each. */
type Z = typeof zod;

export const liftDeletionProtectionInput = (z: Z) =>
  z
    .boolean()
    .default(false)
    .describe(
      'Turn off the deletion protection of the RDS instance so it can be deleted (logged with who asked). Without it a protected instance is refused and nothing is deleted.',
    );

export const deleteBucketInput = (z: Z) =>
  z
    .boolean()
    .default(false)
    .describe(
      'Empty the artifact bucket (every object version) and delete it. By default the bucket is kept, tagged as retained with its retention date, so the instance can be restored.',
    );

export const retentionDaysInput = (z: Z) =>
  z
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(90)
    .describe(
      'How long a retained bucket is meant to be kept, in days: written as its retained-until tag (YYYY-MM-DD).',
    );

export const secretsManagerNameInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe(
      `Secrets Manager copy of the database credentials; mlflow/<name>/database when empty. ${nameRules.secretsManagerName.accepted}.`,
    );
