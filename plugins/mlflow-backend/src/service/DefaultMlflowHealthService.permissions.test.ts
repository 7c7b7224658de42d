import { PermissionsService } from '@backstage/backend-plugin-api';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { mlflowEntity } from '../testUtils/healthFixtures';
import {
  createService,
  credentials,
  useHealthServiceFixture,
} from './__testUtils__/healthServiceFixtures';

describe('DefaultMlflowHealthService', () => {
  useHealthServiceFixture();

  describe('conditional permission decisions', () => {
    function conditionalPermissions(
      conditions: PolicyDecision,
      fallback:
        | AuthorizeResult.ALLOW
        | AuthorizeResult.DENY = AuthorizeResult.DENY,
    ): PermissionsService {
      // catalog.entity.read is allowed; the conditions are the health read's.
      return {
        authorizeConditional: async queries =>
          queries.map(({ permission }) =>
            permission.name === 'catalog.entity.read'
              ? { result: AuthorizeResult.ALLOW }
              : conditions,
          ),
        authorize: async requests => requests.map(() => ({ result: fallback })),
      } as PermissionsService;
    }

    const owned = (name: string, owner: string) => {
      const entity = mlflowEntity(name, {});
      entity.relations = [{ type: 'ownedBy', targetRef: owner }];
      return entity;
    };

    it("applies the catalog's conditions to the entities already read, with one policy call", async () => {
      const { service, authorize, authorizeConditional, getEntitiesByRefs } =
        createService({
          entities: [
            owned('mine', 'group:default/team-ml'),
            owned('theirs', 'group:default/others'),
          ],
          permissions: conditionalPermissions({
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'catalog',
            resourceType: 'catalog-entity',
            conditions: {
              rule: 'IS_ENTITY_OWNER',
              resourceType: 'catalog-entity',
              params: { claims: ['group:default/team-ml'] },
            },
          }),
        });
      const { items } = await service.getReports(
        ['component:default/mine', 'component:default/theirs'],
        { credentials },
      );
      expect(items.map(i => ('report' in i ? 'report' : i.error.name))).toEqual(
        ['report', 'NotAllowedError'],
      );
      expect(authorizeConditional).toHaveBeenCalledTimes(1);
      expect(getEntitiesByRefs).toHaveBeenCalledTimes(1);
      expect(authorize).not.toHaveBeenCalled();
    });

    it("applies the catalog's read conditions too: an entity the caller cannot see is not found", async () => {
      const ownedOnly: PolicyDecision = {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims: ['group:default/team-ml'] },
        },
      };
      const { service, authorize } = createService({
        entities: [
          owned('mine', 'group:default/team-ml'),
          owned('theirs', 'group:default/others'),
        ],
        permissions: {
          authorizeConditional: async queries =>
            queries.map(({ permission }) =>
              permission.name === 'catalog.entity.read'
                ? ownedOnly
                : { result: AuthorizeResult.ALLOW },
            ),
          authorize: async requests =>
            requests.map(() => ({ result: AuthorizeResult.DENY })),
        } as PermissionsService,
      });
      const { items } = await service.getReports(
        ['component:default/mine', 'component:default/theirs'],
        { credentials },
      );
      expect(items.map(i => ('report' in i ? 'report' : i.error.name))).toEqual(
        ['report', 'NotFoundError'],
      );
      expect(authorize).not.toHaveBeenCalled();
    });

    it('falls back to the framework for a rule it does not know', async () => {
      const { service, authorize } = createService({
        entities: [owned('mine', 'group:default/team-ml')],
        permissions: conditionalPermissions(
          {
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'catalog',
            resourceType: 'catalog-entity',
            conditions: {
              rule: 'HAS_CUSTOM_THING',
              resourceType: 'catalog-entity',
              params: {},
            },
          },
          AuthorizeResult.ALLOW,
        ),
      });
      const report = await service.getReport('component:default/mine', {
        credentials,
      });
      expect(report.entityRef).toBe('component:default/mine');
      expect(authorize).toHaveBeenCalledWith(
        [
          {
            permission: expect.objectContaining({
              name: 'mlflow.instance.health.read',
            }),
            resourceRef: 'component:default/mine',
          },
        ],
        { credentials },
      );
    });
  });
});
