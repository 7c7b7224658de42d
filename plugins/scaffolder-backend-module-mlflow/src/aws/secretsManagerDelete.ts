import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { findAws } from './awsErrors';
import { taggedIdentity } from './tags';

/** A Secrets Manager secret of the instance, or why it is not deleted. Read-only. */
export type SecretState =
  | { kind: 'absent' }
  | { kind: 'ours'; arn: string; owner?: string }
  | { kind: 'foreign' };

export async function readSecretState(
  secrets: SecretsManagerClient,
  options: { secretName: string; name: string },
): Promise<SecretState> {
  const found = await findAws(
    'secretsmanager:DescribeSecret',
    `secret "${options.secretName}"`,
    ['ResourceNotFoundException'],
    () =>
      secrets.send(new DescribeSecretCommand({ SecretId: options.secretName })),
  );
  // A secret scheduled for deletion is as good as gone for a decommission.
  if (!found || found.DeletedDate) {
    return { kind: 'absent' };
  }
  const identity = taggedIdentity(found.Tags, options.name);
  return identity.kind === 'ours'
    ? { kind: 'ours', arn: found.ARN ?? '', owner: identity.owner }
    : { kind: 'foreign' };
}

/** Deletes the secret at once (its password belongs to a role that is going away with it). */
export async function deleteInstanceSecret(
  secrets: SecretsManagerClient,
  secretName: string,
): Promise<void> {
  await findAws(
    'secretsmanager:DeleteSecret',
    `secret "${secretName}"`,
    ['ResourceNotFoundException'],
    () =>
      secrets.send(
        new DeleteSecretCommand({
          SecretId: secretName,
          ForceDeleteWithoutRecovery: true,
        }),
      ),
  );
}
