import { CodeSnippet, InfoCard } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  MlflowEntityInfo,
  parseMlflowAuthMode,
} from '@stateful-mlflow/plugin-mlflow-common';

const MODE_LABELS = {
  'basic-auth': 'MLflow users (basic auth)',
  anonymous: 'None: anyone who reaches it can read and write',
} as const;

/** The authentication mode in words; "Not known" when the entity does not say. */
export function describeAuthMode(info: MlflowEntityInfo): string {
  const mode = parseMlflowAuthMode(info.authMode);
  return mode ? MODE_LABELS[mode] : 'Not known';
}

/** One line for the card: how the instance authenticates and where its admin Secret is. */
export function MlflowAuthenticationFacts(props: { info: MlflowEntityInfo }) {
  const { info } = props;
  return (
    <Typography variant="body2" aria-label="Authentication">
      Authentication: {describeAuthMode(info)}
      {info.authAdminSecret && ` · admin Secret ${info.authAdminSecret}`}
    </Typography>
  );
}

/**
 * How a data scientist signs in: the MLflow client reads its credentials from the environment;
 * the admin's come from the instance's Secret, for those who may read it. Names only, never a value.
 */
export function MlflowSignInCard(props: { info: MlflowEntityInfo }) {
  const { info } = props;
  const mode = parseMlflowAuthMode(info.authMode);
  const uri = `export MLFLOW_TRACKING_URI=${info.trackingUrl ?? ''}`;
  const namespace = info.kubernetesNamespace ?? '<namespace>';
  return (
    <InfoCard
      title="Sign in"
      subheader={`Authentication: ${describeAuthMode(info)}`}
    >
      {mode === 'anonymous' && (
        <Alert severity="warning">
          Authentication is off: anyone who reaches the tracking URL can read
          and change every experiment.
        </Alert>
      )}
      {mode === undefined && (
        <Typography variant="body2" paragraph>
          The instance does not say how it authenticates.
        </Typography>
      )}
      {mode === 'basic-auth' ? (
        <>
          <Typography variant="body2" paragraph>
            The MLflow client and UI ask for an MLflow user. Set your user and
            password in the environment before you log runs:
          </Typography>
          <CodeSnippet
            language="bash"
            text={[
              uri,
              'export MLFLOW_TRACKING_USERNAME=<your MLflow user>',
              'export MLFLOW_TRACKING_PASSWORD=<its password>',
            ].join('\n')}
            showCopyCodeButton
          />
          {info.authAdminSecret && (
            <>
              <Typography variant="body2" paragraph>
                Admin Secret: {info.authAdminSecret} (namespace {namespace}). If
                you may read it, the admin, who creates users and grants
                permissions, signs in with:
              </Typography>
              <CodeSnippet
                language="bash"
                text={[
                  `export MLFLOW_TRACKING_USERNAME=$(kubectl get secret ${info.authAdminSecret} -n ${namespace} -o jsonpath='{.data.admin-username}' | base64 -d)`,
                  `export MLFLOW_TRACKING_PASSWORD=$(kubectl get secret ${info.authAdminSecret} -n ${namespace} -o jsonpath='{.data.admin-password}' | base64 -d)`,
                ].join('\n')}
                showCopyCodeButton
              />
            </>
          )}
        </>
      ) : (
        <CodeSnippet language="bash" text={uri} showCopyCodeButton />
      )}
    </InfoCard>
  );
}
