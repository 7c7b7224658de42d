import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/types';
import {
  readStackAppConfig,
  readStackEnv,
  StackEnv,
} from '@internal/stack-env';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
} from '@kubernetes/client-node';
import {
  checkUntil,
  entity,
  run,
  stackHealthService,
} from './__testUtils__/stackHealthFixtures';

/*
 * Against the local real stack (stack/README.md): Deployments on the stack's kube-apiserver,
 * checked through the real service with the stack's Backstage config overlay.
 */

describe('DefaultMlflowHealthService against the local stack', () => {
  let env: StackEnv;
  let overlay: JsonObject;

  beforeAll(() => {
    env = readStackEnv();
    overlay = readStackAppConfig(env).data;
  });

  function serviceFor(entities: Entity[]) {
    return stackHealthService(overlay, entities);
  }

  it('sees a Deployment ready, then a stuck rollout, then scaled short', async () => {
    const namespace = `it-health-${run}`;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(env.kubeconfig);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const labels = {
      'app.kubernetes.io/name': 'mlflow',
      'app.kubernetes.io/instance': 'server',
    };
    const deployment: V1Deployment = {
      metadata: { name: 'mlflow', namespace, labels },
      spec: {
        replicas: 1,
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'mlflow',
                image: 'ghcr.io/mlflow/mlflow:v3.1.0',
                command: ['mlflow'],
                args: [
                  'server',
                  '--backend-store-uri',
                  'sqlite:///mlflow.db',
                  '--host',
                  '0.0.0.0',
                  '--port',
                  '5000',
                ],
                ports: [{ containerPort: 5000 }],
              },
            ],
          },
        },
      },
    };
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    try {
      await apps.createNamespacedDeployment({ namespace, body: deployment });
      const service = serviceFor([
        entity('server', {
          'mlflow.org/kubernetes-cluster': 'local',
          'backstage.io/kubernetes-id': 'server',
          'backstage.io/kubernetes-namespace': namespace,
        }),
      ]);
      const ready = await checkUntil(
        service,
        'server',
        'kubernetes',
        'the Deployment to be ready',
        result =>
          result.status === 'ok' &&
          result.details?.replicas.desired === 1 &&
          result.details.replicas.ready === 1,
      );
      expect(ready.details).toMatchObject({
        cluster: 'local',
        namespace,
        deployment: 'mlflow',
        replicas: { desired: 1, ready: 1 },
        image: 'ghcr.io/mlflow/mlflow:v3.1.0',
      });

      // A rollout whose new pod can never pass its readiness probe: the old replica keeps serving.
      const rollout = await apps.readNamespacedDeployment({
        name: 'mlflow',
        namespace,
      });
      rollout.spec!.template.spec!.containers[0].readinessProbe = {
        httpGet: { path: '/no-such-path', port: 5000 },
        periodSeconds: 1,
      };
      await apps.replaceNamespacedDeployment({
        name: 'mlflow',
        namespace,
        body: rollout,
      });
      // The controller counts the new replica as updated a moment after it creates it ("0 of 1
      // replicas updated; 1 unavailable" in between): the stuck state is the one after that.
      const stuckSummary = `Deployment ${namespace}/mlflow: 1 unavailable.`;
      const stuck = await checkUntil(
        service,
        'server',
        'kubernetes',
        'the rollout to get stuck with the new replica counted',
        result =>
          result.status === 'warning' &&
          result.summary === stuckSummary &&
          result.details?.replicas.ready === 1,
      );
      expect(stuck).toMatchObject({
        status: 'warning',
        summary: stuckSummary,
        details: { replicas: { desired: 1, ready: 1 } },
      });

      // Scaled to three while the rollout is stuck: the new pods of the new template never get ready.
      const scaled = await apps.readNamespacedDeployment({
        name: 'mlflow',
        namespace,
      });
      scaled.spec!.replicas = 3;
      await apps.replaceNamespacedDeployment({
        name: 'mlflow',
        namespace,
        body: scaled,
      });
      const short = await checkUntil(
        service,
        'server',
        'kubernetes',
        'the Deployment to fall short',
        result =>
          result.status === 'warning' &&
          result.details?.replicas.desired === 3 &&
          result.details.replicas.ready < 3 &&
          / of 3 replicas ready/.test(result.summary),
      );
      expect(short).toMatchObject({
        status: 'warning',
        summary: expect.stringMatching(/ of 3 replicas ready/),
      });
      expect(short.details!.replicas.ready).toBeLessThan(3);
    } finally {
      await core.deleteNamespace({ name: namespace }).catch(() => {});
    }
  }, 150_000);
});
