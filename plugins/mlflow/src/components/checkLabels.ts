import { MlflowCheckId } from '@stateful-mlflow/plugin-mlflow-common';

/** How each check is named on screen. */
export const CHECK_LABELS: Record<MlflowCheckId, string> = {
  trackingServer: 'Tracking server',
  database: 'Database',
  artifactStore: 'Artifact store',
  kubernetes: 'Kubernetes',
};
