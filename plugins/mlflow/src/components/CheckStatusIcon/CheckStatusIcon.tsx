import { useTheme } from '@material-ui/core/styles';
import CheckCircleOutline from '@material-ui/icons/CheckCircleOutline';
import ErrorOutline from '@material-ui/icons/ErrorOutline';
import HelpOutline from '@material-ui/icons/HelpOutline';
import ReportProblemOutlined from '@material-ui/icons/ReportProblemOutlined';
import { MlflowCheckStatus } from '@stateful-mlflow/plugin-mlflow-common';

/** The accessible name, palette colour and icon of each check status. */
const CHECK_LOOK = {
  ok: { word: 'OK', color: 'ok', Icon: CheckCircleOutline },
  warning: { word: 'Warning', color: 'warning', Icon: ReportProblemOutlined },
  error: { word: 'Error', color: 'error', Icon: ErrorOutline },
  unknown: { word: 'Unknown', color: 'aborted', Icon: HelpOutline },
} as const;

/** A coloured icon for the status of one check; screen readers read its word. */
export function CheckStatusIcon(props: { status: MlflowCheckStatus }) {
  const look = CHECK_LOOK[props.status];
  const theme = useTheme();
  return (
    <look.Icon
      titleAccess={look.word}
      style={{ color: theme.palette.status[look.color] }}
      data-status={props.status}
    />
  );
}
