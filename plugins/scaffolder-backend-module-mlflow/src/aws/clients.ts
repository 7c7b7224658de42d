import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsClientConfig } from '@stateful-mlflow/plugin-mlflow-node';
import { StepDeadline } from '../util/stepDeadline';
import { callAws } from './awsErrors';

/**
 * Where the actions get AWS client configuration; `AwsClientConfigFactory` of mlflow-node is one.
 *
 * @public
 */
export type AwsClientConfigProvider = {
  forRegion(options: {
    region: string;
    accountId?: string;
  }): Promise<AwsClientConfig>;
};

/** The AWS partition of a region, for ARNs. */
export function awsPartition(region: string): string {
  if (region.startsWith('cn-')) {
    return 'aws-cn';
  }
  if (region.startsWith('us-gov-')) {
    return 'aws-us-gov';
  }
  return 'aws';
}

/** The account the configured credentials act in (read-only). */
export async function callerAccountId(
  config: AwsClientConfig,
  deadline?: StepDeadline,
): Promise<string> {
  const sts = new STSClient(config);
  const identity = await callAws(
    'sts:GetCallerIdentity',
    'the configured AWS credentials',
    abortSignal => sts.send(new GetCallerIdentityCommand({}), { abortSignal }),
    deadline,
  );
  if (!identity.Account) {
    throw new Error('sts:GetCallerIdentity returned no account id');
  }
  return identity.Account;
}
