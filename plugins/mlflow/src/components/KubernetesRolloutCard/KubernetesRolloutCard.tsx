import { StructuredMetadataTable } from '@backstage/core-components';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import { MlflowHealthCheck } from '@stateful-mlflow/plugin-mlflow-common';
import { CheckDetailsCard } from '../CheckDetailsCard';
import { UNKNOWN } from '../formatValues';

/** The tracking server's Deployment: replicas, image and conditions. */
export function KubernetesRolloutCard(props: {
  check?: MlflowHealthCheck<'kubernetes'>;
}) {
  return (
    <CheckDetailsCard title="Kubernetes rollout" check={props.check}>
      {details => (
        <>
          <StructuredMetadataTable
            dense
            options={{ titleFormat: key => key }}
            metadata={{
              Deployment: `${details.namespace}/${details.deployment}`,
              Cluster: details.cluster,
              Replicas: `${details.replicas.ready}/${details.replicas.desired} ready, ${details.replicas.updated} updated, ${details.replicas.available} available`,
              Image: details.image ?? UNKNOWN,
              Ingress: details.ingressHost ?? 'None',
            }}
          />
          <Table size="small" aria-label="Deployment conditions">
            <TableHead>
              <TableRow>
                <TableCell>Condition</TableCell>
                <TableCell>Status</TableCell>
                <TableCell>Reason</TableCell>
                <TableCell>Message</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {details.conditions.map(condition => (
                <TableRow key={condition.type}>
                  <TableCell>{condition.type}</TableCell>
                  <TableCell>{condition.status}</TableCell>
                  <TableCell>{condition.reason ?? ''}</TableCell>
                  <TableCell>{condition.message ?? ''}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </>
      )}
    </CheckDetailsCard>
  );
}
