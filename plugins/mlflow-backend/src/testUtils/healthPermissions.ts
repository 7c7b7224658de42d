import {
  coreServices,
  createServiceFactory,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  AuthorizeResult,
  Permission,
} from '@backstage/plugin-permission-common';

type Decision = AuthorizeResult.ALLOW | AuthorizeResult.DENY;

/**
 * A policy for tests: `mlflow.instance.health.read` answered with `healthRead`,
 * `catalog.entity.read` with `catalogRead`, everything else allowed.
 */
export function healthPermissions(
  healthRead: Decision,
  catalogRead: Decision = AuthorizeResult.ALLOW,
): PermissionsService {
  const decide = (permission: Permission) => {
    if (permission.name === 'mlflow.instance.health.read') {
      return { result: healthRead };
    }
    if (permission.name === 'catalog.entity.read') {
      return { result: catalogRead };
    }
    return { result: AuthorizeResult.ALLOW };
  };
  return {
    authorizeConditional: async queries =>
      queries.map(({ permission }) => decide(permission)),
    authorize: async requests =>
      requests.map(({ permission }) => decide(permission)),
  } as PermissionsService;
}

/** {@link healthPermissions} as the backend's permissions service. */
healthPermissions.factory = (healthRead: Decision, catalogRead?: Decision) =>
  createServiceFactory({
    service: coreServices.permissions,
    deps: {},
    factory: () => healthPermissions(healthRead, catalogRead),
  });
