import { makeStyles, useTheme } from '@material-ui/core/styles';
import CheckCircleOutline from '@material-ui/icons/CheckCircleOutline';
import ErrorOutline from '@material-ui/icons/ErrorOutline';
import HelpOutline from '@material-ui/icons/HelpOutline';
import ReportProblemOutlined from '@material-ui/icons/ReportProblemOutlined';
import { MlflowOverallStatus } from '@stateful-mlflow/plugin-mlflow-common';

const LOOK = {
  healthy: { word: 'Healthy', color: 'ok', Icon: CheckCircleOutline },
  degraded: { word: 'Degraded', color: 'warning', Icon: ReportProblemOutlined },
  unhealthy: { word: 'Unhealthy', color: 'error', Icon: ErrorOutline },
  unknown: { word: 'Unknown', color: 'aborted', Icon: HelpOutline },
} as const;

const useStyles = makeStyles(theme => ({
  status: {
    display: 'inline-flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    fontWeight: theme.typography.fontWeightBold as number,
    whiteSpace: 'nowrap',
  },
}));

/** The overall status of one instance in a table cell: a coloured icon and its word. */
export function FleetStatus(props: { status: MlflowOverallStatus }) {
  const look = LOOK[props.status];
  const theme = useTheme();
  const classes = useStyles();
  return (
    <span className={classes.status} data-status={props.status}>
      <look.Icon
        fontSize="small"
        aria-hidden="true"
        style={{ color: theme.palette.status[look.color] }}
      />
      {look.word}
    </span>
  );
}
