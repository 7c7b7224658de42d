import {
  BackstageCredentials,
  PermissionsService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  DEFAULT_NAMESPACE,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError, NotAllowedError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  mlflowInstanceCreatePermission,
  mlflowInstanceDeletePermission,
  mlflowInstanceUpdatePermission,
} from '@stateful-mlflow/plugin-mlflow-common';

/**
 * The services the check asks; of the catalog, only the entity lookup.
 *
 * @public
 */
export type InstanceChangeAuthorizationDeps = {
  permissions: PermissionsService;
  catalog: Pick<CatalogService, 'getEntityByRef'>;
  userInfo: UserInfoService;
};

/** The change a run is about to make, as far as the check needs it. */
export type InstanceChange = {
  /** The instance's name (`demo`); its catalog entity is `component:<entityNamespace>/<name>`. */
  name: string;
  /** Catalog namespace of the instance's entity; `default` when not given. */
  entityNamespace?: string;
  /** The owner the run asks for (`group:default/team-a`). */
  owner: string;
  /** Whether any resource of the instance exists already. */
  exists: boolean;
  /** The owner recorded on the instance's existing resources, when they record one. */
  recordedOwner?: string;
  /** `delete`: a decommission, decided by `mlflow.instance.delete` instead of update; never a creation. */
  action?: 'change' | 'delete';
};

/** What the check allowed, for the action's log. */
export type InstanceChangeDecision = {
  /** `create`: a new instance; `update`: a change of an existing one. */
  kind: 'create' | 'update';
  entityRef: string;
  initiator: string;
  /** The owner the change was checked against (the entity's, else the recorded one). */
  currentOwner?: string;
  /** What decided an update: the policy on the entity, or membership of the recorded owner. */
  decidedBy?: 'entity' | 'recordedOwner';
};

/** Owners are written `team-a`, `group:team-a` or `group:default/team-a`; compared in full form. */
function normalizeOwnerRef(ref: string, field: string): string {
  try {
    return stringifyEntityRef(
      parseEntityRef(ref, {
        defaultKind: 'group',
        defaultNamespace: DEFAULT_NAMESPACE,
      }),
    ).toLocaleLowerCase('en-US');
  } catch {
    throw new InputError(
      `Invalid ${field}: received ${JSON.stringify(
        ref,
      )}. Accepted: an entity reference such as group:default/team-a.`,
    );
  }
}

type Principal = { type?: string; userEntityRef?: string; subject?: string };

/** The principal's kind and name; credentials type it as unknown. */
function principalOf(credentials: BackstageCredentials): Principal {
  const principal = credentials.principal;
  return typeof principal === 'object' && principal !== null
    ? (principal as Principal)
    : {};
}

function describeInitiator(principal: Principal): string {
  if (principal.type === 'user' && principal.userEntityRef) {
    return principal.userEntityRef;
  }
  if (principal.type === 'service' && principal.subject) {
    return principal.subject;
  }
  return 'an unauthenticated caller';
}

function transferNote(requestedOwner: string, currentOwner: string): string {
  return requestedOwner === currentOwner
    ? ''
    : ` (nor transfer it to ${requestedOwner})`;
}

async function isAllowed(
  permissions: PermissionsService,
  credentials: BackstageCredentials,
  request:
    | { permission: BasicPermission }
    | { permission: ResourcePermission<'catalog-entity'>; resourceRef: string },
): Promise<boolean> {
  const [decision] = await permissions.authorize([request], { credentials });
  return decision.result === AuthorizeResult.ALLOW;
}

/**
 * Decides whether the task's initiator may make the given change to an MLflow instance; throws
 * NotAllowedError naming the instance and its owner otherwise. Call it before the first call that
 * changes anything, in dry-run too.
 *
 * - A new instance needs `mlflow.instance.create`.
 * - Once the instance has a catalog entity, any run on that name (a rerun, a new owner, or a
 *   re-creation after its resources were deleted) needs `mlflow.instance.update` on the entity,
 *   so the policy's owner rules decide.
 * - An instance whose resources exist but whose entity does not (yet) is changed only by members
 *   of the owner recorded on its resources; a changed owner is covered by the same check.
 */
