import { CreateDBSnapshotCommand, RDSClient, Tag } from '@aws-sdk/client-rds';
import { callAws } from './awsErrors';

/** A manual snapshot id of `instanceId` taken at `at` for `purpose`: `<id>-<purpose>-<utc time>`. */
export function manualSnapshotIdentifier(
  instanceId: string,
  purpose: string,
  at: Date,
): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'z')
    .toLowerCase();
  return `${instanceId}-${purpose}-${stamp}`;
}

/** Starts a manual snapshot carrying the instance's tags (so it is known as the instance's). */
export async function createManualSnapshot(
  rds: RDSClient,
  options: { instanceId: string; snapshotId: string; tags: Tag[] },
): Promise<void> {
  await callAws(
    'rds:CreateDBSnapshot',
    `snapshot "${options.snapshotId}" of RDS instance "${options.instanceId}"`,
    () =>
      rds.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: options.instanceId,
          DBSnapshotIdentifier: options.snapshotId,
          Tags: options.tags,
        }),
      ),
  );
}
