import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import {
  AwsClientConfigFactory,
  MlflowClusters,
  MlflowInstanceIdentityKeys,
} from '@stateful-mlflow/plugin-mlflow-node';
import { DatabaseConnectionOverride } from './database/databasePlan';
import {
  createCatalogRemoveInstanceAction,
  createDatabaseCreateAction,
  createIamCreateRoleAction,
  createIamDeleteRoleAction,
  createInstanceCheckHealthAction,
  createInstanceDecommissionPlanAction,
  createInstancePlanAction,
  createInstanceUpgradePlanAction,
  createKubernetesDeleteAction,
  createKubernetesDeployAction,
  createRdsCreateAction,
  createRdsDeleteAction,
  createRdsModifyAction,
  createRdsSnapshotAction,
  createS3CreateAction,
  createS3RetireAction,
} from './actionFactories';
import { withInputDefaults } from './actions/withInputDefaults';
import { ProvisioningGuardRails } from './guardRails/ProvisioningGuardRails';
import { SslMode } from './database/postgresConnection';
import { kubernetesApiFromClusters } from './kubernetes/kubernetesApi';
import {
  readDatabaseCaBundle,
  readHealthSecretReader,
  readRdsPollIntervalMs,
} from './moduleConfig';

function readConnectionOverride(
  config: Config,
): DatabaseConnectionOverride | undefined {
  const override = config.getOptionalConfig(
    'mlflow.database.connectionOverride',
  );
  if (!override) {
    return undefined;
  }
  const sslMode = override.getOptionalString('sslMode') ?? 'disable';
  if (!['disable', 'require', 'verify-full'].includes(sslMode)) {
    throw new Error(
      `Invalid mlflow.database.connectionOverride.sslMode: received ${JSON.stringify(
        sslMode,
      )}. Accepted: disable, require, verify-full.`,
    );
  }
  return {
    host: override.getString('host'),
    port: override.getNumber('port'),
    sslMode: sslMode as SslMode,
  };
}

/**
 * Registers the MLflow provisioning actions with the scaffolder.
 *
 * @public
 */
export const scaffolderModule = createBackendModule({
  moduleId: 'mlflow',
  pluginId: 'scaffolder',
  register({ registerInit }) {
    registerInit({
      deps: {
        scaffolderActions: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
        permissions: coreServices.permissions,
        userInfo: coreServices.userInfo,
        auth: coreServices.auth,
      },
      async init({
        scaffolderActions,
        config,
        catalog,
        permissions,
        userInfo,
        auth,
      }) {
        const aws = AwsClientConfigFactory.fromConfig(config);
        const clusters = MlflowClusters.fromConfig(config);
        const kubernetes = kubernetesApiFromClusters(clusters);
        const authorization = { catalog, permissions, userInfo };
        const guardRails = ProvisioningGuardRails.fromConfig(config);
        const identityKeys = MlflowInstanceIdentityKeys.fromConfig(config);
        const rdsPollIntervalMs = readRdsPollIntervalMs(config);
        // The scaffolder checks inputs against the schema but does not apply its defaults.
        scaffolderActions.addActions(
          withInputDefaults(
            createInstancePlanAction({
              clusters,
              kubernetes,
              authorization,
              guardRails,
            }),
          ),
          withInputDefaults(createS3CreateAction({ aws, authorization })),
          withInputDefaults(
            createRdsCreateAction({
              aws,
              authorization,
              pollIntervalMs: rdsPollIntervalMs,
            }),
          ),
          withInputDefaults(
            createDatabaseCreateAction({
              aws,
              kubernetes,
              authorization,
              guardRails,
              pollIntervalMs: rdsPollIntervalMs,
              connectionOverride: readConnectionOverride(config),
              caBundle: readDatabaseCaBundle(config),
            }),
          ),
          withInputDefaults(
            createIamCreateRoleAction({ aws, authorization, guardRails }),
          ),
          withInputDefaults(
            createKubernetesDeployAction({
              kubernetes,
              authorization,
              guardRails,
              identityKeys,
              healthSecretReader: readHealthSecretReader(config),
            }),
          ),
          withInputDefaults(
            createInstanceDecommissionPlanAction({
              aws,
              clusters,
              kubernetes,
              authorization,
            }),
          ),
          withInputDefaults(
            createKubernetesDeleteAction({
              clusters,
              kubernetes,
              authorization,
            }),
          ),
          withInputDefaults(
            createRdsDeleteAction({
              aws,
              authorization,
              pollIntervalMs: rdsPollIntervalMs,
            }),
          ),
          withInputDefaults(
            createRdsSnapshotAction({
              aws,
              authorization,
              pollIntervalMs: rdsPollIntervalMs,
            }),
          ),
          withInputDefaults(
            createRdsModifyAction({
              aws,
              authorization,
              pollIntervalMs: rdsPollIntervalMs,
            }),
          ),
          withInputDefaults(
            createInstanceUpgradePlanAction({
              clusters,
              kubernetes,
              authorization,
              guardRails,
              aws,
            }),
          ),
          withInputDefaults(
            createInstanceCheckHealthAction({ clusters, kubernetes }),
          ),
          withInputDefaults(createIamDeleteRoleAction({ aws, authorization })),
          withInputDefaults(createS3RetireAction({ aws, authorization })),
          withInputDefaults(
            createCatalogRemoveInstanceAction({
              catalog,
              auth,
              clusters,
              kubernetes,
              authorization,
            }),
          ),
        );
      },
    });
  },
});
