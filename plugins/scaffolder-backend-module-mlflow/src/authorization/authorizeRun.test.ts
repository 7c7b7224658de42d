import { mockCredentials } from '@backstage/backend-test-utils';
import { fakeAuthorization } from '../__testUtils__/tenancy';
import { authorizeRun } from './authorizeRun';

const GUESTS_DEMO = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'demo', namespace: 'default' },
  spec: { type: 'service', owner: 'group:default/guests' },
};

describe('authorizeRun', () => {
  const log = jest.fn();

  it('lets a new instance default its owner to the initiator', async () => {
    const result = await authorizeRun({
      deps: fakeAuthorization(),
      credentials: mockCredentials.user('user:default/alice'),
      name: 'fresh',
      existing: [],
      log,
    });
    expect(result).toEqual({ owner: 'user:default/alice' });
  });

  it("keeps the entity's owner on a rerun without an owner, and records a requested one in full form", async () => {
    const deps = fakeAuthorization({
      entities: [GUESTS_DEMO],
      ownership: { 'user:default/guest': ['group:default/guests'] },
    });
    const credentials = mockCredentials.user('user:default/guest');
    const existing = [{ resource: 'bucket b', owner: 'group:default/guests' }];
    expect(
      await authorizeRun({ deps, credentials, name: 'demo', existing, log }),
    ).toEqual({ owner: 'group:default/guests' });
    expect(
      await authorizeRun({
        deps,
        credentials,
        name: 'demo',
        requestedOwner: 'Team-B',
        existing,
        log,
      }),
    ).toEqual({ owner: 'group:default/team-b' });
  });

  it('checks every owner recorded on resources that disagree', async () => {
    const deps = fakeAuthorization({
      ownership: { 'user:default/guest': ['group:default/guests'] },
    });
    await expect(
      authorizeRun({
        deps,
        credentials: mockCredentials.user('user:default/guest'),
        name: 'demo',
        existing: [
          { resource: 'bucket b', owner: 'group:default/guests' },
          { resource: 'IAM role r', owner: 'group:default/other' },
        ],
        log,
      }),
    ).rejects.toThrow(
      /owned by group:default\/other: user:default\/guest is not a member of group:default\/other/,
    );
  });

  it('refuses a rerun on resources that record no owner before the entity exists', async () => {
    await expect(
      authorizeRun({
        deps: fakeAuthorization(),
        credentials: mockCredentials.user('user:default/guest'),
        name: 'demo',
        existing: [{ resource: 'bucket b' }],
        log,
      }),
    ).rejects.toThrow(/record no owner and it has no catalog entity/);
  });

  it('refuses an owner that is not an entity reference, naming the field', async () => {
    await expect(
      authorizeRun({
        deps: fakeAuthorization(),
        credentials: mockCredentials.user('user:default/guest'),
        name: 'demo',
        requestedOwner: 'group:default/',
        existing: [],
        log,
      }),
    ).rejects.toThrow('Invalid owner: received "group:default/"');
  });
});
