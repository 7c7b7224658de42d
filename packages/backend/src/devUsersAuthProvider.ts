import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  DEFAULT_NAMESPACE,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthenticator,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';

function toUserRef(ref: string): string {
  return stringifyEntityRef(
    parseEntityRef(ref, {
      defaultKind: 'user',
      defaultNamespace: DEFAULT_NAMESPACE,
    }),
  );
}

type DevUsersContext = { enabled: boolean; users: string[] };

/**
 * Signs in as one of the catalog users listed in `auth.providers.devUsers.users`, chosen with the
 * `user` query parameter, without any password: a second identity beside the guest for tests of
 * the permission policy. Like the guest provider it refuses to work unless NODE_ENV is
 * `development`, and it is off unless `auth.providers.devUsers` is configured.
 */
export const devUsersAuthenticator = createProxyAuthenticator<
  DevUsersContext,
  { userEntityRef: string },
  undefined
>({
  defaultProfileTransform: async () => ({ profile: {} }),
  initialize({ config }) {
    return {
      enabled: process.env.NODE_ENV === 'development',
      users: config.getStringArray('users').map(toUserRef),
    };
  },
  async authenticate({ req }, { enabled, users }) {
    if (!enabled) {
      throw new NotAllowedError(
        'The devUsers sign-in provider works only when NODE_ENV is development',
      );
    }
    const asked = req.query.user;
    let userEntityRef: string | undefined;
    try {
      userEntityRef = typeof asked === 'string' ? toUserRef(asked) : undefined;
    } catch {
      userEntityRef = undefined;
    }
    if (!userEntityRef || !users.includes(userEntityRef)) {
      throw new InputError(
        `Invalid user: received ${JSON.stringify(
          asked,
        )}. Accepted: one of ${users.join(
          ', ',
        )} (auth.providers.devUsers.users)`,
      );
    }
    return { result: { userEntityRef } };
  },
});

/** Registers the `devUsers` sign-in provider (see {@link devUsersAuthenticator}). */
export const authModuleDevUsersProvider = createBackendModule({
  pluginId: 'auth',
  moduleId: 'dev-users-provider',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: 'devUsers',
          factory: createProxyAuthProviderFactory({
            authenticator: devUsersAuthenticator,
            // Only catalog users: their groups come from the catalog, as for any real sign-in.
            signInResolver: async ({ result }, ctx) =>
              ctx.signInWithCatalogUser({ entityRef: result.userEntityRef }),
          }),
        });
      },
    });
  },
});
