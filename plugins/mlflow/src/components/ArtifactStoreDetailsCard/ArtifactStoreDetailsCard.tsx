import { StructuredMetadataTable } from '@backstage/core-components';
import { MlflowHealthCheck } from '@stateful-mlflow/plugin-mlflow-common';
import { CheckDetailsCard } from '../CheckDetailsCard';
import { UNKNOWN } from '../formatValues';

/** The artifact store as S3 describes it. */
export function ArtifactStoreDetailsCard(props: {
  check?: MlflowHealthCheck<'artifactStore'>;
}) {
  return (
    <CheckDetailsCard title="Artifact store (Amazon S3)" check={props.check}>
      {details => (
        <StructuredMetadataTable
          dense
          options={{ titleFormat: key => key }}
          metadata={{
            Bucket: details.bucket,
            Prefix: details.prefix || '(bucket root)',
            Region: details.region,
            Versioning: details.versioning ?? UNKNOWN,
            Encryption: details.encryption ?? 'None',
          }}
        />
      )}
    </CheckDetailsCard>
  );
}
