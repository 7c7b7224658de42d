import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CacheService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AppsV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import {
  ANNOTATION_MLFLOW_KUBERNETES_CLUSTER,
  MlflowCheckId,
  MlflowEntityInfo,
  MlflowFleetHealthResponse,
  MlflowHealthCheck,
  MlflowHealthReport,
  MlflowLink,
  describeReceived,
  getMlflowEntityInfo,
  mlflowInstanceHealthReadPermission,
} from '@stateful-mlflow/plugin-mlflow-common';
import {
  AwsClientConfigFactory,
  MlflowClusters,
} from '@stateful-mlflow/plugin-mlflow-node';
import { createHash } from 'node:crypto';
import { createArtifactStoreCheck } from './checks/artifactStoreCheck';
import { createDatabaseCheck } from './checks/databaseCheck';
import { createKubernetesCheck } from './checks/kubernetesCheck';
import {
  createTrackingServerCheck,
  displayTrackingUrl,
} from './checks/trackingServerCheck';
import {
  CheckInput,
  CheckOutcome,
  HealthCheck,
  messageOf,
} from './checks/types';
import { KeyedConcurrencyLimiter } from './KeyedConcurrencyLimiter';
import {
  KubernetesApis,
  KubernetesWorkloadBatcher,
} from './KubernetesWorkloadBatcher';
import {
  MlflowHealthRequestOptions,
  MlflowHealthService,
} from './MlflowHealthService';
import { overallStatus } from './overallStatus';
import { RdsInstanceBatcher } from './RdsInstanceBatcher';
import {
  MlflowHealthConfig,
  readMlflowHealthConfig,
} from './readMlflowHealthConfig';
import { ReportCache } from './ReportCache';
import { SingleFlight } from './SingleFlight';
import { TrackingUrlGuard } from './TrackingUrlGuard';

/** Most refs one fleet request may ask for. */
const MAX_FLEET_ENTITY_REFS = 1000;

export type DefaultMlflowHealthServiceDeps = {
  catalog: CatalogService;
  permissions: PermissionsService;
  cache: CacheService;
  logger: LoggerService;
};

/** Seams for tests and the benchmark; each defaults to the real thing built from config. */
export type DefaultMlflowHealthServiceOverrides = {
  rdsClientFor?: (region: string) => Promise<RDSClient>;
  s3ClientFor?: (region: string) => Promise<S3Client>;
  kubernetesApisFor?: (cluster: string) => KubernetesApis;
  guard?: TrackingUrlGuard;
};

/** One value per key; a promise that rejects is forgotten so the next call tries again. */
function memoize<T>(create: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return key => {
    if (!made.has(key)) {
      const value = create(key);
      made.set(key, value);
      if (value instanceof Promise) {
        value.catch(() => made.delete(key));
      }
    }
    return made.get(key)!;
  };
}

function normaliseRefs(entityRefs: unknown): string[] {
  if (!Array.isArray(entityRefs) || entityRefs.length === 0) {
    throw new InputError(
      `Invalid entityRefs: received ${
        Array.isArray(entityRefs)
          ? 'an empty list'
          : describeReceived(entityRefs)
      }, but it must be a list of 1 to ${MAX_FLEET_ENTITY_REFS} entity refs such as component:default/mlflow-prod.`,
    );
  }
  if (entityRefs.length > MAX_FLEET_ENTITY_REFS) {
    throw new InputError(
      `Invalid entityRefs: received ${entityRefs.length} refs, but at most ${MAX_FLEET_ENTITY_REFS} are accepted per request.`,
    );
  }
  return entityRefs.map((ref, index) => {
    try {
      if (typeof ref !== 'string') {
        throw new TypeError('it must be a string');
      }
      return stringifyEntityRef(parseEntityRef(ref));
    } catch (error) {
      throw new InputError(
        `Invalid entityRefs[${index}]: received ${describeReceived(
          ref,
        )}, but ${messageOf(
          error,
        )}. Accepted: an entity ref such as component:default/mlflow-prod.`,
      );
    }
  });
}

