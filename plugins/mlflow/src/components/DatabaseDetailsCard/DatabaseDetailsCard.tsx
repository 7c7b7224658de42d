import { StructuredMetadataTable } from '@backstage/core-components';
import { MlflowHealthCheck } from '@stateful-mlflow/plugin-mlflow-common';
import { CheckDetailsCard } from '../CheckDetailsCard';
import { UNKNOWN, yesNo } from '../formatValues';

/** The backend store as RDS describes it. */
export function DatabaseDetailsCard(props: {
  check?: MlflowHealthCheck<'database'>;
}) {
  return (
    <CheckDetailsCard title="Database (Amazon RDS)" check={props.check}>
      {details => (
        <StructuredMetadataTable
          dense
          options={{ titleFormat: key => key }}
          metadata={{
            Instance: details.instanceId,
            Status: details.status ?? UNKNOWN,
            Engine: details.engine
              ? [details.engine, details.engineVersion]
                  .filter(Boolean)
                  .join(' ')
              : UNKNOWN,
            'Instance class': details.instanceClass ?? UNKNOWN,
            Storage:
              details.allocatedStorageGiB !== undefined
                ? `${details.allocatedStorageGiB} GiB`
                : UNKNOWN,
            Endpoint: details.endpoint
              ? [details.endpoint, details.port].filter(Boolean).join(':')
              : UNKNOWN,
            'Multi-AZ': yesNo(details.multiAz),
            Backups: formatBackups(details.backupRetentionDays),
            Region: details.region,
          }}
        />
      )}
    </CheckDetailsCard>
  );
}

function formatBackups(retentionDays: number | undefined): string {
  if (retentionDays === undefined) {
    return UNKNOWN;
  }
  if (retentionDays === 0) {
    return 'Disabled';
  }
  return `Kept ${retentionDays} day${retentionDays === 1 ? '' : 's'}`;
}
