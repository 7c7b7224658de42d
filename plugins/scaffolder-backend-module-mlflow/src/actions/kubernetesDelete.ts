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
  readInstanceObjects,
  waitForObjectsGone,
} from '../kubernetes/instanceObjects';
import {
  describeRef,
  KubernetesApiProvider,
} from '../kubernetes/kubernetesApi';
import {
  clusterInput,
  nameInput,
  namespaceInput,
  timeoutSecondsInput,
} from './inputProperties';
import { examples } from './kubernetesDelete.examples';

/** Deletes every Kubernetes object of an MLflow instance, and its namespace when made for it. */
export function createKubernetesDeleteAction(options: {
  clusters: Pick<MlflowClusters, 'get'>;
  kubernetes: KubernetesApiProvider;
  authorization: InstanceChangeAuthorizationDeps;
  pollIntervalMs?: number;
}) {
  return createTemplateAction({
    id: 'mlflow:kubernetes:delete',
    description:
      "Deletes an MLflow instance's Kubernetes objects (those labelled for it: Deployment first, then Jobs, Ingress, Service, PodDisruptionBudget, NetworkPolicy, ConfigMap, RBAC, ServiceAccount, Secrets) and its namespace when the namespace was created for it; waits until they are gone. Objects without the instance's labels are never touched.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        cluster: clusterInput,
        namespace: namespaceInput,
        timeoutSeconds: z => timeoutSecondsInput(z, 600),
      },
      output: {
        namespace: z => z.string().describe('Namespace of the instance.'),
        deletedObjects: z =>
          z
            .number()
            .describe(
              'How many labelled objects this run deleted (0 on a rerun).',
            ),
        namespaceDeleted: z =>
          z
            .boolean()
            .describe(
              'Whether this run deleted the namespace (made for the instance).',
            ),
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
      const api = options.kubernetes(cluster, { signal: ctx.signal });

      ctx.logger.info(
        `Reading the objects of MLflow instance ${name} in namespace ${namespace} on cluster ${cluster}`,
      );
      const state = await readInstanceObjects({ api, name, namespace });
      await authorizeDecommission({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing: state.existing,
        log: message => ctx.logger.info(message),
      });
      const deleteNamespace = state.namespaceOurs;
      let namespacePlan = '';
      if (deleteNamespace) {
        namespacePlan = `, then namespace ${namespace} (created for the instance)`;
      } else if (state.namespaceForeign) {
        namespacePlan = `; namespace ${namespace} stays (not created for the instance)`;
      }
      if (state.objects.length === 0 && !deleteNamespace) {
        ctx.logger.info(
          `Nothing of MLflow instance ${name} is left on cluster ${cluster}`,
        );
      } else {
        ctx.logger.info(
          `Plan for cluster ${cluster}: delete ${
            state.objects.map(describeRef).join(', ') || 'no labelled object'
          }${namespacePlan}`,
        );
      }
      ctx.output('namespace', namespace);
      if (ctx.isDryRun) {
        ctx.output('deletedObjects', state.objects.length);
        ctx.output('namespaceDeleted', deleteNamespace);
        return;
      }

      for (const ref of state.objects) {
        await ctx.checkpoint({
          key: `mlflow:k8s:${cluster}:${namespace}:delete:${ref.kind}:${ref.name}`,
          fn: async () => {
            ctx.logger.info(`Deleting ${describeRef(ref)}`);
            // Foreground for the Deployment: its pods go before what they use.
            await api.delete(ref, {
              propagationPolicy:
                ref.kind === 'Deployment' ? 'Foreground' : 'Background',
            });
          },
        });
      }
      if (deleteNamespace) {
        await ctx.checkpoint({
          key: `mlflow:k8s:${cluster}:${namespace}:delete:Namespace`,
          fn: async () => {
            ctx.logger.info(`Deleting namespace ${namespace}`);
            await api.delete(
              { apiVersion: 'v1', kind: 'Namespace', name: namespace },
              { propagationPolicy: 'Background' },
            );
          },
        });
      }
      await waitForObjectsGone({
        api,
        objects: state.objects,
        namespace: deleteNamespace ? namespace : undefined,
        timeoutSeconds: ctx.input.timeoutSeconds,
        logger: ctx.logger,
        signal: ctx.signal,
        pollIntervalMs: options.pollIntervalMs ?? 2_000,
      });
      ctx.output('deletedObjects', state.objects.length);
      ctx.output('namespaceDeleted', deleteNamespace);
    },
  });
}
