import { ReactNode } from 'react';
import { InfoCard } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { MlflowHealthCheck } from '@stateful-mlflow/plugin-mlflow-common';
import { CheckStatusIcon } from '../CheckStatusIcon';

const useStyles = makeStyles(theme => ({
  summary: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
    marginBottom: theme.spacing(1),
  },
}));

/**
 * A card about one check: its status and summary, then the details the caller renders; when the
 * check could not run at all, the summary says why and there are no details.
 */
export function CheckDetailsCard<TCheck extends MlflowHealthCheck>(props: {
  title: string;
  check?: TCheck;
  children: (details: NonNullable<TCheck['details']>) => ReactNode;
}) {
  const { title, check, children } = props;
  const classes = useStyles();
  return (
    <InfoCard title={title}>
      {check ? (
        <>
          <div className={classes.summary}>
            <CheckStatusIcon status={check.status} />
            <Typography variant="body2">{check.summary}</Typography>
          </div>
          {check.details ? (
            children(check.details as NonNullable<TCheck['details']>)
          ) : (
            <Typography variant="body2" color="textSecondary">
              No details: the check could not run.
            </Typography>
          )}
        </>
      ) : (
        <Typography variant="body2" color="textSecondary">
          The backend did not report this check.
        </Typography>
      )}
    </InfoCard>
  );
}
