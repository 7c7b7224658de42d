import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemIcon from '@material-ui/core/ListItemIcon';
import ListItemText from '@material-ui/core/ListItemText';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import {
  MLFLOW_CHECK_IDS,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { useNow } from '../../hooks/useNow';
import { CHECK_LABELS } from '../checkLabels';
import { CheckStatusIcon } from '../CheckStatusIcon';
import { describeMlflowHealthError } from '../MlflowHealthErrorPanel';
import { OverallStatusBadge } from '../OverallStatusBadge';
import { formatCheckedAgo } from './formatCheckedAgo';

const useStyles = makeStyles(theme => ({
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: theme.spacing(1),
  },
  facts: {
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'flex-end',
  },
  checkIcon: {
    minWidth: theme.spacing(5),
  },
}));

/**
 * The overall status, one row per check, the MLflow version and the report's age. Shared by the
 * card and the tab; the caller owns loading and refreshing.
 */
export function MlflowHealthSummary(props: {
  report: MlflowHealthReport;
  /** A refresh that failed while this (older) report stayed on screen. */
  refreshError?: Error;
}) {
  const { report, refreshError } = props;
  const classes = useStyles();
  const now = useNow(1000);
  const version = report.checks.find(check => check.id === 'trackingServer')
    ?.details?.version;
  const checks = MLFLOW_CHECK_IDS.flatMap(id =>
    report.checks.filter(check => check.id === id),
  );

  return (
    <>
      <div className={classes.header}>
        <OverallStatusBadge status={report.overall} />
        <div className={classes.facts}>
          <Typography variant="body2">
            {version ? `MLflow ${version}` : 'MLflow version unknown'}
          </Typography>
          <Typography variant="body2" color="textSecondary">
            <time
              dateTime={report.checkedAt}
              title={new Date(report.checkedAt).toLocaleString()}
            >
              {formatCheckedAgo(report.checkedAt, now)}
            </time>
          </Typography>
        </div>
      </div>
      {refreshError && (
        <Alert severity="warning">
          Refresh failed: {describeMlflowHealthError(refreshError).title}.
          Showing the previous report.
        </Alert>
      )}
      <List dense aria-label="Health checks">
        {checks.map(check => (
          <ListItem key={check.id} disableGutters>
            <ListItemIcon className={classes.checkIcon}>
              <CheckStatusIcon status={check.status} />
            </ListItemIcon>
            <ListItemText
              primary={CHECK_LABELS[check.id]}
              secondary={check.summary}
              secondaryTypographyProps={{ noWrap: true, title: check.summary }}
            />
          </ListItem>
        ))}
      </List>
    </>
  );
}
