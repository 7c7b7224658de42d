import { makeStyles, Theme, useTheme } from '@material-ui/core/styles';
import CheckCircleOutline from '@material-ui/icons/CheckCircleOutline';
import ErrorOutline from '@material-ui/icons/ErrorOutline';
import HelpOutline from '@material-ui/icons/HelpOutline';
import ReportProblemOutlined from '@material-ui/icons/ReportProblemOutlined';
import { MlflowOverallStatus } from '@stateful-mlflow/plugin-mlflow-common';

/** The word, palette colour and icon of each overall status. */
const OVERALL_LOOK = {
  healthy: { word: 'Healthy', color: 'ok', Icon: CheckCircleOutline },
  degraded: { word: 'Degraded', color: 'warning', Icon: ReportProblemOutlined },
  unhealthy: { word: 'Unhealthy', color: 'error', Icon: ErrorOutline },
  unknown: { word: 'Unknown', color: 'aborted', Icon: HelpOutline },
} as const;

const useStyles = makeStyles<Theme, { background: string }>(theme => ({
  badge: ({ background }) => ({
    display: 'inline-flex',
    alignItems: 'center',
    gap: theme.spacing(0.75),
    padding: theme.spacing(0.5, 1.5),
    borderRadius: 999,
    backgroundColor: background,
    color: theme.palette.getContrastText(background),
    fontWeight: theme.typography.fontWeightBold as number,
    fontSize: theme.typography.h6.fontSize,
    lineHeight: 1.4,
  }),
}));

/** The overall status of an instance as a coloured badge with its word, announced when it changes. */
export function OverallStatusBadge(props: { status: MlflowOverallStatus }) {
  const look = OVERALL_LOOK[props.status];
  const theme = useTheme();
  const classes = useStyles({ background: theme.palette.status[look.color] });
  return (
    <div role="status" aria-label="Overall status" aria-atomic="true">
      <span className={classes.badge} data-status={props.status}>
        <look.Icon fontSize="small" aria-hidden="true" />
        {look.word}
      </span>
    </div>
  );
}
