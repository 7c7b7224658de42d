import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
} from '@backstage/plugin-catalog-common/alpha';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { PolicyQueryUser } from '@backstage/plugin-permission-node';
import {
  mlflowInstanceCreatePermission,
  mlflowInstanceDeletePermission,
  mlflowInstanceHealthReadPermission,
  mlflowInstanceUpdatePermission,
} from '@stateful-mlflow/plugin-mlflow-common';
import { AppPermissionPolicy } from './permissionPolicy';

const GUEST = 'user:default/guest';

function signedIn(userEntityRef: string): PolicyQueryUser {
  return {
    credentials: mockCredentials.user(userEntityRef),
    info: { userEntityRef, ownershipEntityRefs: [userEntityRef] },
  };
}

describe('AppPermissionPolicy', () => {
  const policy = new AppPermissionPolicy(
    mockServices.userInfo({
      ownershipEntityRefs: [GUEST, 'group:default/guests'],
    }),
  );

  it.each([mlflowInstanceUpdatePermission, mlflowInstanceDeletePermission])(
    "allows $name only on entities owned by the user or the user's groups",
    async permission => {
      await expect(
        policy.handle({ permission }, signedIn(GUEST)),
      ).resolves.toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims: [GUEST, 'group:default/guests'] },
        },
      });
    },
  );

  it.each([
    mlflowInstanceUpdatePermission,
    mlflowInstanceDeletePermission,
    mlflowInstanceCreatePermission,
    mlflowInstanceHealthReadPermission,
  ])('denies $name without a signed-in user', async permission => {
    await expect(policy.handle({ permission })).resolves.toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it.each([mlflowInstanceCreatePermission, mlflowInstanceHealthReadPermission])(
    'allows $name to every signed-in user',
    async permission => {
      await expect(
        policy.handle({ permission }, signedIn('user:default/mallory')),
      ).resolves.toEqual({ result: AuthorizeResult.ALLOW });
    },
  );

  it.each([catalogEntityReadPermission, catalogEntityDeletePermission])(
    'keeps upstream behaviour for $name',
    async permission => {
      await expect(
        policy.handle({ permission }, signedIn('user:default/mallory')),
      ).resolves.toEqual({ result: AuthorizeResult.ALLOW });
    },
  );
});
