import { AuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  nameRules,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import type { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeDecommission } from '../authorization/authorizeRun';
import {
  findInstanceEntities,
  InstanceCatalog,
  isInstanceEntity,
} from '../catalog/instanceEntities';
import { KubernetesApiProvider } from '../kubernetes/kubernetesApi';
import { waitFor } from '../util/waitFor';
import {
  clusterInput,
  nameInput,
  namespaceInput,
  timeoutSecondsInput,
} from './inputProperties';
import { examples } from './catalogRemoveInstance.examples';

/** Removes a decommissioned instance's entities from the catalog and waits until they are gone. */
export function createCatalogRemoveInstanceAction(options: {
  catalog: InstanceCatalog;
  auth: Pick<AuthService, 'getOwnServiceCredentials'>;
  clusters: Pick<MlflowClusters, 'get'>;
  kubernetes: KubernetesApiProvider;
  authorization: InstanceChangeAuthorizationDeps;
  pollIntervalMs?: number;
}) {
  return createTemplateAction({
    id: 'mlflow:catalog:removeInstance',
    description:
      'Removes a decommissioned MLflow instance from the catalog: its Component and the Resources emitted with it, once its Deployment is gone (so the MLflow catalog module does not emit them again); waits until the catalog no longer has them. Refuses while the Deployment exists.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        cluster: clusterInput,
        namespace: namespaceInput,
        timeoutSeconds: z => timeoutSecondsInput(z, 300),
      },
      output: {
        entityRef: z => z.string().describe('The Component the instance had.'),
        removedEntities: z =>
          z
            .array(z.string())
            .describe('Entities this run removed (empty on a rerun).'),
      },
    },
    async handler(ctx) {
      const name = validateName(nameRules.instanceName, 'name', ctx.input.name);
      const names = resolveInstanceNames({ ...ctx.input, name });
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        names.namespace,
      );
      const cluster = options.clusters.get(ctx.input.cluster, 'cluster').name;
      const { entityRef } = names;
      ctx.output('entityRef', entityRef);
      const service = await options.auth.getOwnServiceCredentials();

      const entities = await findInstanceEntities(
        options.catalog,
        entityRef,
        service,
      );
      const component = entities[0];
      if (component && !isInstanceEntity(component, { cluster, namespace })) {
        throw new InputError(
          `Invalid name: received "${name}", but ${entityRef} in the catalog is not the MLflow instance in namespace ${namespace} of cluster ${cluster}. Nothing was removed.`,
        );
      }
      await authorizeDecommission({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing: [],
        log: message => ctx.logger.info(message),
      });
      const refs = entities.map(e => stringifyEntityRef(e));
      if (entities.length === 0) {
        ctx.logger.info(`${entityRef} is not in the catalog`);
        ctx.output('removedEntities', []);
        return;
      }
      const api = options.kubernetes(cluster, { signal: ctx.signal });
      const deployment = await api.read({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: names.deploymentName,
        namespace,
      });
      if (deployment) {
        throw new InputError(
          `Deployment ${namespace}/${names.deploymentName} of MLflow instance "${name}" still exists on cluster ${cluster}, and the catalog would show the instance again from it. Run mlflow:kubernetes:delete first. Nothing was removed.`,
        );
      }
      ctx.logger.info(`Plan for the catalog: remove ${refs.join(', ')}`);
      if (ctx.isDryRun) {
        ctx.output('removedEntities', refs);
        return;
      }
      await ctx.checkpoint({
        key: `mlflow:catalog:${entityRef}:remove`,
        fn: async () => {
          // A refresh that listed the Deployment before it went can bring an entity back once.
          await waitFor({
            what: `${refs.join(', ')} to leave the catalog`,
            timeoutSeconds: ctx.input.timeoutSeconds,
            logger: ctx.logger,
            signal: ctx.signal,
            pollIntervalMs: options.pollIntervalMs ?? 2_000,
            check: async () => {
              const left = await findInstanceEntities(
                options.catalog,
                entityRef,
                service,
              );
              if (left.length === 0) {
                return { done: true, value: undefined };
              }
              for (const entity of left) {
                ctx.logger.info(
                  `Removing ${stringifyEntityRef(entity)} from the catalog`,
                );
                await options.catalog.removeEntityByUid(entity.metadata.uid!, {
                  credentials: service,
                });
              }
              return {
                done: false,
                status: `removed ${left.length} entity(ies); checking again`,
              };
            },
          });
        },
      });
      ctx.output('removedEntities', refs);
    },
  });
}
