import { InputError } from '@backstage/errors';
import type {
  KubernetesObject,
  V1Deployment,
  V1Job,
  V1Pod,
} from '@kubernetes/client-node';
import { MlflowKubernetesApi, ObjectRef } from '../kubernetes/kubernetesApi';

function key(ref: ObjectRef) {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/**
 * An in-memory cluster for unit tests: stores applied objects, and plays the controllers just
 * enough for the waits (Jobs succeed or fail, Deployments become ready). A Job keeps the status it
 * got when it was created, as a real one does when applied again.
 */
export class FakeKubernetesApi implements MlflowKubernetesApi {
  readonly objects = new Map<string, KubernetesObject>();
  readonly applied: Array<{
    key: string;
    dryRun: boolean;
    object: KubernetesObject;
  }> = [];
  pods: V1Pod[] = [];
  /** `podSucceeded`: its pod has succeeded and the Job controller has not counted it yet. */
  jobOutcome: 'succeed' | 'podSucceeded' | 'fail' | 'hang' = 'succeed';
  deploymentBecomesReady = true;
  /** Deletions asked for, in order. */
  readonly deleted: Array<{ key: string; propagationPolicy: string }> = [];
  /** Plays the API server's validation: a message refuses the object (as a 422 would). */
  refuse: (object: KubernetesObject) => string | undefined = () => undefined;
  private uids = 0;

  async apply<T extends KubernetesObject>(
    object: T,
    options: { dryRun: boolean },
  ): Promise<T> {
    const ref = {
      apiVersion: object.apiVersion!,
      kind: object.kind!,
      name: object.metadata!.name!,
      namespace: object.metadata?.namespace,
    };
    const copy = JSON.parse(JSON.stringify(object));
    this.applied.push({ key: key(ref), dryRun: options.dryRun, object: copy });
    this.check(copy);
    if (options.dryRun) {
      return copy;
    }
    if (ref.kind === 'Secret' && copy.stringData) {
      // Like the API server: stringData is write-only and lands base64-encoded in data.
      copy.data = Object.fromEntries(
        Object.entries(copy.stringData as Record<string, string>).map(
          ([k, v]) => [k, Buffer.from(v).toString('base64')],
        ),
      );
      delete copy.stringData;
    }
    const previous = this.objects.get(key(ref));
    copy.metadata.generation = (previous?.metadata?.generation ?? 0) + 1;
    copy.metadata.uid = previous?.metadata?.uid ?? `uid-${++this.uids}`;
    if (ref.kind === 'Job' && previous) {
      copy.status = (previous as V1Job).status;
    } else if (ref.kind === 'Job') {
      const job = copy as V1Job;
      if (this.jobOutcome === 'succeed') {
        job.status = { succeeded: 1 };
      } else if (this.jobOutcome === 'podSucceeded') {
        job.status = { active: 1 };
        this.pods.push({
          metadata: {
            name: `${ref.name}-abcde`,
            namespace: ref.namespace,
            labels: {
              'job-name': ref.name,
              'batch.kubernetes.io/controller-uid': copy.metadata.uid,
            },
          },
          status: { phase: 'Succeeded' },
        });
      } else if (this.jobOutcome === 'fail') {
        job.status = {
          failed: 3,
          conditions: [
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
            },
          ],
        };
        this.pods.push({
          metadata: {
            name: `${ref.name}-abcde`,
            namespace: ref.namespace,
            labels: {
              'job-name': ref.name,
              'batch.kubernetes.io/controller-uid': copy.metadata.uid,
            },
          },
          status: {
            containerStatuses: [
              {
                name: 'db-upgrade',
                image: 'x',
                imageID: 'x',
                ready: false,
                restartCount: 0,
                state: {
                  terminated: {
                    exitCode: 1,
                    message: "ModuleNotFoundError: No module named 'psycopg2'",
                  },
                },
              },
            ],
          },
        });
      } else {
        job.status = { active: 1 };
      }
    }
    if (ref.kind === 'Deployment' && this.deploymentBecomesReady) {
      const deployment = copy as V1Deployment;
      const replicas = deployment.spec?.replicas ?? 1;
      deployment.status = {
        observedGeneration: copy.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      };
    }
    this.objects.set(key(ref), copy);
    return copy;
  }

  async dryRunCreate(
    object: KubernetesObject,
  ): Promise<'accepted' | 'nameTaken'> {
    const copy = JSON.parse(JSON.stringify(object));
    const ref: ObjectRef = {
      apiVersion: object.apiVersion!,
      kind: object.kind!,
      name: object.metadata!.name!,
      namespace: object.metadata?.namespace,
    };
    this.applied.push({ key: key(ref), dryRun: true, object: copy });
    this.check(copy);
    return this.objects.has(key(ref)) ? 'nameTaken' : 'accepted';
  }

  async delete(
    ref: ObjectRef,
    options: { propagationPolicy: string },
  ): Promise<void> {
    this.deleted.push({
      key: key(ref),
      propagationPolicy: options.propagationPolicy,
    });
    const uid = this.objects.get(key(ref))?.metadata?.uid;
    this.objects.delete(key(ref));
    if (ref.kind === 'Namespace') {
      // The namespace controller deletes everything in it.
      for (const [k, o] of this.objects) {
        if (o.metadata?.namespace === ref.name) {
          this.objects.delete(k);
        }
      }
    }
    // Foreground and background deletion both take the Job's pods with it.
    this.pods = this.pods.filter(
      pod =>
        pod.metadata?.labels?.['batch.kubernetes.io/controller-uid'] !== uid,
    );
  }

  private check(object: KubernetesObject) {
    const problem = this.refuse(object);
    if (problem) {
      throw new InputError(
        `Kubernetes cluster fake rejected ${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}: ${problem}`,
      );
    }
  }

  async read<T extends KubernetesObject>(
    ref: ObjectRef,
  ): Promise<T | undefined> {
    return this.objects.get(key(ref)) as T | undefined;
  }

  async list<T extends KubernetesObject>(options: {
    kind?: string;
    namespace: string;
    labelSelector: string;
  }): Promise<T[]> {
    const wanted = options.labelSelector.split(',').map(p => p.split('='));
    const matches = (object: KubernetesObject) =>
      object.metadata?.namespace === options.namespace &&
      wanted.every(([k, v]) => object.metadata?.labels?.[k] === v);
    if (options.kind && options.kind !== 'Pod') {
      return [...this.objects.values()].filter(
        o => o.kind === options.kind && matches(o),
      ) as T[];
    }
    return this.pods.filter(matches) as T[];
  }

  /** Objects stored (applied for real), by kind. */
  stored(kind: string): KubernetesObject[] {
    return [...this.objects.values()].filter(o => o.kind === kind);
  }
}
