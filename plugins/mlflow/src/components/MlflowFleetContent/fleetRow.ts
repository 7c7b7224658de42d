import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  getMlflowEntityInfo,
  MLFLOW_CHECK_IDS,
  MlflowCheckId,
  MlflowCheckStatus,
  MlflowComplianceFlag,
  MlflowHealthReport,
  MlflowOverallStatus,
} from '@stateful-mlflow/plugin-mlflow-common';
import { findCheck } from '../findCheck';

/** The environment annotation the deploy action writes; older entities carry only a lifecycle. */
const ANNOTATION_ENVIRONMENT = 'mlflow.org/environment';

/** What the fleet table shows of one instance; `undefined` is a value nobody reported. */
export type FleetRow = {
  entityRef: string;
  entity: Entity;
  name: string;
  title: string;
  overall: MlflowOverallStatus;
  /** The backend could not produce this instance's report (not a failing check). */
  reportError?: string;
  checks: Array<{
    id: MlflowCheckId;
    status: MlflowCheckStatus;
    summary: string;
  }>;
  version?: string;
  environment?: string;
  owner?: string;
  region?: string;
  cluster?: string;
  replicas?: { ready: number; desired: number };
  authentication?: string;
  failingCompliance: string[];
  lastSnapshot?: string;
  trackingUrl?: string;
};

/** A fleet report item: a report, or why the backend could not produce one. */
export type FleetReportItem =
  | { report: MlflowHealthReport }
  | { error: { name: string; message: string } };

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' && field !== '' ? field : undefined;
}

/** Off points the backend requires; optional ones (e.g. Multi-AZ outside prod) only inform. */
function failing(flags: MlflowComplianceFlag[] | undefined): string[] {
  return (flags ?? [])
    .filter(flag => !flag.ok && flag.required !== false)
    .map(flag => flag.label);
}

/** One table row from the catalog entity and, once it answered, the instance's health report. */
export function toFleetRow(entity: Entity, item: FleetReportItem): FleetRow {
  const info = getMlflowEntityInfo(entity);
  const report = 'report' in item ? item.report : undefined;
  const trackingServer = report && findCheck(report, 'trackingServer');
  const database = report && findCheck(report, 'database');
  const artifactStore = report && findCheck(report, 'artifactStore');
  const kubernetes = report && findCheck(report, 'kubernetes');
  const replicas = kubernetes?.details?.replicas;
  return {
    entityRef: stringifyEntityRef(entity),
    entity,
    name: entity.metadata.name,
    title: entity.metadata.title ?? entity.metadata.name,
    overall: report?.overall ?? 'unknown',
    reportError: 'error' in item ? item.error.message : undefined,
    checks: MLFLOW_CHECK_IDS.map(id => {
      const check = report?.checks.find(c => c.id === id);
      return {
        id,
        status: check?.status ?? 'unknown',
        summary: check?.summary ?? 'Not reported',
      };
    }),
    version: trackingServer?.details?.version,
    environment:
      entity.metadata.annotations?.[ANNOTATION_ENVIRONMENT] ??
      stringField(entity.spec, 'lifecycle'),
    owner: stringField(entity.spec, 'owner'),
    region: info.awsRegion ?? database?.details?.region,
    cluster: info.kubernetesCluster ?? kubernetes?.details?.cluster,
    replicas: replicas && { ready: replicas.ready, desired: replicas.desired },
    // The check reports the mode it saw; the entity's annotation stands in until a report arrives.
    authentication: trackingServer?.details?.authMode ?? info.authMode,
    failingCompliance: [
      ...failing(trackingServer?.details?.compliance),
      ...failing(database?.details?.compliance),
      ...failing(artifactStore?.details?.compliance),
    ],
    lastSnapshot: lastSnapshotOf(database?.details),
    trackingUrl: info.trackingUrl,
  };
}

/** When the newest snapshot was taken (`details.lastSnapshot.createdAt`), when the database check says. */
function lastSnapshotOf(details: unknown): string | undefined {
  if (typeof details !== 'object' || details === null) {
    return undefined;
  }
  return stringField(
    (details as Record<string, unknown>).lastSnapshot,
    'createdAt',
  );
}
