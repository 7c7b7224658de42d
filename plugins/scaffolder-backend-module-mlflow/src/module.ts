import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import {
  AwsClientConfigFactory,
  MlflowClusters,
} from '@stateful-mlflow/plugin-mlflow-node';
import { createIamCreateRoleAction } from './actions/iamCreateRole';
import { createInstancePlanAction } from './actions/instancePlan';
import { createKubernetesDeployAction } from './actions/kubernetesDeploy';
import { createRdsCreateAction } from './actions/rdsCreate';
import { createS3CreateAction } from './actions/s3Create';
import { kubernetesApiFromClusters } from './kubernetes/kubernetesApi';

/** Registers the MLflow provisioning actions with the scaffolder. */
export const scaffolderModule = createBackendModule({
  moduleId: 'mlflow',
  pluginId: 'scaffolder',
  register({ registerInit }) {
    registerInit({
      deps: {
        scaffolderActions: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ scaffolderActions, config }) {
        const aws = AwsClientConfigFactory.fromConfig(config);
        const clusters = MlflowClusters.fromConfig(config);
        const kubernetes = kubernetesApiFromClusters(clusters);
        scaffolderActions.addActions(
          createInstancePlanAction({ clusters }),
          createS3CreateAction({ aws }),
          createRdsCreateAction({ aws }),
          createIamCreateRoleAction({ aws }),
          createKubernetesDeployAction({ kubernetes }),
        );
      },
    });
  },
});