function linksOf(info: MlflowEntityInfo): MlflowLink[] {
  const links: MlflowLink[] = [];
  const ui = info.trackingUrl
    ? displayTrackingUrl(info.trackingUrl)
    : undefined;
  if (ui) {
    links.push({ title: 'MLflow UI', url: ui });
  }
  const region = info.awsRegion
    ? encodeURIComponent(info.awsRegion)
    : undefined;
  if (region && info.rdsInstanceId) {
    links.push({
      title: 'RDS instance (AWS console)',
      url: `https://${region}.console.aws.amazon.com/rds/home?region=${region}#database:id=${encodeURIComponent(
        info.rdsInstanceId,
      )}`,
    });
  }
  if (region && info.bucket) {
    links.push({
      title: 'S3 bucket (AWS console)',
      url: `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(
        info.bucket,
      )}?region=${region}`,
    });
  }
  return links;
}

/**
 * Runs the four checks of an instance in parallel, each under `checkTimeoutMs`, caches reports
 * for `cacheTtlSeconds`, and answers only for entities the caller can read in the catalog and
 * holds `mlflow.instance.health.read` on.
 */
export class DefaultMlflowHealthService implements MlflowHealthService {
  static fromConfig(
    config: Config,
    deps: DefaultMlflowHealthServiceDeps,
    overrides: DefaultMlflowHealthServiceOverrides = {},
  ): DefaultMlflowHealthService {
    const settings = readMlflowHealthConfig(config);
    const aws = AwsClientConfigFactory.fromConfig(config);
    const clusters = MlflowClusters.fromConfig(config);
    const limiter = new KeyedConcurrencyLimiter(settings.maxConcurrencyPerHost);
    const rdsClientFor =
      overrides.rdsClientFor ??
      memoize(async region => new RDSClient(await aws.forRegion({ region })));
    const s3ClientFor =
      overrides.s3ClientFor ??
      memoize(async region => new S3Client(await aws.forRegion({ region })));
    const kubernetesApisFor =
      overrides.kubernetesApisFor ??
      memoize(cluster => {
        clusters.get(cluster, ANNOTATION_MLFLOW_KUBERNETES_CLUSTER);
        const kubeConfig = clusters.kubeConfig(cluster);
        return {
          apps: kubeConfig.makeApiClient(AppsV1Api),
          networking: kubeConfig.makeApiClient(NetworkingV1Api),
        };
      });
    const checks: HealthCheck<MlflowCheckId>[] = [
      createTrackingServerCheck({
        guard:
          overrides.guard ??
          TrackingUrlGuard.fromConfig(config, {
            allowedHosts: settings.allowedTrackingHosts,
          }),
        limiter,
      }),
      createDatabaseCheck({
        batcher: new RdsInstanceBatcher(rdsClientFor, settings.checkTimeoutMs),
      }),
      createArtifactStoreCheck({
        s3ClientFor,
        cache: deps.cache,
        storeSettingsTtlSeconds: settings.storeSettingsTtlSeconds,
        timeoutMs: settings.checkTimeoutMs,
      }),
      createKubernetesCheck({
        assertCluster: cluster => {
          kubernetesApisFor(cluster);
        },
        batcher: new KubernetesWorkloadBatcher(
          kubernetesApisFor,
          limiter,
          settings.checkTimeoutMs,
        ),
      }),
    ];
    return new DefaultMlflowHealthService(deps, settings, checks);
  }

  private readonly computations = new SingleFlight<MlflowHealthReport>();
  private readonly reports: ReportCache;

  constructor(
    private readonly deps: DefaultMlflowHealthServiceDeps,
    private readonly settings: MlflowHealthConfig,
    private readonly checks: HealthCheck<MlflowCheckId>[],
  ) {
    this.reports = new ReportCache(deps.cache, settings.cacheTtlSeconds * 1000);
  }

  async getReport(
    entityRef: string,
    options: MlflowHealthRequestOptions,
  ): Promise<MlflowHealthReport> {
    const [item] = (await this.getReports([entityRef], options)).items;
    if ('report' in item) {
      return item.report;
    }
    if (item.error.name === 'NotAllowedError') {
      throw new NotAllowedError(item.error.message);
    }
    throw new NotFoundError(item.error.message);
  }

