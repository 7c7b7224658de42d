import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  MlflowFleetHealthResponse,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowApi } from '../api';
import { healthyReport, mlflowEntity } from './reports';

/** An MLflow instance entity named `name`, owned and placed as given. */
export function fleetEntity(
  name: string,
  options: { owner?: string; environment?: string; region?: string } = {},
): Entity {
  return {
    ...mlflowEntity,
    metadata: {
      ...mlflowEntity.metadata,
      name,
      annotations: {
        ...mlflowEntity.metadata.annotations,
        'mlflow.org/tracking-url': `https://${name}.example.com`,
        'mlflow.org/aws-region': options.region ?? 'eu-west-1',
        'mlflow.org/environment': options.environment ?? 'prod',
      },
    },
    spec: {
      ...mlflowEntity.spec,
      owner: options.owner ?? 'group:default/team-ml',
    },
  };
}

/** `count` instances named `mlflow-000`, `mlflow-001` … */
export function fleetEntities(count: number): Entity[] {
  return Array.from({ length: count }, (_, i) =>
    fleetEntity(`mlflow-${String(i).padStart(3, '0')}`),
  );
}

/** The healthy fixture report, or another one, as the report of `entityRef`. */
export function reportOf(
  entityRef: string,
  report: MlflowHealthReport = healthyReport,
): MlflowHealthReport {
  return { ...report, entityRef };
}

type FleetItem = MlflowFleetHealthResponse['items'][number];

/** An {@link MlflowApi} whose fleet endpoint answers each ref as `answer` says. */
export function fakeFleetApi(
  answer: (entityRef: string) => FleetItem = ref => ({
    entityRef: ref,
    report: reportOf(ref),
  }),
): jest.Mocked<MlflowApi> {
  return {
    getHealth: jest.fn<
      ReturnType<MlflowApi['getHealth']>,
      Parameters<MlflowApi['getHealth']>
    >(async () => healthyReport),
    getFleetHealth: jest.fn<
      ReturnType<MlflowApi['getFleetHealth']>,
      Parameters<MlflowApi['getFleetHealth']>
    >(async refs => ({
      items: refs.map(ref => answer(String(ref))),
    })),
  };
}

/** The full ref of a fixture entity. */
export const refOf = (entity: Entity) => stringifyEntityRef(entity);
