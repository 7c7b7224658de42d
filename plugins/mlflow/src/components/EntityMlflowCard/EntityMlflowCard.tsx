import { InfoCard, Progress } from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  MissingAnnotationEmptyState,
  useEntity,
} from '@backstage/plugin-catalog-react';
import {
  ANNOTATION_MLFLOW_TRACKING_URL,
  getMlflowEntityInfo,
  isMlflowAvailable,
  MlflowEntityInfo,
} from '@stateful-mlflow/plugin-mlflow-common';
import { useMlflowHealth } from '../../hooks/useMlflowHealth';
import { MlflowDatabaseChanges } from '../MlflowDatabaseChanges';
import { MlflowHealthErrorPanel } from '../MlflowHealthErrorPanel';
import { MlflowHealthSummary } from '../MlflowHealthSummary';
import { MlflowAuthenticationFacts } from '../MlflowSignIn';
import { MlflowDecommissionLink } from '../MlflowDecommissionLink';
import { MlflowUpgradeLink } from '../MlflowUpgradeLink';
import { RefreshHealthButton } from '../RefreshHealthButton';

/** The MLflow status card of an entity page: overall status, one row per check, refresh. */
export function EntityMlflowCard() {
  const { entity } = useEntity();
  if (!isMlflowAvailable(entity)) {
    return (
      <InfoCard title="MLflow">
        <MissingAnnotationEmptyState
          annotation={ANNOTATION_MLFLOW_TRACKING_URL}
        />
      </InfoCard>
    );
  }
  return (
    <MlflowHealthCard
      entityRef={stringifyEntityRef(entity)}
      name={entity.metadata.name}
      info={getMlflowEntityInfo(entity)}
    />
  );
}

function MlflowHealthCard(props: {
  entityRef: string;
  name: string;
  info: MlflowEntityInfo;
}) {
  const { trackingUrl } = props.info;
  const { report, error, loading, refreshing, refresh } = useMlflowHealth(
    props.entityRef,
  );
  return (
    <section aria-label="MLflow health" aria-busy={loading || refreshing}>
      <InfoCard
        title="MLflow"
        action={
          <RefreshHealthButton
            refreshing={loading || refreshing}
            onRefresh={refresh}
          />
        }
        deepLink={
          trackingUrl ? { title: 'Open MLflow', link: trackingUrl } : undefined
        }
      >
        {loading && <Progress />}
        {!loading && report && (
          <>
            <MlflowHealthSummary report={report} refreshError={error} />
            <MlflowDatabaseChanges report={report} />
          </>
        )}
        {!loading && !report && error && (
          <MlflowHealthErrorPanel error={error} />
        )}
        <MlflowAuthenticationFacts info={props.info} />
        <MlflowUpgradeLink name={props.name} info={props.info} />{' '}
        <MlflowDecommissionLink name={props.name} info={props.info} />
      </InfoCard>
    </section>
  );
}
