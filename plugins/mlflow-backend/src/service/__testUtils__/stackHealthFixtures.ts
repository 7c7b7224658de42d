import { CacheManager } from '@backstage/backend-defaults/cache';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  MlflowCheckId,
  MlflowHealthCheck,
} from '@stateful-mlflow/plugin-mlflow-common';
import { createServer } from 'node:net';
import { DefaultMlflowHealthService } from '../DefaultMlflowHealthService';

/*
 * What the tests of DefaultMlflowHealthService against the local real stack (stack/README.md)
 * share: the real service with the stack's Backstage config overlay, and polling helpers.
 */

/** A short id of this test file's run, so that names never collide with another run's. */
export const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296)
  .toString(36)
  .padStart(2, '0')}`;
const credentials = mockCredentials.user();

/** An entity as the MLflow entity provider emits it (trusted) for the instance `name`. */
export function entity(
  name: string,
  annotations: Record<string, string>,
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': name,
        'backstage.io/managed-by-origin-location': `mlflow-cluster:local/${name}/${name}`,
        'mlflow.org/trusted': 'true',
        ...annotations,
      },
    },
    spec: { type: 'service', lifecycle: 'experimental', owner: 'team-ml' },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function until<T>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      last = error;
    }
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

/**
 * The real service (real AWS, Kubernetes and HTTP clients) with the stack's config `overlay`,
 * nothing cached between calls.
 */
export function stackHealthService(overlay: JsonObject, entities: Entity[]) {
  const config = ConfigReader.fromConfigs([
    { context: 'stack', data: overlay },
    {
      context: 'test',
      data: {
        backend: { baseUrl: 'http://localhost:7007' },
        mlflow: {
          health: {
            allowedTrackingHosts: ['127.0.0.1', '*.localhost'],
            cacheTtlSeconds: 0,
            storeSettingsTtlSeconds: 0,
            refreshMinIntervalSeconds: 0,
            checkTimeoutMs: 10_000,
          },
        },
      },
    },
  ]);
  return DefaultMlflowHealthService.fromConfig(config, {
    catalog: catalogServiceMock({ entities }),
    auth: mockServices.auth({ pluginId: 'mlflow' }),
    permissions: mockServices.permissions({ result: AuthorizeResult.ALLOW }),
    cache: CacheManager.fromConfig(mockServices.rootConfig()).forPlugin(
      'mlflow',
    ),
    logger: mockServices.logger.mock(),
  });
}

export async function check<K extends MlflowCheckId>(
  service: DefaultMlflowHealthService,
  name: string,
  id: K,
): Promise<Extract<MlflowHealthCheck, { id: K }>> {
  const report = await service.getReport(`component:default/${name}`, {
    credentials,
  });
  return report.checks.find(c => c.id === id) as Extract<
    MlflowHealthCheck,
    { id: K }
  >;
}

/** Checks until `accept` holds; the timeout error names the last status seen. */
export async function checkUntil<K extends MlflowCheckId>(
  service: DefaultMlflowHealthService,
  name: string,
  id: K,
  what: string,
  accept: (result: Extract<MlflowHealthCheck, { id: K }>) => boolean,
): Promise<Extract<MlflowHealthCheck, { id: K }>> {
  let last: Extract<MlflowHealthCheck, { id: K }> | undefined;
  return until(what, 60_000, async () => {
    last = await check(service, name, id);
    return accept(last) ? last : undefined;
  }).catch(error => {
    throw new Error(
      `${error.message}; last seen: ${last?.status} "${last?.summary}"`,
    );
  });
}
