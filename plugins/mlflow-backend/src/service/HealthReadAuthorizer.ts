import {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  PolicyDecision,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  PermissionRule,
  PermissionRuleset,
} from '@backstage/plugin-permission-node';
import { mlflowInstanceHealthReadPermission } from '@stateful-mlflow/plugin-mlflow-common';

/** A condition on a rule this plugin does not know. */
class UnknownRuleError extends Error {
  name = 'UnknownRuleError';
}

const catalogRules: ReadonlyMap<
  string,
  PermissionRule<Entity, unknown, 'catalog-entity'>
> = new Map(Object.values(permissionRules).map(rule => [rule.name, rule]));

/** A decision for every entity of a batch: one policy call, conditions applied in process. */
const ruleset: PermissionRuleset<Entity, unknown, 'catalog-entity'> = {
  getRuleByName(name: string) {
    const rule = catalogRules.get(name);
    if (!rule) {
      throw new UnknownRuleError(name);
    }
    return rule;
  },
};
const applyConditions = createConditionAuthorizer(ruleset);

/** Seeing the entity in the catalog, then reading its health: both asked in one policy call. */
const PERMISSIONS: ResourcePermission<'catalog-entity'>[] = [
  catalogEntityReadPermission,
  mlflowInstanceHealthReadPermission,
];

/** The decision on one entity; undefined when only the framework can apply the condition. */
function decideLocally(
  decision: PolicyDecision,
  entity: Entity,
): boolean | undefined {
  if (decision.result !== AuthorizeResult.CONDITIONAL) {
    return decision.result === AuthorizeResult.ALLOW;
  }
  if (decision.resourceType !== 'catalog-entity') {
    return undefined;
  }
  try {
    return applyConditions(decision, entity);
  } catch (error) {
    if (error instanceof UnknownRuleError) {
      return undefined;
    }
    throw error;
  }
}

/** What the caller may know of an entity: nothing (not found), that it exists, or its health. */
export type HealthAccess = 'hidden' | 'denied' | 'allowed';

/**
 * Decides, for entities the plugin has read from the catalog itself, what the caller may know of
 * each: `catalog.entity.read` (the catalog's own visibility rule) and
 * `mlflow.instance.health.read`. The policy is asked once per batch for both
 * (`authorizeConditional`, which can run while the entities are read); conditional answers are
 * applied to the entities in hand with the catalog's own rules, as the catalog applies them to a
 * single resource. Only a condition on a rule this plugin does not know (one another plugin added
 * to the catalog) falls back to the framework's per-resource decision, in one more call.
 */
export class HealthReadAuthorizer {
  constructor(private readonly permissions: PermissionsService) {}

  /** The policy's decisions for the caller, for {@link HealthReadAuthorizer.access}. */
  decide(credentials: BackstageCredentials): Promise<PolicyDecision[]> {
    return this.permissions.authorizeConditional(
      PERMISSIONS.map(permission => ({ permission })),
      { credentials },
    );
  }

  /** What the caller may know of each entity (by ref), in the order given. */
  async access(
    decisions: PolicyDecision[],
    items: Array<{ ref: string; entity: Entity }>,
    credentials: BackstageCredentials,
  ): Promise<HealthAccess[]> {
    const local = decisions.map(decision =>
      items.map(({ entity }) => decideLocally(decision, entity)),
    );
    const unresolved = PERMISSIONS.flatMap((permission, p) =>
      items.flatMap(({ ref }, i) =>
        local[p][i] === undefined ? [{ p, i, permission, ref }] : [],
      ),
    );
    if (unresolved.length > 0) {
      const answers = await this.permissions.authorize(
        unresolved.map(({ permission, ref }) => ({
          permission,
          resourceRef: ref,
        })),
        { credentials },
      );
      unresolved.forEach(({ p, i }, n) => {
        local[p][i] = answers[n].result === AuthorizeResult.ALLOW;
      });
    }
    const [canSee, canRead] = local;
    return items.map((_, i) => {
      if (!canSee[i]) {
        return 'hidden';
      }
      return canRead[i] ? 'allowed' : 'denied';
    });
  }
}
