import { InputError } from '@backstage/errors';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { loadStack, uniqueSuffix } from '../__testUtils__/stack';
import { createKubernetesDeployAction } from '../actions/kubernetesDeploy';
import { withInputDefaults } from '../actions/withInputDefaults';
import { DeployInput, validateDeployInput } from './deployInput';
import { DRY_RUN_STAND_IN_NAMESPACE, dryRunManifests } from './dryRunManifests';
import {
  describeRef,
  kubernetesApiFromClusters,
  MlflowKubernetesApi,
  refOf,
} from './kubernetesApi';
import {
  manifestsInApplyOrder,
  renderMlflowManifests,
} from './renderMlflowManifests';
import { testTenancy } from '../__testUtils__/tenancy';

jest.setTimeout(120_000);

const name = `dry-${uniqueSuffix()}`;
const names = resolveInstanceNames({ name });
/** Every input spelled out, so the test renders exactly what the action sends. */
const input: DeployInput = {
  name,
  cluster: 'local',
  image: 'ghcr.io/acme/mlflow-server:3.17.2',
  hostname: `${name}.mlflow.localhost`,
  environment: 'dev',
  replicas: 1,
  workers: 1,
  artifactsDestination: names.artifactRoot,
  allowEphemeralStorage: false,
  allowAnonymousAccess: false,
  dbMaxConnections: 100,
  cpuRequest: '250m',
  memoryRequest: '512Mi',
  memoryLimit: '1Gi',
  proxyBodySize: '5g',
  proxyTimeoutSeconds: 600,
  ingressControllerNamespace: 'ingress-nginx',
  allowedClientNamespaces: [],
  extraEnv: {},
  runAsUser: 1000,
  timeoutSeconds: 120,
};
const { manifestOptions } = validateDeployInput(input);

describe('dry-run of a brand-new instance on the local stack', () => {
  let kube: MlflowKubernetesApi;

  beforeAll(() => {
    kube = kubernetesApiFromClusters(
      MlflowClusters.fromConfig(loadStack().config),
    )('local');
  });

  it('has the API server accept every object although the namespace does not exist, and creates nothing', async () => {
    const action = withInputDefaults(
      createKubernetesDeployAction({
        kubernetes: () => kube,
        ...testTenancy(),
      }),
    );
    const { ctx, logs } = createCheckpointingContext(action, {
      input: { ...input },
      isDryRun: true,
    });
    await action.handler(ctx);

    // A brand-new instance: no server runs, so its Job migrates both databases side by side.
    const objects = manifestsInApplyOrder(
      renderMlflowManifests({ ...manifestOptions, migrationsSideBySide: true }),
    );
    const accepted = logs
      .map(l => l.message)
      .filter(m => m.startsWith('Dry-run: the cluster accepts'));
    expect(accepted).toEqual(
      objects.map(
        o =>
          `Dry-run: the cluster accepts ${describeRef(refOf(o))}${
            o.kind === 'Namespace'
              ? ''
              : ` (checked as a new object in namespace ${DRY_RUN_STAND_IN_NAMESPACE}, as ${names.namespace} does not exist yet)`
          }`,
      ),
    );
    // Nothing was created, neither in the new namespace nor in the stand-in one.
    const refs = objects.map(refOf);
    const standIns = refs
      .filter(ref => ref.namespace)
      .map(ref => ({ ...ref, namespace: DRY_RUN_STAND_IN_NAMESPACE }));
    const found = await Promise.all(
      [...refs, ...standIns].map(ref => kube.read(ref)),
    );
    expect(found.filter(Boolean)).toEqual([]);
  });

  it("shows the API server's refusal of an Ingress whose host is an IP address", async () => {
    // The action's own rule refuses this host first; here the renderer's output goes straight to
    // the cluster to show that its verdict agrees.
    const manifests = renderMlflowManifests({
      ...manifestOptions,
      hostname: '169.254.169.254',
    });
    const lines: string[] = [];
    const error = await dryRunManifests({
      api: kube,
      cluster: 'local',
      objects: manifestsInApplyOrder(manifests),
      namespaceExists: false,
      log: l => lines.push(l),
    }).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      new RegExp(
        `refused 1 of 9 objects in dry-run: Ingress ${names.namespace}/${name} \\(.*must be a DNS name, not an IP address`,
      ),
    );
    expect(
      lines.filter(l => l.startsWith('Dry-run: the cluster accepts')),
    ).toHaveLength(8);
  });
});
