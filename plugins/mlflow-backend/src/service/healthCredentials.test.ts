import { fakeSecrets } from '../testUtils/healthFixtures';
import {
  createHealthCredentialsReader,
  HealthSecretError,
  SecretsApi,
} from './healthCredentials';

const location = { cluster: 'local', namespace: 'prod', name: 'prod-health' };
const user = { username: 'backstage-health', password: 'h3alth-pass' };

describe('createHealthCredentialsReader', () => {
  it('decodes the username and password and keeps them until the TTL passes', async () => {
    let now = 0;
    const calls: string[] = [];
    const reader = createHealthCredentialsReader({
      secretsFor: fakeSecrets({ 'prod/prod-health': user }, { calls }),
      ttlMs: 1000,
      timeoutMs: 1000,
      log: jest.fn(),
      now: () => now,
    });
    await expect(reader.read(location)).resolves.toEqual(user);
    now = 999;
    await reader.read(location);
    expect(calls).toHaveLength(1);
    now = 1000;
    await reader.read(location);
    expect(calls).toHaveLength(2);
    reader.forget(location);
    await reader.read(location);
    expect(calls).toHaveLength(3);
  });

  it('does not keep a failure, and its error names the Secret but holds no value', async () => {
    const calls: string[] = [];
    const log = jest.fn();
    const reader = createHealthCredentialsReader({
      secretsFor: fakeSecrets({}, { refused: ['prod/prod-health'], calls }),
      ttlMs: 60_000,
      timeoutMs: 1000,
      log,
    });
    const failure = reader.read(location);
    await expect(failure).rejects.toBeInstanceOf(HealthSecretError);
    await expect(failure).rejects.toThrow(
      'the health Secret prod/prod-health could not be read (access denied)',
    );
    await expect(reader.read(location)).rejects.toThrow(HealthSecretError);
    expect(calls).toHaveLength(2);
    expect(log).toHaveBeenCalledWith(
      'reading the health Secret prod/prod-health failed',
      expect.any(Error),
    );
  });

  it('gives up on a read that never answers after the timeout', async () => {
    const hanging = {
      readNamespacedSecret: () => new Promise(() => {}),
    } as unknown as SecretsApi;
    const reader = createHealthCredentialsReader({
      secretsFor: () => hanging,
      ttlMs: 60_000,
      timeoutMs: 50,
      log: jest.fn(),
    });
    await expect(reader.read(location)).rejects.toThrow(
      'the health Secret prod/prod-health could not be read (the error is in the backend log)',
    );
  });
});
