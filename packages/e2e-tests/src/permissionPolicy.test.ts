import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Permission } from '@backstage/plugin-permission-common';
import {
  ANNOTATION_MLFLOW_TRACKING_URL,
  mlflowInstanceCreatePermission,
  mlflowInstanceDeletePermission,
  mlflowInstanceHealthReadPermission,
  mlflowInstanceUpdatePermission,
} from '@stateful-mlflow/plugin-mlflow-common';
import { stringify } from 'yaml';
import { devUserToken, devUsersConfig, userInfo } from './lib/devUsers';
import { eventually } from './lib/eventually';
import { REPO_ROOT, StartedBackend, startBackend } from './lib/startBackend';

jest.setTimeout(240_000);

const INSTANCE = 'policy-probe';
const INSTANCE_REF = `component:default/${INSTANCE}`;

/** An MLflow instance entity owned by the guest's group, read from a file location. */
function writeInstanceFixture(): string {
  const file = join(
    mkdtempSync(join(tmpdir(), 'e2e-policy-')),
    'instance.yaml',
  );
  writeFileSync(
    file,
    stringify({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: INSTANCE,
        annotations: {
          [ANNOTATION_MLFLOW_TRACKING_URL]: 'http://policy-probe.localhost',
        },
      },
      spec: { type: 'service', lifecycle: 'production', owner: 'guests' },
    }),
  );
  return file;
}

describe('the app permission policy (packages/backend)', () => {
  let backend: StartedBackend;
  let guestToken: string;
  let malloryToken: string;

  async function authorize(
    token: string,
    permission: Permission,
    resourceRef?: string,
  ): Promise<string> {
    const res = await fetch(`${backend.baseUrl}/api/permission/authorize`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        items: [{ id: 'probe', permission, resourceRef }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Array<{ result: string }> };
    return body.items[0].result;
  }

  async function catalogGet(token: string, path: string) {
    return fetch(`${backend.baseUrl}/api/catalog${path}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
  }

  beforeAll(async () => {
    backend = await startBackend({
      extraConfig: {
        ...devUsersConfig(['user:default/mallory']),
        catalog: {
          locations: [
            {
              type: 'file',
              target: join(REPO_ROOT, 'examples/org.yaml'),
              rules: [{ allow: ['User', 'Group'] }],
            },
            { type: 'file', target: writeInstanceFixture() },
          ],
        },
      },
    });
    guestToken = await backend.guestToken();
    // Wait for the state the tests need: mallory and the instance, with its owner relation.
    await eventually(
      async () => {
        const user = await catalogGet(
          guestToken,
          '/entities/by-name/user/default/mallory',
        );
        const instance = await catalogGet(
          guestToken,
          `/entities/by-name/component/default/${INSTANCE}`,
        );
        const entity = instance.ok
          ? ((await instance.json()) as {
              relations?: Array<{ type: string; targetRef: string }>;
            })
          : undefined;
        const owned = entity?.relations?.some(
          r => r.type === 'ownedBy' && r.targetRef === 'group:default/guests',
        );
        if (!user.ok || !owned) {
          throw new Error(
            `catalog not ingested yet: mallory ${user.status}, ${INSTANCE} ${instance.status}`,
          );
        }
      },
      { timeoutMs: 120_000 },
    );
    malloryToken = await devUserToken(backend.baseUrl, 'user:default/mallory');
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('lets the guest read the catalog', async () => {
    const res = await catalogGet(guestToken, '/entities/by-query?limit=100');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      items: Array<{ kind: string; metadata: { name: string } }>;
    };
    expect(body.items.map(e => `${e.kind}:${e.metadata.name}`)).toEqual(
      expect.arrayContaining([
        'Group:guests',
        'User:guest',
        'User:mallory',
        `Component:${INSTANCE}`,
      ]),
    );
  });

  it('signs the guest in as the catalog user guest, a member of guests', async () => {
    await expect(userInfo(backend.baseUrl, guestToken)).resolves.toMatchObject({
      sub: 'user:default/guest',
      ent: expect.arrayContaining(['group:default/guests']),
    });
  });

  it('signs mallory in through devUsers with her catalog groups, not the guests', async () => {
    const claims = await userInfo(backend.baseUrl, malloryToken);
    expect(claims.sub).toBe('user:default/mallory');
    expect(claims.ent).toEqual(
      expect.arrayContaining([
        'user:default/mallory',
        'group:default/intruders',
      ]),
    );
    expect(claims.ent).not.toContain('group:default/guests');
  });

  it('refuses devUsers sign-in as a user that is not listed', async () => {
    await expect(
      devUserToken(backend.baseUrl, 'user:default/guest'),
    ).rejects.toThrow(
      'Sign-in as user:default/guest failed: 400 Invalid user: received "user:default/guest". Accepted: one of user:default/mallory (auth.providers.devUsers.users)',
    );
  });

  it.each([mlflowInstanceUpdatePermission, mlflowInstanceDeletePermission])(
    'allows $name on the instance to its owner only',
    async permission => {
      await expect(
        authorize(guestToken, permission, INSTANCE_REF),
      ).resolves.toBe('ALLOW');
      await expect(
        authorize(malloryToken, permission, INSTANCE_REF),
      ).resolves.toBe('DENY');
    },
  );

  it('allows every signed-in user to create instances and read health', async () => {
    for (const token of [guestToken, malloryToken]) {
      await expect(
        authorize(token, mlflowInstanceCreatePermission),
      ).resolves.toBe('ALLOW');
      await expect(
        authorize(token, mlflowInstanceHealthReadPermission, INSTANCE_REF),
      ).resolves.toBe('ALLOW');
    }
  });
});
