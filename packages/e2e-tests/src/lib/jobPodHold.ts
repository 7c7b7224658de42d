import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  KubeConfig,
  V1Pod,
} from '@kubernetes/client-node';

/** The label the Job controller puts on every pod it creates. */
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/** A hold on Job pods in one namespace: released by `release()`, idempotent. */
export type JobPodHold = {
  release(): Promise<void>;
};

async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if ((error as { code?: number }).code !== 404) {
      throw error;
    }
  }
}

/**
 * Keeps the Job controller from creating any pod in `namespace` (which need not exist yet) until
 * released: a ValidatingAdmissionPolicy denies pods carrying the Job controller's label there, so a
 * Job in that namespace stays active with no pod, and whoever waits on it keeps waiting, for as
 * long as the test needs. Returns once the apiserver enforces the policy (a dry-run pod in
 * `default` carrying this hold's probe label is refused), so nothing races its loading.
 * After `release()` the Job controller creates the pod on its next retry (backoff up to a minute).
 */
export async function holdJobPods(
  kc: KubeConfig,
  namespace: string,
  { timeoutMs = 60_000 } = {},
): Promise<JobPodHold> {
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const name = `e2e-hold-job-pods-${namespace}`.slice(0, 63).replace(/-$/, '');
  const probeLabel = 'e2e.stateful-mlflow/hold-probe';
  const probeValue = name;
  const release = async () => {
    await ignoreNotFound(() =>
      admission.deleteValidatingAdmissionPolicyBinding({ name }),
    );
    await ignoreNotFound(() =>
      admission.deleteValidatingAdmissionPolicy({ name }),
    );
  };
  await release();
  await admission.createValidatingAdmissionPolicy({
    body: {
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              operations: ['CREATE'],
              resources: ['pods'],
            },
          ],
        },
        validations: [
          {
            expression: `!(has(object.metadata.labels) && ((request.namespace == '${namespace}' && '${JOB_NAME_LABEL}' in object.metadata.labels) || ('${probeLabel}' in object.metadata.labels && object.metadata.labels['${probeLabel}'] == '${probeValue}')))`,
            message: `held by an end-to-end test: no Job pod in ${namespace} until it releases the hold`,
          },
        ],
      },
    },
  });
  await admission.createValidatingAdmissionPolicyBinding({
    body: {
      metadata: { name },
      spec: { policyName: name, validationActions: ['Deny'] },
    },
  });

  const probe: V1Pod = {
    metadata: {
      generateName: 'e2e-hold-probe-',
      namespace: 'default',
      labels: { [probeLabel]: probeValue },
    },
    spec: { containers: [{ name: 'probe', image: 'probe' }] },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await core.createNamespacedPod({
        namespace: 'default',
        body: probe,
        dryRun: 'All',
      });
    } catch (error) {
      const body = String((error as { body?: unknown }).body ?? error);
      if (body.includes('held by an end-to-end test')) {
        return { release };
      }
      throw error;
    }
    if (Date.now() > deadline) {
      await release();
      throw new Error(
        `The apiserver did not enforce the ValidatingAdmissionPolicy ${name} within ${timeoutMs} ms`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }
}
