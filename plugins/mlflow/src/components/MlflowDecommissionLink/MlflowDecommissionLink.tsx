import { Link } from '@backstage/core-components';
import { MlflowEntityInfo } from '@stateful-mlflow/plugin-mlflow-common';

/** The decommission template's page with the instance filled in (the name is typed to confirm). */
export function decommissionTemplateUrl(
  name: string,
  info: Pick<MlflowEntityInfo, 'awsRegion' | 'kubernetesCluster'>,
): string {
  const formData = {
    name,
    ...(info.awsRegion ? { region: info.awsRegion } : {}),
    ...(info.kubernetesCluster ? { cluster: info.kubernetesCluster } : {}),
  };
  return `/create/templates/default/mlflow-decommission?formData=${encodeURIComponent(
    JSON.stringify(formData),
  )}`;
}

/** Opens the decommission template for this instance. */
export function MlflowDecommissionLink(props: {
  name: string;
  info: MlflowEntityInfo;
}) {
  return (
    <Link to={decommissionTemplateUrl(props.name, props.info)}>
      Decommission
    </Link>
  );
}
