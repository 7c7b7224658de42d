import { AwsClientConfigProvider } from '../aws/clients';

/** Static credentials for unit tests; the SDK clients are mocked with aws-sdk-client-mock. */
export const fakeAws: AwsClientConfigProvider = {
  forRegion: async ({ region }) => ({
    region,
    credentials: async () => ({
      accessKeyId: 'AKIATEST',
      secretAccessKey: 'test-secret-key',
    }),
  }),
};

/** An error shaped like the AWS SDK v3's service exceptions. */
export function awsError(name: string, httpStatusCode: number, message = name) {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}