  async getReports(
    entityRefs: string[],
    options: MlflowHealthRequestOptions,
  ): Promise<MlflowFleetHealthResponse> {
    const refs = normaliseRefs(entityRefs);
    const { credentials, refresh = false } = options;
    const { items: entities } = await this.deps.catalog.getEntitiesByRefs(
      { entityRefs: refs },
      { credentials },
    );
    const visible = refs.filter((_, i) => entities[i]);
    const decisions =
      visible.length > 0
        ? await this.deps.permissions.authorize(
            visible.map(resourceRef => ({
              permission: mlflowInstanceHealthReadPermission,
              resourceRef,
            })),
            { credentials },
          )
        : [];
    const allowed = new Set(
      visible.filter((_, i) => decisions[i].result === AuthorizeResult.ALLOW),
    );

    // Cache reads first, then every computation starts in one synchronous pass, so the database
    // checks of the whole fleet land in the same RDS batch.
    const cached = await Promise.all(
      refs.map(async (ref, i) => {
        const entity = entities[i];
        if (!entity || !allowed.has(ref)) {
          return undefined;
        }
        const key = this.reportKey(ref, entity);
        const bypass = refresh && (await this.claimRefresh(ref));
        return {
          key,
          entity,
          report: bypass ? undefined : await this.reports.get(key),
        };
      }),
    );
    const reports = refs.map((ref, i) => {
      const entry = cached[i];
      if (!entry) {
        return undefined;
      }
      if (entry.report) {
        return Promise.resolve(entry.report);
      }
      return this.computations.run(entry.key, () =>
        this.computeAndStore(entry.key, ref, entry.entity),
      );
    });

    const items: MlflowFleetHealthResponse['items'] = [];
    for (const [i, ref] of refs.entries()) {
      const report = reports[i];
      if (report) {
        items.push({ entityRef: ref, report: await report });
      } else if (entities[i]) {
        items.push({
          entityRef: ref,
          error: {
            name: 'NotAllowedError',
            message: `You are not allowed to read the health of ${ref}.`,
          },
        });
      } else {
        items.push({
          entityRef: ref,
          error: {
            name: 'NotFoundError',
            message: `No entity ${ref} that you can see.`,
          },
        });
      }
    }
    return { items };
  }

  /** The key covers what the checks read, so an entity whose annotations change is checked anew. */
  private reportKey(ref: string, entity: Entity): string {
    const digest = createHash('sha256')
      .update(
        JSON.stringify([
          getMlflowEntityInfo(entity),
          entity.spec?.lifecycle ?? null,
        ]),
      )
      .digest('hex')
      .slice(0, 16);
    return `report:${ref}:${digest}`;
  }

  /** True when this entity may be refreshed now; records the refresh for the rate limit. */
  private async claimRefresh(ref: string): Promise<boolean> {
    const interval = this.settings.refreshMinIntervalSeconds;
    if (interval === 0) {
      return true;
    }
    const key = `refreshed:${ref}`;
    if (await this.deps.cache.get(key)) {
      return false;
    }
    await this.deps.cache.set(key, true, { ttl: interval * 1000 });
    return true;
  }

  private async computeAndStore(
    key: string,
    ref: string,
    entity: Entity,
  ): Promise<MlflowHealthReport> {
    const report = await this.compute(ref, entity);
    await this.reports.set(key, report);
    return report;
  }

  private async compute(
    entityRef: string,
    entity: Entity,
  ): Promise<MlflowHealthReport> {
    const info = getMlflowEntityInfo(entity);
    const checks = await Promise.all(
      this.checks.map(check => this.runCheck(check, { entity, info })),
    );
    return {
      entityRef,
      overall: overallStatus(checks),
      checkedAt: new Date().toISOString(),
      checks,
      links: linksOf(info),
    };
  }

  /** Runs one check under the timeout; a hanging peer costs the timeout, never more. */
  private async runCheck(
    check: HealthCheck<MlflowCheckId>,
    input: Omit<CheckInput, 'signal'>,
  ): Promise<MlflowHealthCheck> {
    const started = performance.now();
    const controller = new AbortController();
    const timeoutMs = this.settings.checkTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckOutcome<MlflowCheckId>>(resolve => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({
          status: 'error',
          summary: `No answer within ${timeoutMs} ms.`,
        });
      }, timeoutMs);
    });
    try {
      const outcome = await Promise.race([
        check
          .run({ ...input, signal: controller.signal })
          .catch((error: unknown): CheckOutcome<MlflowCheckId> => {
            this.deps.logger.warn(
              `MLflow ${check.id} check of ${stringifyEntityRef(
                input.entity,
              )} failed: ${messageOf(error)}`,
            );
            return {
              status: 'error',
              summary: `Check failed: ${messageOf(error)}`,
            };
          }),
        timedOut,
      ]);
      return {
        id: check.id,
        ...outcome,
        latencyMs: Math.round(performance.now() - started),
      } as MlflowHealthCheck;
    } finally {
      clearTimeout(timer);
    }
  }
}
