import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError, NotAllowedError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizePermissionRequest,
  AuthorizePermissionResponse,
  AuthorizeResult,
} from '@backstage/plugin-permission-common';
import {
  mlflowInstanceCreatePermission,
  mlflowInstanceUpdatePermission,
} from '@stateful-mlflow/plugin-mlflow-common';
import { authorizeInstanceChange } from './authorizeInstanceChange';

const GUEST = 'user:default/guest';
const MALLORY = 'user:default/mallory';
const OWNERSHIP: Record<string, string[]> = {
  [GUEST]: [GUEST, 'group:default/guests'],
  [MALLORY]: [MALLORY],
};

function instanceEntity(name: string, owner: string, namespace = 'default') {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace },
    spec: { type: 'service', owner },
  } satisfies Entity;
}

function userOf(credentials: BackstageCredentials): string | undefined {
  const principal = credentials.principal as {
    type: string;
    userEntityRef?: string;
  };
  return principal.type === 'user' ? principal.userEntityRef : undefined;
}

/**
 * A fake of the app's policy behind the permissions service: signed-in users may create; update
 * on an entity is allowed when its owner is one of the user's ownership refs.
 */
function setup(options: { entities?: Entity[]; createAllowed?: boolean } = {}) {
  const entities = options.entities ?? [];
  const decide = (
    user: string | undefined,
    request: AuthorizePermissionRequest,
  ): AuthorizeResult.ALLOW | AuthorizeResult.DENY => {
    if (!user) {
      return AuthorizeResult.DENY;
    }
    if (request.permission.name === mlflowInstanceCreatePermission.name) {
      return options.createAllowed === false
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW;
    }
    const entity = entities.find(
      e =>
        `component:${e.metadata.namespace}/${e.metadata.name}` ===
        request.resourceRef,
    );
    const owner = entity
      ? stringifyEntityRef(
          parseEntityRef(String(entity.spec?.owner), { defaultKind: 'group' }),
        )
      : undefined;
    return owner && OWNERSHIP[user]?.includes(owner)
      ? AuthorizeResult.ALLOW
      : AuthorizeResult.DENY;
  };
  const permissions = mockServices.permissions.mock({
    authorize: jest.fn(
      async (
        requests: AuthorizePermissionRequest[],
        opts: { credentials: BackstageCredentials },
      ): Promise<AuthorizePermissionResponse[]> =>
        requests.map(request => ({
          result: decide(userOf(opts.credentials), request),
        })),
    ),
  });
  const userInfo = mockServices.userInfo.mock({
    getUserInfo: jest.fn(async credentials => {
      const user = userOf(credentials) as string;
      return {
        userEntityRef: user,
        ownershipEntityRefs: OWNERSHIP[user] ?? [user],
      };
    }),
  });
  const catalog = catalogServiceMock({ entities });
  return { deps: { permissions, userInfo, catalog }, permissions, userInfo };
}

