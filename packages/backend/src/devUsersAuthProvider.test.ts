import { ConfigReader } from '@backstage/config';
import { InputError, NotAllowedError } from '@backstage/errors';
import { devUsersAuthenticator } from './devUsersAuthProvider';

type AuthenticateRequest = Parameters<
  typeof devUsersAuthenticator.authenticate
>[0]['req'];

function requestFor(user?: string): AuthenticateRequest {
  return {
    query: user === undefined ? {} : { user },
  } as unknown as AuthenticateRequest;
}

describe('devUsersAuthenticator', () => {
  const config = new ConfigReader({ users: ['mallory', 'user:ops/eve'] });
  const originalEnv = process.env.NODE_ENV;

  afterEach(() => {
    process.env.NODE_ENV = originalEnv;
  });

  function initialize(nodeEnv: string) {
    process.env.NODE_ENV = nodeEnv;
    return devUsersAuthenticator.initialize({ config });
  }

  it('signs in as a listed user, written short or in full', async () => {
    const ctx = initialize('development');
    await expect(
      devUsersAuthenticator.authenticate({ req: requestFor('mallory') }, ctx),
    ).resolves.toEqual({ result: { userEntityRef: 'user:default/mallory' } });
    await expect(
      devUsersAuthenticator.authenticate(
        { req: requestFor('user:ops/eve') },
        ctx,
      ),
    ).resolves.toEqual({ result: { userEntityRef: 'user:ops/eve' } });
  });

  it('refuses a user that is not listed, naming the value and the accepted users', async () => {
    const ctx = initialize('development');
    await expect(
      devUsersAuthenticator.authenticate({ req: requestFor('guest') }, ctx),
    ).rejects.toThrow(
      new InputError(
        'Invalid user: received "guest". Accepted: one of user:default/mallory, user:ops/eve (auth.providers.devUsers.users)',
      ),
    );
    await expect(
      devUsersAuthenticator.authenticate({ req: requestFor() }, ctx),
    ).rejects.toThrow(/received undefined/);
  });

  it('refuses every sign-in outside development', async () => {
    const ctx = initialize('production');
    await expect(
      devUsersAuthenticator.authenticate({ req: requestFor('mallory') }, ctx),
    ).rejects.toThrow(NotAllowedError);
  });
});
