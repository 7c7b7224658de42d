import {
  BackstageCredentials,
  BackstageUserPrincipal,
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

/**
 * How long the policy's answers for one caller are reused. They depend on the caller's token and
 * the policy, not on the entity (conditions are applied to each entity afresh), so a page that asks
 * for many reports, or a fleet view's parallel batches, costs one policy call.
 */
const DECISION_TTL_MS = 10_000;

/** Most callers whose answers are kept; the oldest is dropped first. */
const MAX_CALLERS = 10_000;

/** The key of a user caller's token; undefined for a service, whose answers are made in process. */
function callerKey(credentials: BackstageCredentials): string | undefined {
  const principal = credentials.principal as Partial<BackstageUserPrincipal>;
  if (principal.type !== 'user' || !principal.userEntityRef) {
    return undefined;
  }
  return JSON.stringify([
    principal.userEntityRef,
    principal.actor?.subject ?? null,
    credentials.expiresAt?.getTime() ?? null,
  ]);
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
 * to the catalog) falls back to the framework's per-resource decision, in one more call. A user's
 * answers are reused for a few seconds ({@link HealthReadAuthorizer.decide}).
 */
export class HealthReadAuthorizer {
  private readonly kept = new Map<
    string,
    { decisions: Promise<PolicyDecision[]>; expiresAt: number }
  >();

  constructor(
    private readonly permissions: PermissionsService,
    private readonly decisionTtlMs = DECISION_TTL_MS,
  ) {}

  /**
   * The policy's decisions for the caller, for {@link HealthReadAuthorizer.access}: one policy
   * call per user token and `decisionTtlMs` (never past the token's expiry), shared by the
   * requests that ask meanwhile.
   */
  decide(credentials: BackstageCredentials): Promise<PolicyDecision[]> {
    const key = this.decisionTtlMs > 0 ? callerKey(credentials) : undefined;
    const now = Date.now();
    const kept = key === undefined ? undefined : this.kept.get(key);
    if (kept && kept.expiresAt > now) {
      return kept.decisions;
    }
    const decisions = this.permissions.authorizeConditional(
      PERMISSIONS.map(permission => ({ permission })),
      { credentials },
    );
    if (key !== undefined) {
      const entry = {
        decisions,
        expiresAt: Math.min(
          now + this.decisionTtlMs,
          credentials.expiresAt?.getTime() ?? Infinity,
        ),
      };
      this.kept.delete(key);
      this.kept.set(key, entry);
      if (this.kept.size > MAX_CALLERS) {
        this.kept.delete(this.kept.keys().next().value!);
      }
      // A failed call is not kept: the next request asks again.
      decisions.catch(() => {
        if (this.kept.get(key) === entry) {
          this.kept.delete(key);
        }
      });
    }
    return decisions;
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
