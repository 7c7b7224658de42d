import { Config } from '@backstage/config';
import {
  AwsCredentialsManager,
  DefaultAwsCredentialsManager,
} from '@backstage/integration-aws-node';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * What an AWS SDK v3 client constructor needs from us.
 *
 * @public
 */
export type AwsClientConfig = {
  region: string;
  credentials: AwsCredentialIdentityProvider;
};

/**
 * Builds AWS SDK client configuration from Backstage's standard AWS settings (`aws.accounts`,
 * `aws.mainAccount`, else the default credential chain). The endpoint is left to the SDK, which
 * honours `AWS_ENDPOINT_URL` (and the per-service variants) by itself.
 *
 * @public
 */
export class AwsClientConfigFactory {
  static fromConfig(config: Config): AwsClientConfigFactory {
    return new AwsClientConfigFactory(
      DefaultAwsCredentialsManager.fromConfig(config),
    );
  }

  constructor(private readonly credentialsManager: AwsCredentialsManager) {}

  async forRegion(options: {
    region: string;
    accountId?: string;
  }): Promise<AwsClientConfig> {
    const { sdkCredentialProvider } =
      await this.credentialsManager.getCredentialProvider(
        options.accountId ? { accountId: options.accountId } : {},
      );
    return { region: options.region, credentials: sdkCredentialProvider };
  }
}
