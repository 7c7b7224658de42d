import { AwsCredentialsManager } from '@backstage/integration-aws-node';
import { AwsClientConfigFactory } from './AwsClientConfigFactory';

describe('AwsClientConfigFactory', () => {
  it('asks the credentials manager for the account and keeps the region', async () => {
    const sdkCredentialProvider = jest.fn();
    const manager: AwsCredentialsManager = {
      getCredentialProvider: jest.fn(async () => ({ sdkCredentialProvider })),
    };
    const factory = new AwsClientConfigFactory(manager);

    await expect(
      factory.forRegion({ region: 'eu-west-1', accountId: '123456789012' }),
    ).resolves.toEqual({
      region: 'eu-west-1',
      credentials: sdkCredentialProvider,
    });
    expect(manager.getCredentialProvider).toHaveBeenCalledWith({
      accountId: '123456789012',
    });

    await factory.forRegion({ region: 'us-east-1' });
    expect(manager.getCredentialProvider).toHaveBeenLastCalledWith({});
  });
});
