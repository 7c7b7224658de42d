import {
  coreServices,
  createBackendModule,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  AuthorizeResult,
  isPermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  mlflowInstanceCreatePermission,
  mlflowInstanceDeletePermission,
  mlflowInstanceHealthReadPermission,
  mlflowInstanceUpdatePermission,
} from '@stateful-mlflow/plugin-mlflow-common';

const ALLOW: PolicyDecision = { result: AuthorizeResult.ALLOW };
const DENY: PolicyDecision = { result: AuthorizeResult.DENY };

/**
 * The app's permission policy. MLflow instances: their owners (the user or one of the user's
 * groups) may update and delete them; every signed-in user may create instances and read health.
 * Everything else is allowed, as upstream's default, so the catalog, the templates and the guest
 * demo keep working.
 */
export class AppPermissionPolicy implements PermissionPolicy {
  constructor(private readonly userInfo: UserInfoService) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (
      isPermission(permission, mlflowInstanceUpdatePermission) ||
      isPermission(permission, mlflowInstanceDeletePermission)
    ) {
      if (!user) {
        return DENY;
      }
      const { ownershipEntityRefs } = await this.userInfo.getUserInfo(
        user.credentials,
      );
      return createCatalogConditionalDecision(
        permission,
        catalogConditions.isEntityOwner({ claims: ownershipEntityRefs }),
      );
    }
    if (
      isPermission(permission, mlflowInstanceCreatePermission) ||
      isPermission(permission, mlflowInstanceHealthReadPermission)
    ) {
      return user ? ALLOW : DENY;
    }
    return ALLOW;
  }
}

/** Installs {@link AppPermissionPolicy} as the permission backend's policy. */
export const permissionModuleAppPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'app-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        userInfo: coreServices.userInfo,
      },
      async init({ policy, userInfo }) {
        policy.setPolicy(new AppPermissionPolicy(userInfo));
      },
    });
  },
});
