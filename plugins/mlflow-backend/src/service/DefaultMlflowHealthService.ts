import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import {
  AuthService,
  CacheService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AppsV1Api, CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import {
  ANNOTATION_MLFLOW_KUBERNETES_CLUSTER,
  MlflowCheckId,
  MlflowFleetHealthResponse,
  MlflowHealthReport,
  getMlflowEntityInfo,
} from '@stateful-mlflow/plugin-mlflow-common';
import {
  AwsClientConfigFactory,
  MlflowClusters,
} from '@stateful-mlflow/plugin-mlflow-node';
import { createHash } from 'node:crypto';
import { CatalogEntityReader } from './CatalogEntityReader';
import { createArtifactStoreCheck } from './checks/artifactStoreCheck';
import { createDatabaseCheck } from './checks/databaseCheck';
import { createKubernetesCheck } from './checks/kubernetesCheck';
import { createTrackingServerCheck } from './checks/trackingServerCheck';
import { HealthCheck, messageOf } from './checks/types';
import { HealthReadAuthorizer } from './HealthReadAuthorizer';
import { createHealthCredentialsReader, SecretsApi } from './healthCredentials';
import { isTrustedEntity } from './instanceIdentity';
import { KeyedConcurrencyLimiter } from './KeyedConcurrencyLimiter';
import { memoize } from './memoize';
import { createLastSnapshotReader, LastSnapshotReader } from './lastSnapshots';
import {
  createKubernetesWorkloadReader,
  KubernetesApis,
} from './kubernetesWorkloads';
import {
  MlflowHealthRequestOptions,
  MlflowHealthService,
} from './MlflowHealthService';
import { AwsLocation, createRdsInstanceReader } from './rdsInstances';
import {
  MlflowHealthConfig,
  readMlflowHealthConfig,
} from './readMlflowHealthConfig';
import { RefreshLimiter } from './RefreshLimiter';
import { ReportCache } from './ReportCache';
import { normaliseRefs } from './requestParts';
import { reuseKubernetesConnections } from './reuseKubernetesConnections';
import { SingleFlight } from './SingleFlight';
import { computeHealthReport } from './healthReport';
import { TrackingUrlGuard } from './TrackingUrlGuard';

export type DefaultMlflowHealthServiceDeps = {
  catalog: CatalogService;
  /** The plugin's own credentials read the catalog; the caller's visibility is decided per entity. */
  auth: AuthService;
  permissions: PermissionsService;
  cache: CacheService;
  logger: LoggerService;
  /** Required when `refreshMinIntervalSeconds` is above 0; shared by every replica. */
  refreshLimiter?: RefreshLimiter;
};

/** Seams for tests and the benchmark; each defaults to the real thing built from config. */
export type DefaultMlflowHealthServiceOverrides = {
  rdsClientFor?: (location: AwsLocation) => Promise<RDSClient>;
  s3ClientFor?: (location: AwsLocation) => Promise<S3Client>;
  kubernetesApisFor?: (cluster: string) => KubernetesApis;
  guard?: TrackingUrlGuard;
  secretsFor?: (cluster: string) => SecretsApi;
};

/** Health Secrets are read again after this, so a rotated password is picked up soon. */
const HEALTH_CREDENTIALS_TTL_MS = 60_000;

/**
 * A cached report older than this share of the TTL is still served, and checked again in the
 * background, so steady traffic never waits for an expiry (no report is served past its TTL).
 */
const REFRESH_AHEAD_SHARE = 0.8;

const locationKey = ({ region, accountId }: AwsLocation) =>
  `${accountId ?? ''}:${region}`;

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
    // The instance's account through `aws.accounts`; the main account when it names none.
    const rdsClientFor =
      overrides.rdsClientFor ??
      memoize(
        locationKey,
        async location => new RDSClient(await aws.forRegion(location)),
      );
    const s3ClientFor =
      overrides.s3ClientFor ??
      memoize(
        locationKey,
        async location => new S3Client(await aws.forRegion(location)),
      );
    // One connection pool per cluster for the checks and the Secret reads.
    const kubeConfigFor = memoize(String, (cluster: string) =>
      reuseKubernetesConnections(clusters.kubeConfig(cluster)),
    );
    const kubernetesApisFor =
      overrides.kubernetesApisFor ??
      memoize(String, (cluster: string) => {
        clusters.get(cluster, ANNOTATION_MLFLOW_KUBERNETES_CLUSTER);
        const kubeConfig = kubeConfigFor(cluster);
        return {
          apps: kubeConfig.makeApiClient(AppsV1Api),
          networking: kubeConfig.makeApiClient(NetworkingV1Api),
        };
      });
    const secretsFor =
      overrides.secretsFor ??
      memoize(String, (cluster: string) => {
        clusters.get(cluster, ANNOTATION_MLFLOW_KUBERNETES_CLUSTER);
        return kubeConfigFor(cluster).makeApiClient(CoreV1Api);
      });
    const checks: HealthCheck<MlflowCheckId>[] = [
      createTrackingServerCheck({
        guard:
          overrides.guard ??
          TrackingUrlGuard.fromConfig(config, {
            allowedHosts: settings.allowedTrackingHosts,
          }),
        limiter,
        credentials: createHealthCredentialsReader({
          secretsFor,
          ttlMs: HEALTH_CREDENTIALS_TTL_MS,
          timeoutMs: settings.checkTimeoutMs,
          log: (message, error) =>
            deps.logger.warn(
              `MLflow health check: ${message}: ${messageOf(error)}`,
            ),
        }),
      }),
      createDatabaseCheck({
        instances: createRdsInstanceReader(
          rdsClientFor,
          settings.checkTimeoutMs,
        ),
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
        workloads: createKubernetesWorkloadReader(
          kubernetesApisFor,
          limiter,
          settings.checkTimeoutMs,
        ),
      }),
    ];
    // DescribeDBSnapshots only for the report of one entity, never for a fleet's batch.
    const lastSnapshot = createLastSnapshotReader({
      rdsClientFor,
      cache: deps.cache,
      ttlMs: settings.cacheTtlSeconds * 1000,
      timeoutMs: settings.checkTimeoutMs,
      logger: deps.logger,
    });
    return new DefaultMlflowHealthService(deps, settings, checks, lastSnapshot);
  }

  private readonly computations = new SingleFlight<MlflowHealthReport>();
  private readonly reports: ReportCache;
  private readonly authorizer: HealthReadAuthorizer;
  private readonly entities: CatalogEntityReader;

  constructor(
    private readonly deps: DefaultMlflowHealthServiceDeps,
    private readonly settings: MlflowHealthConfig,
    private readonly checks: HealthCheck<MlflowCheckId>[],
    private readonly lastSnapshot?: LastSnapshotReader,
  ) {
    this.reports = new ReportCache(deps.cache, settings.cacheTtlSeconds * 1000);
    this.authorizer = new HealthReadAuthorizer(deps.permissions);
    this.entities = new CatalogEntityReader(deps.catalog, deps.auth);
    if (settings.refreshMinIntervalSeconds > 0 && !deps.refreshLimiter) {
      throw new Error(
        'mlflow.health.refreshMinIntervalSeconds is above 0, so the health service needs a refresh limiter',
      );
    }
  }

  async getReport(
    entityRef: string,
    options: MlflowHealthRequestOptions,
  ): Promise<MlflowHealthReport> {
    const [item] = (await this.getReports([entityRef], options)).items;
    if ('report' in item) {
      return this.lastSnapshot ? this.lastSnapshot(item.report) : item.report;
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
    // Two round trips at once: the entities (one catalog read shared by concurrent requests)
    // and one policy call for the caller's catalog read and health read; the decisions are then
    // applied to the entities in hand (HealthReadAuthorizer).
    const [found, decisions] = await Promise.all([
      this.entities.read(refs),
      this.authorizer.decide(credentials),
    ]);
    const existing = refs.flatMap((ref, i) => {
      const entity = found[i];
      return entity ? [{ ref, entity }] : [];
    });
    const access = await this.authorizer.access(
      decisions,
      existing,
      credentials,
    );
    const accessOf = new Map(existing.map(({ ref }, i) => [ref, access[i]]));
    const allowed = new Set(
      existing.filter((_, i) => access[i] === 'allowed').map(({ ref }) => ref),
    );
    const entities = found.map((entity, i) =>
      accessOf.get(refs[i]) === 'hidden' ? undefined : entity,
    );
    const refreshable =
      refresh && allowed.size > 0
        ? await this.claimRefresh([...allowed])
        : new Set<string>();

    // Cache reads first, then every computation starts in one synchronous pass, so the database
    // checks of the whole fleet land in the same RDS batch.
    const cached = await Promise.all(
      refs.map(async (ref, i) => {
        const entity = entities[i];
        if (!entity || !allowed.has(ref)) {
          return undefined;
        }
        const key = this.reportKey(ref, entity);
        return {
          key,
          entity,
          report: refreshable.has(ref)
            ? undefined
            : await this.reports.get(key),
        };
      }),
    );
    const reports = refs.map((ref, i) => {
      const entry = cached[i];
      if (!entry) {
        return undefined;
      }
      if (entry.report) {
        this.refreshAhead(entry.key, ref, entry.entity, entry.report);
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
          entity.spec?.owner ?? null,
          isTrustedEntity(entity),
        ]),
      )
      .digest('hex')
      .slice(0, 16);
    return `report:${ref}:${digest}`;
  }

  /** The refs that may be refreshed now; the limit is claimed atomically across replicas. */
  private async claimRefresh(refs: string[]): Promise<Set<string>> {
    if (!this.deps.refreshLimiter) {
      return new Set(refs);
    }
    return this.deps.refreshLimiter.claim(refs);
  }

  /** Starts checking an entity again when its cached report is near its expiry. */
  private refreshAhead(
    key: string,
    ref: string,
    entity: Entity,
    report: MlflowHealthReport,
  ) {
    const ttlMs = this.settings.cacheTtlSeconds * 1000;
    const ageMs = Date.now() - Date.parse(report.checkedAt);
    if (ageMs < ttlMs * REFRESH_AHEAD_SHARE) {
      return;
    }
    this.computations
      .run(key, () => this.computeAndStore(key, ref, entity))
      .catch(error =>
        this.deps.logger.warn(
          `MLflow health of ${ref}: checking ahead of the cache expiry failed: ${messageOf(
            error,
          )}`,
        ),
      );
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

  private compute(
    entityRef: string,
    entity: Entity,
  ): Promise<MlflowHealthReport> {
    return computeHealthReport({
      entityRef,
      entity,
      checks: this.checks,
      checkTimeoutMs: this.settings.checkTimeoutMs,
      logger: this.deps.logger,
    });
  }
}
