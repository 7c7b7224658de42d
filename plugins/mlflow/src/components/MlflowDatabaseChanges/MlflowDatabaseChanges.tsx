import Typography from '@material-ui/core/Typography';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { findCheck } from '../findCheck';

/**
 * What RDS holds for the maintenance window and the instance's last snapshot, from the report's
 * database check. Nothing when the report says neither (a fleet's reports carry no snapshot).
 */
export function MlflowDatabaseChanges(props: { report: MlflowHealthReport }) {
  const details = findCheck(props.report, 'database')?.details;
  const pending = details?.pendingChanges ?? [];
  const snapshot = details?.lastSnapshot;
  if (pending.length === 0 && snapshot === undefined) {
    return null;
  }
  return (
    <section aria-label="Database changes">
      {pending.length > 0 && (
        <Typography variant="body2">
          Pending RDS change (next maintenance window):{' '}
          {pending
            .map(
              change =>
                `${change.setting} ${
                  change.current !== undefined ? `${change.current} → ` : ''
                }${change.pending}`,
            )
            .join('; ')}
        </Typography>
      )}
      {snapshot === null && (
        <Typography variant="body2" color="textSecondary">
          Last snapshot: none yet
        </Typography>
      )}
      {snapshot && (
        <Typography variant="body2" color="textSecondary">
          Last snapshot: {snapshot.id}
          {snapshot.createdAt && (
            <>
              {' '}
              (
              <time dateTime={snapshot.createdAt}>
                {new Date(snapshot.createdAt).toLocaleString()}
              </time>
              {snapshot.type ? `, ${snapshot.type}` : ''}
              {snapshot.status && snapshot.status !== 'available'
                ? `, ${snapshot.status}`
                : ''}
              )
            </>
          )}
        </Typography>
      )}
    </section>
  );
}
