import { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  MlflowFleetHealthResponse,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';

export type MlflowHealthRequestOptions = {
  /** The caller's credentials: the catalog and the permission checks run as the caller. */
  credentials: BackstageCredentials;
  /** Skip the cached report (rate-limited per entity). */
  refresh?: boolean;
};

/** Health reports of MLflow instances, as the caller may see them. */
export interface MlflowHealthService {
  /** The report of one entity; NotFoundError when the caller cannot see it, NotAllowedError without the permission. */
  getReport(
    entityRef: string,
    options: MlflowHealthRequestOptions,
  ): Promise<MlflowHealthReport>;

  /** The reports of many entities, one item per ref in order; per-item errors instead of throwing. */
  getReports(
    entityRefs: string[],
    options: MlflowHealthRequestOptions,
  ): Promise<MlflowFleetHealthResponse>;
}