describe('authorizeInstanceChange', () => {
  it('lets a signed-in user create a new instance after asking mlflow.instance.create', async () => {
    const { deps, permissions } = setup();
    const decision = await authorizeInstanceChange(
      deps,
      mockCredentials.user(MALLORY),
      { name: 'fresh', owner: MALLORY, exists: false },
    );
    expect(decision).toEqual({
      kind: 'create',
      entityRef: 'component:default/fresh',
      initiator: MALLORY,
    });
    expect(permissions.authorize).toHaveBeenCalledWith(
      [{ permission: mlflowInstanceCreatePermission }],
      { credentials: mockCredentials.user(MALLORY) },
    );
  });

  it('refuses a new instance when the policy denies create, naming the instance and owner', async () => {
    const { deps } = setup({ createAllowed: false });
    await expect(
      authorizeInstanceChange(deps, mockCredentials.user(MALLORY), {
        name: 'fresh',
        owner: 'group:default/intruders',
        exists: false,
      }),
    ).rejects.toThrow(
      new NotAllowedError(
        'user:default/mallory may not create MLflow instance "fresh" (component:default/fresh) for owner group:default/intruders: the permission policy denies mlflow.instance.create',
      ),
    );
  });

  it("lets a member of the entity's owner rerun an existing instance, asking update on the entity", async () => {
    const { deps, permissions } = setup({
      entities: [instanceEntity('demo', 'group:default/guests')],
    });
    const decision = await authorizeInstanceChange(
      deps,
      mockCredentials.user(GUEST),
      { name: 'demo', owner: 'group:default/guests', exists: true },
    );
    expect(decision).toEqual({
      kind: 'update',
      entityRef: 'component:default/demo',
      initiator: GUEST,
      currentOwner: 'group:default/guests',
      decidedBy: 'entity',
    });
    expect(permissions.authorize).toHaveBeenCalledTimes(1);
    expect(permissions.authorize).toHaveBeenCalledWith(
      [
        {
          permission: mlflowInstanceUpdatePermission,
          resourceRef: 'component:default/demo',
        },
      ],
      { credentials: mockCredentials.user(GUEST) },
    );
  });

  it('refuses a rerun by someone the policy denies update, naming the instance and its owner', async () => {
    const { deps } = setup({
      entities: [instanceEntity('demo', 'guests')],
    });
    await expect(
      authorizeInstanceChange(deps, mockCredentials.user(MALLORY), {
        name: 'demo',
        owner: 'group:default/guests',
        exists: true,
      }),
    ).rejects.toThrow(
      new NotAllowedError(
        'user:default/mallory may not change MLflow instance "demo" (component:default/demo), owned by group:default/guests: the permission policy denies mlflow.instance.update on it',
      ),
    );
  });

  it('refuses to transfer an instance the initiator may not update, naming both owners', async () => {
    const { deps } = setup({
      entities: [instanceEntity('demo', 'group:default/guests')],
    });
    await expect(
      authorizeInstanceChange(deps, mockCredentials.user(MALLORY), {
        name: 'demo',
        owner: 'group:default/intruders',
        exists: true,
      }),
    ).rejects.toThrow(
      /owned by group:default\/guests \(nor transfer it to group:default\/intruders\)/,
    );
  });

  it('lets the owner transfer the instance to another owner', async () => {
    const { deps } = setup({
      entities: [instanceEntity('demo', 'group:default/guests')],
    });
    await expect(
      authorizeInstanceChange(deps, mockCredentials.user(GUEST), {
        name: 'demo',
        owner: 'group:default/platform',
        exists: true,
      }),
    ).resolves.toMatchObject({ kind: 'update', decidedBy: 'entity' });
  });

  it('refuses to re-create an instance whose entity someone else owns, although create is allowed', async () => {
    const { deps, permissions } = setup({
      entities: [instanceEntity('demo', 'group:default/guests')],
    });
    await expect(
      authorizeInstanceChange(deps, mockCredentials.user(MALLORY), {
        name: 'demo',
        owner: MALLORY,
        exists: false,
      }),
    ).rejects.toThrow(NotAllowedError);
    expect(permissions.authorize).toHaveBeenCalledTimes(2);
  });

  it('decides on the entity in the given catalog namespace', async () => {
    const { deps } = setup({
      entities: [instanceEntity('demo', 'group:default/guests', 'ml')],
    });
    await expect(
      authorizeInstanceChange(deps, mockCredentials.user(GUEST), {
        name: 'demo',
        entityNamespace: 'ml',
        owner: 'group:default/guests',
        exists: true,
      }),
    ).resolves.toMatchObject({
      entityRef: 'component:ml/demo',
      decidedBy: 'entity',
    });
  });

  describe('before the entity exists', () => {
    it('lets a member of the recorded owner change the instance', async () => {
      const { deps, permissions } = setup();
      const decision = await authorizeInstanceChange(
        deps,
        mockCredentials.user(GUEST),
        {
          name: 'young',
          owner: 'guests',
          exists: true,
          recordedOwner: 'group:default/guests',
        },
      );
      expect(decision).toEqual({
        kind: 'update',
        entityRef: 'component:default/young',
        initiator: GUEST,
        currentOwner: 'group:default/guests',
        decidedBy: 'recordedOwner',
      });
      expect(permissions.authorize).not.toHaveBeenCalled();
    });

    it('refuses a non-member, naming the instance and the recorded owner', async () => {
      const { deps } = setup();
      await expect(
        authorizeInstanceChange(deps, mockCredentials.user(MALLORY), {
          name: 'young',
          owner: MALLORY,
          exists: true,
          recordedOwner: 'group:default/guests',
        }),
      ).rejects.toThrow(
        new NotAllowedError(
          'user:default/mallory may not change MLflow instance "young" (component:default/young), owned by group:default/guests (nor transfer it to user:default/mallory): user:default/mallory is not a member of group:default/guests',
        ),
      );
    });

    // The policy's fake sees no entity (the catalog dropped it: a redeploy); the first read still did.
    function vanishingEntity() {
      const { deps } = setup();
      const getEntityByRef = jest
        .fn()
        .mockResolvedValueOnce(instanceEntity('redeployed', 'guests'))
        .mockResolvedValue(undefined);
      const change = {
        name: 'redeployed',
        owner: 'group:default/guests',
        exists: true,
        recordedOwner: 'group:default/guests',
      };
      return {
        getEntityByRef,
        decide: (user: string) =>
          authorizeInstanceChange(
            { ...deps, catalog: { ...deps.catalog, getEntityByRef } },
            mockCredentials.user(user),
            change,
          ),
      };
    }

    it('decides on the recorded owner when the entity vanishes between its read and the policy decision', async () => {
      const { getEntityByRef, decide } = vanishingEntity();
      await expect(decide(GUEST)).resolves.toMatchObject({
        kind: 'update',
        decidedBy: 'recordedOwner',
        currentOwner: 'group:default/guests',
      });
      expect(getEntityByRef).toHaveBeenCalledTimes(2);
    });

    it('refuses a non-member of the recorded owner when the entity vanishes before the decision', async () => {
      const { decide } = vanishingEntity();
      await expect(decide(MALLORY)).rejects.toThrow(
        'user:default/mallory is not a member of group:default/guests',
      );
    });

    it('refuses when the resources record no owner', async () => {
      const { deps } = setup();
      await expect(
        authorizeInstanceChange(deps, mockCredentials.user(GUEST), {
          name: 'young',
          owner: 'group:default/guests',
          exists: true,
        }),
      ).rejects.toThrow(/record no owner/);
    });

    it('refuses an unauthenticated initiator without asking for user info', async () => {
      const { deps, userInfo } = setup();
      await expect(
        authorizeInstanceChange(deps, mockCredentials.none(), {
          name: 'young',
          owner: 'group:default/guests',
          exists: true,
          recordedOwner: 'group:default/guests',
        }),
      ).rejects.toThrow(
        /an unauthenticated caller may not change .* owned by group:default\/guests/,
      );
      expect(userInfo.getUserInfo).not.toHaveBeenCalled();
    });
  });

  it('rejects an owner that is not an entity reference, naming the field and value', async () => {
    const { deps, permissions } = setup();
    await expect(
      authorizeInstanceChange(deps, mockCredentials.user(GUEST), {
        name: 'demo',
        owner: 'group:default/',
        exists: false,
      }),
    ).rejects.toThrow(
      new InputError(
        'Invalid owner: received "group:default/". Accepted: an entity reference such as group:default/team-a.',
      ),
    );
    expect(permissions.authorize).not.toHaveBeenCalled();
  });
});
