import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { mockServices } from '@backstage/backend-test-utils';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizePermissionRequest,
  AuthorizeResult,
} from '@backstage/plugin-permission-common';
import { mlflowInstanceCreatePermission } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowInstanceIdentityKeys } from '@stateful-mlflow/plugin-mlflow-node';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { ProvisioningGuardRails } from '../guardRails/ProvisioningGuardRails';

/** The initiator of `createMockActionContext` and `createCheckpointingContext`. */
export const MOCK_USER = 'user:default/mock';

/** The signing key of the test identity keys (a test value, never a real key). */
export const TEST_SIGNING_KEY = 'test-signing-key-0123456789-abcdefghij';

/** Guard rails that allow what the unit tests use: any image and namespace, the test domains and keys. */
export function testGuardRails(
  overrides: ConstructorParameters<typeof ProvisioningGuardRails>[0] = {},
): ProvisioningGuardRails {
  return new ProvisioningGuardRails({
    allowedImages: ['**'],
    allowedHostnameDomains: ['example.com', 'localhost'],
    allowedNamespaces: ['*'],
    allowedKmsKeyArns: [
      'arn:aws:kms:eu-west-1:123456789012:key/abcd-1234',
      'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
    ],
    ...overrides,
  });
}

export const testIdentityKeys = MlflowInstanceIdentityKeys.fromConfig(
  new ConfigReader({ mlflow: { identity: { signingKey: TEST_SIGNING_KEY } } }),
);

function userOf(credentials: BackstageCredentials): string | undefined {
  const principal = credentials.principal as {
    type?: string;
    userEntityRef?: string;
  };
  return principal.type === 'user' ? principal.userEntityRef : undefined;
}

/**
 * A fake of the app's policy: signed-in users may create; update on an entity is allowed when its
 * owner is one of the user's ownership refs. `entities` are the catalog's; with `everyInstanceOwnedBy`
 * every instance name has an entity owned by that ref (the unit tests of the steps, which rerun
 * instances of the mock user).
 */
export function fakeAuthorization(
  options: {
    entities?: Entity[];
    everyInstanceOwnedBy?: string;
    ownership?: Record<string, string[]>;
  } = {},
): InstanceChangeAuthorizationDeps & {
  authorizeCalls: AuthorizePermissionRequest[];
} {
  const ownership = options.ownership ?? {};
  const authorizeCalls: AuthorizePermissionRequest[] = [];
  const entityOf = (ref: string): Entity | undefined => {
    const found = options.entities?.find(
      e => stringifyEntityRef(e).toLocaleLowerCase('en-US') === ref,
    );
    if (found || !options.everyInstanceOwnedBy) {
      return found;
    }
    const { namespace, name } = parseEntityRef(ref);
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name, namespace },
      spec: { type: 'service', owner: options.everyInstanceOwnedBy },
    };
  };
  const permissions = mockServices.permissions.mock({
    authorize: jest.fn(async (requests, opts) =>
      requests.map(request => {
        authorizeCalls.push(request);
        const user = userOf(opts.credentials);
        if (!user) {
          return { result: AuthorizeResult.DENY };
        }
        if (request.permission.name === mlflowInstanceCreatePermission.name) {
          return { result: AuthorizeResult.ALLOW };
        }
        const ref = (request as { resourceRef?: string }).resourceRef ?? '';
        const owner = entityOf(ref)?.spec?.owner;
        const refs = ownership[user] ?? [user];
        return {
          result:
            typeof owner === 'string' &&
            refs.includes(
              stringifyEntityRef(
                parseEntityRef(owner, { defaultKind: 'group' }),
              ),
            )
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
        };
      }),
    ),
  });
  const userInfo = mockServices.userInfo.mock({
    getUserInfo: jest.fn(async credentials => {
      const user = userOf(credentials) ?? '';
      return {
        userEntityRef: user,
        ownershipEntityRefs: ownership[user] ?? [user],
      };
    }),
  });
  const catalog = catalogServiceMock.mock({
    getEntityByRef: jest.fn(async (ref: string | { kind: string }) =>
      entityOf(
        typeof ref === 'string'
          ? ref.toLocaleLowerCase('en-US')
          : stringifyEntityRef(ref as Entity['metadata'] & { kind: string }),
      ),
    ),
  });
  return { permissions, userInfo, catalog, authorizeCalls };
}

/** Tenancy for the unit tests of the steps: every instance is the mock user's, the rails open. */
export function testTenancy() {
  return {
    authorization: fakeAuthorization({ everyInstanceOwnedBy: MOCK_USER }),
    guardRails: testGuardRails(),
    identityKeys: testIdentityKeys,
  };
}

/** The labels marking a Kubernetes object as instance `name`'s, as the actions write them. */
export function instanceLabels(name: string): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow',
    'app.kubernetes.io/instance': name,
  };
}
