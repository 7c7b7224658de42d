import { PermissionsService } from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { mlflowEntity } from '../testUtils/healthFixtures';
import { HealthReadAuthorizer } from './HealthReadAuthorizer';

describe('HealthReadAuthorizer', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-12-02T12:00:00Z') });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  function policy(result = AuthorizeResult.ALLOW) {
    const permissions = {
      authorizeConditional: jest.fn(async queries =>
        queries.map(() => ({ result })),
      ),
      authorize: jest.fn(async requests => requests.map(() => ({ result }))),
    } as unknown as jest.Mocked<PermissionsService>;
    return permissions;
  }

  it('asks the policy once per user token for both permissions, and again after the TTL', async () => {
    const permissions = policy();
    const authorizer = new HealthReadAuthorizer(permissions);
    const alice = mockCredentials.user('user:default/alice');
    await Promise.all([authorizer.decide(alice), authorizer.decide(alice)]);
    await authorizer.decide(alice);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(1);
    expect(
      permissions.authorizeConditional.mock.calls[0][0].map(
        q => q.permission.name,
      ),
    ).toEqual(['catalog.entity.read', 'mlflow.instance.health.read']);

    await authorizer.decide(mockCredentials.user('user:default/bob'));
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(2);

    jest.advanceTimersByTime(10_001);
    await authorizer.decide(alice);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(3);
  });

  it("keeps no answer past the token's expiry, none for a service and none that failed", async () => {
    const permissions = policy();
    const authorizer = new HealthReadAuthorizer(permissions);
    const shortLived = {
      ...mockCredentials.user('user:default/alice'),
      expiresAt: new Date(Date.now() + 1000),
    };
    await authorizer.decide(shortLived);
    jest.advanceTimersByTime(1001);
    await authorizer.decide(shortLived);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(2);

    const service = mockCredentials.service('plugin:other');
    await authorizer.decide(service);
    await authorizer.decide(service);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(4);

    permissions.authorizeConditional.mockRejectedValueOnce(new Error('down'));
    const carol = mockCredentials.user('user:default/carol');
    await expect(authorizer.decide(carol)).rejects.toThrow('down');
    await authorizer.decide(carol);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(6);
  });

  it('asks every time with a TTL of 0', async () => {
    const permissions = policy();
    const authorizer = new HealthReadAuthorizer(permissions, 0);
    const alice = mockCredentials.user('user:default/alice');
    await authorizer.decide(alice);
    await authorizer.decide(alice);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(2);
  });

  it('hides what the caller may not read in the catalog, denies what it may not read the health of', async () => {
    const authorizer = new HealthReadAuthorizer(policy());
    const items = [{ ref: 'component:default/a', entity: mlflowEntity('a') }];
    const credentials = mockCredentials.user();
    const allow = { result: AuthorizeResult.ALLOW } as const;
    const deny = { result: AuthorizeResult.DENY } as const;
    expect(await authorizer.access([allow, allow], items, credentials)).toEqual(
      ['allowed'],
    );
    expect(await authorizer.access([allow, deny], items, credentials)).toEqual([
      'denied',
    ]);
    expect(await authorizer.access([deny, allow], items, credentials)).toEqual([
      'hidden',
    ]);
  });
});
