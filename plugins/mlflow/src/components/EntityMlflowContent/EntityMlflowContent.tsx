import { InfoCard, Progress } from '@backstage/core-components';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { useRouteRef } from '@backstage/core-plugin-api';
import {
  entityRouteParams,
  entityRouteRef,
  MissingAnnotationEmptyState,
  useEntity,
} from '@backstage/plugin-catalog-react';
import Grid from '@material-ui/core/Grid';
import {
  ANNOTATION_KUBERNETES_LABEL_SELECTOR,
  ANNOTATION_MLFLOW_TRACKING_URL,
  getMlflowEntityInfo,
  isMlflowAvailable,
} from '@stateful-mlflow/plugin-mlflow-common';
import { useMlflowHealth } from '../../hooks/useMlflowHealth';
import { ArtifactStoreDetailsCard } from '../ArtifactStoreDetailsCard';
import { ComplianceChecklistCard } from '../ComplianceChecklistCard';
import { DatabaseDetailsCard } from '../DatabaseDetailsCard';
import { findCheck } from '../findCheck';
import { KubernetesRolloutCard } from '../KubernetesRolloutCard';
import { MlflowHealthErrorPanel } from '../MlflowHealthErrorPanel';
import { MlflowHealthSummary } from '../MlflowHealthSummary';
import { buildMlflowLinks, MlflowLinksCard } from '../MlflowLinksCard';
import { MlflowSignInCard } from '../MlflowSignIn';
import { RefreshHealthButton } from '../RefreshHealthButton';

/** The MLflow tab of an entity page: status, backing stores, compliance, rollout and links. */
export function EntityMlflowContent() {
  const { entity } = useEntity();
  if (!isMlflowAvailable(entity)) {
    return (
      <MissingAnnotationEmptyState
        annotation={ANNOTATION_MLFLOW_TRACKING_URL}
      />
    );
  }
  return <MlflowInstanceDetails entity={entity} />;
}

function MlflowInstanceDetails(props: { entity: Entity }) {
  const { entity } = props;
  const { report, error, loading, refreshing, refresh } = useMlflowHealth(
    stringifyEntityRef(entity),
  );
  const entityPath = useRouteRef(entityRouteRef)(entityRouteParams(entity));
  const info = getMlflowEntityInfo(entity);
  // The core Kubernetes tab shows only on entities with one of its annotations.
  const hasKubernetesTab = Boolean(
    info.kubernetesId ||
      entity.metadata.annotations?.[ANNOTATION_KUBERNETES_LABEL_SELECTOR],
  );
  const kubernetesTabPath = hasKubernetesTab
    ? `${entityPath.replace(/\/$/, '')}/kubernetes`
    : undefined;

  if (loading) {
    return <Progress />;
  }
  const database = report && findCheck(report, 'database');
  const artifactStore = report && findCheck(report, 'artifactStore');
  const trackingServer = report && findCheck(report, 'trackingServer');
  return (
    <section aria-label="MLflow instance" aria-busy={refreshing}>
      <Grid container spacing={3} alignItems="stretch">
        <Grid item xs={12} md={6}>
          <InfoCard
            title="Status"
            action={
              <RefreshHealthButton
                refreshing={refreshing}
                onRefresh={refresh}
              />
            }
          >
            {report && (
              <MlflowHealthSummary report={report} refreshError={error} />
            )}
            {!report && error && <MlflowHealthErrorPanel error={error} />}
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <MlflowLinksCard
            links={buildMlflowLinks({ info, report, kubernetesTabPath })}
          />
        </Grid>
        <Grid item xs={12} md={6}>
          <MlflowSignInCard info={info} />
        </Grid>
        {report && (
          <>
            <Grid item xs={12} md={6}>
              <DatabaseDetailsCard check={database} />
            </Grid>
            <Grid item xs={12} md={6}>
              <ArtifactStoreDetailsCard check={artifactStore} />
            </Grid>
            <Grid item xs={12} md={6}>
              <ComplianceChecklistCard
                trackingServer={trackingServer?.details?.compliance}
                database={database?.details?.compliance}
                artifactStore={artifactStore?.details?.compliance}
              />
            </Grid>
            <Grid item xs={12} md={6}>
              <KubernetesRolloutCard check={findCheck(report, 'kubernetes')} />
            </Grid>
          </>
        )}
      </Grid>
    </section>
  );
}