export async function authorizeInstanceChange(
  deps: InstanceChangeAuthorizationDeps,
  credentials: BackstageCredentials,
  change: InstanceChange,
): Promise<InstanceChangeDecision> {
  const { permissions, catalog, userInfo } = deps;
  const requestedOwner = normalizeOwnerRef(change.owner, 'owner');
  const recordedOwner =
    change.recordedOwner === undefined
      ? undefined
      : normalizeOwnerRef(change.recordedOwner, 'recordedOwner');
  const entityRef = stringifyEntityRef({
    kind: 'component',
    namespace: change.entityNamespace ?? DEFAULT_NAMESPACE,
    name: change.name,
  });
  const principal = principalOf(credentials);
  const initiator = describeInitiator(principal);
  const instance = `MLflow instance "${change.name}" (${entityRef})`;
  const deleting = change.action === 'delete';
  const permission = deleting
    ? mlflowInstanceDeletePermission
    : mlflowInstanceUpdatePermission;
  const verb = deleting ? 'decommission' : 'change';

  if (
    !deleting &&
    !change.exists &&
    !(await isAllowed(permissions, credentials, {
      permission: mlflowInstanceCreatePermission,
    }))
  ) {
    throw new NotAllowedError(
      `${initiator} may not create ${instance} for owner ${requestedOwner}: the permission policy denies ${mlflowInstanceCreatePermission.name}`,
    );
  }

  // Read with the initiator's own credentials: the check never sees more than they may.
  const entity = await catalog.getEntityByRef(entityRef, { credentials });
  if (entity) {
    const entityOwner =
      typeof entity.spec?.owner === 'string'
        ? normalizeOwnerRef(entity.spec.owner, `${entityRef} spec.owner`)
        : 'no owner';
    if (
      await isAllowed(permissions, credentials, {
        permission,
        resourceRef: entityRef,
      })
    ) {
      return {
        kind: change.exists ? 'update' : 'create',
        entityRef,
        initiator,
        currentOwner: entityOwner,
        decidedBy: 'entity',
      };
    }
    // The catalog drops the entity when its Deployment is deleted (a redeploy), possibly between
    // the read above and the policy's own read of it, which then denies for want of an entity.
    // Gone by now, the instance is decided as one without an entity, below.
    if (await catalog.getEntityByRef(entityRef, { credentials })) {
      throw new NotAllowedError(
        `${initiator} may not ${verb} ${instance}, owned by ${entityOwner}${
          deleting ? '' : transferNote(requestedOwner, entityOwner)
        }: the permission policy denies ${permission.name} on it`,
      );
    }
  }
  if (!change.exists) {
    return { kind: 'create', entityRef, initiator };
  }

  // Resources exist, no entity yet: only members of the recorded owner (or a trusted service).
  if (recordedOwner === undefined) {
    throw new NotAllowedError(
      `${initiator} may not ${verb} ${instance}: its resources exist but record no owner and it has no catalog entity, so nobody can be shown to own it`,
    );
  }
  if (principal.type !== 'service') {
    const memberships =
      principal.type === 'user'
        ? (await userInfo.getUserInfo(credentials)).ownershipEntityRefs.map(
            ref => ref.toLocaleLowerCase('en-US'),
          )
        : [];
    if (!memberships.includes(recordedOwner)) {
      throw new NotAllowedError(
        `${initiator} may not ${verb} ${instance}, owned by ${recordedOwner}${
          deleting ? '' : transferNote(requestedOwner, recordedOwner)
        }: ${initiator} is not a member of ${recordedOwner}`,
      );
    }
  }
  return {
    kind: 'update',
    entityRef,
    initiator,
    currentOwner: recordedOwner,
    decidedBy: 'recordedOwner',
  };
}
