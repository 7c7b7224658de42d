import {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';
import {
  AuthorizeResult,
  PolicyDecision,
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

/**
 * Decides `mlflow.instance.health.read` for entities the caller has already read from the
 * catalog. The policy is asked once per batch (`authorizeConditional`, which can run while the
 * entities are read); a conditional answer is applied to the entities in hand with the catalog's
 * own rules. Only a condition on a rule this plugin does not know (one another plugin added to
 * the catalog) falls back to the framework's per-resource decision.
 */
export class HealthReadAuthorizer {
  constructor(private readonly permissions: PermissionsService) {}

  /** The policy's decision for the caller, for {@link HealthReadAuthorizer.allowed}. */
  async decide(credentials: BackstageCredentials): Promise<PolicyDecision> {
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission: mlflowInstanceHealthReadPermission }],
      { credentials },
    );
    return decision;
  }

  /** Whether each entity (by ref) may have its health read, in the order given. */
  async allowed(
    decision: PolicyDecision,
    items: Array<{ ref: string; entity: Entity }>,
    credentials: BackstageCredentials,
  ): Promise<boolean[]> {
    if (decision.result !== AuthorizeResult.CONDITIONAL) {
      return items.map(() => decision.result === AuthorizeResult.ALLOW);
    }
    const local = items.map(({ entity }) => {
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
    });
    const unresolved = items.filter((_, i) => local[i] === undefined);
    if (unresolved.length === 0) {
      return local as boolean[];
    }
    const answers = await this.permissions.authorize(
      unresolved.map(({ ref }) => ({
        permission: mlflowInstanceHealthReadPermission,
        resourceRef: ref,
      })),
      { credentials },
    );
    let next = 0;
    return local.map(
      result => result ?? answers[next++].result === AuthorizeResult.ALLOW,
    );
  }
}
