import { Link } from '@backstage/core-components';
import { MlflowEntityInfo } from '@stateful-mlflow/plugin-mlflow-common';

/** The upgrade template's page with the instance filled in. */
export function upgradeTemplateUrl(
  name: string,
  info: Pick<MlflowEntityInfo, 'awsRegion' | 'kubernetesCluster'>,
): string {
  const formData = {
    name,
    ...(info.awsRegion ? { region: info.awsRegion } : {}),
    ...(info.kubernetesCluster ? { cluster: info.kubernetesCluster } : {}),
  };
  return `/create/templates/default/mlflow-upgrade?formData=${encodeURIComponent(
    JSON.stringify(formData),
  )}`;
}

/** Opens the upgrade template (new image or replicas) for this instance. */
export function MlflowUpgradeLink(props: {
  name: string;
  info: MlflowEntityInfo;
}) {
  return <Link to={upgradeTemplateUrl(props.name, props.info)}>Upgrade</Link>;
}
